"""``skymap-scanner``: thin command-line layer over the library.

Errors the user can fix (bad flags, unreadable files, unknown algorithm) end in one line on stderr.
Exit codes: 0 complete, 1 error, 2 usage, 3 scan completed with failed pixels (a warning names them),
130 interrupted (Ctrl-C; the scan resumes when the same command is run again).
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Any

import click

from skymap_scanner.__version__ import __version__
from skymap_scanner.event.model import EventError
from skymap_scanner.settings import CLI_OUTPUT_DIR, Settings, SettingsError, load_settings

LOGGER = logging.getLogger("skymap_scanner")
#: exit codes besides 0 (complete), 1 (error) and 2 (usage)
EXIT_FAILED_PIXELS = 3
EXIT_INTERRUPTED = 130
#: optional dependencies by the module a command imports, and the extra that installs them
_EXTRAS = {"jsonschema": "astro", "referencing": "astro", "ligo": "astro", "aio_pika": "broker", "nats": "broker",
           "numba_cuda": "gpu"}


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as e:
        raise click.UsageError(str(e)) from None


def _reco_options(items: tuple[str, ...]) -> dict[str, str] | None:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--reco-option {item!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out or None


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skymap-scanner")
def cli() -> None:
    """Scan the sky for the direction of an IceCube event (no IceTray needed)."""


#: the demo's reco (its default contours: the calibration the reco ships)
DEMO_RECO = "mpe_pandel"
_CONTOURS_HELP = ("contour policy of areas, map, notice and plots: wilks, a shipped calibration (e.g. "
                  "mpe_pandel_100TeV) or a JSON file from benchmarks/physics.py (default: the reco's "
                  "calibration, else wilks)")
_SMOOTH_HELP = "Gaussian smoothing σ [deg] of the probability map (default 0: none; IceCube uses 0.2)"


def product_options(f: Any) -> Any:
    """--contours and --smooth (scan, server, demo, plot, report)."""
    f = click.option("--smooth", type=float, help=_SMOOTH_HELP)(f)
    return click.option("--contours", metavar="wilks|NAME|FILE", help=_CONTOURS_HELP)(f)


def scan_options(f: Any) -> Any:
    options = [
        click.option("--reco-algo", help="reconstruction algorithm (module in skymap_scanner.recos)"),
        click.option("--nsides", help='nside progression "N:EXT ...", default "8:0 64:12 512:24"'),
        click.option("--output-dir", "-o", type=click.Path(path_type=Path),
                     help=f"where results go (default: {CLI_OUTPUT_DIR})"),
        click.option("--workers", "-w", type=int, help="local worker processes (default: CPU count)"),
        click.option("--batch-size", type=int, help="pixel variations per task message"),
        click.option("--predictive-scanning-threshold", type=float,
                     help="start the next nside when this fraction is done (0.1-1.0)"),
        click.option("--reco-option", "reco_option", multiple=True, metavar="KEY=VALUE",
                     help="algorithm option (repeatable)"),
        click.option("--task-time-limit", type=float, help="seconds before a worker's task is killed"),
        click.option("--idle-timeout", type=float, help="seconds without results before giving up"),
        click.option("--pointing-radius", type=float, help="pointed scans: radius in degrees (3.5)"),
        click.option("--refine-seed/--no-refine-seed", default=None,
                     help="also refine around the event's direction seed (online fit) when the coarse "
                          "minimum lies outside its region (default: on)"),
        click.option("--plot/--no-plot", default=None, help="make plots at the end (default: on)"),
        click.option("--gcn-schema", type=click.Path(path_type=Path, file_okay=False),
                     help="copy of nasa-gcn/gcn-schema: validate the GCN notice against it"),
        click.option("--seed", type=int, default=None, help="seed of the pixel send order"),
        click.option("--scan-id", help="scan id (default: hash of event and settings; same id resumes)"),
        click.option("--checkpoint-interval", type=float, help="seconds between checkpoints (0: none)"),
        click.option("--report-url", help="REST base URL for progress/results (SKYSCAN_SKYDRIVER_ADDRESS)"),
    ]
    for option in reversed(options):
        f = option(f)
    return product_options(f)


def _run_scan(event: Any, reco_algo: str | None, nsides: str | None, output_dir: Path | None,
              workers: int | None, batch_size: int | None, predictive_scanning_threshold: float | None,
              reco_option: tuple[str, ...], task_time_limit: float | None, idle_timeout: float | None,
              pointing_radius: float | None, refine_seed: bool | None, plot: bool | None, seed: int | None,
              scan_id: str | None, checkpoint_interval: float | None, report_url: str | None,
              gcn_schema: Path | None, contours: str | None, smooth: float | None,
              transport: str | None = None, scan_secret_file: Path | None = None) -> None:
    """Scan ``event`` through the library; the command line always resumes a checkpoint of the same scan."""
    from skymap_scanner.api import scan
    from skymap_scanner.recos import RecoError
    from skymap_scanner.server.checkpoint import CheckpointError
    from skymap_scanner.server.errors import ScanError
    from skymap_scanner.server.reporting import ReportError
    from skymap_scanner.transport.base import TransportError

    s = _settings(reco_algo=reco_algo, nsides=nsides, workers=workers, batch_size=batch_size,
                  predictive_scanning_threshold=predictive_scanning_threshold,
                  reco_options=_reco_options(reco_option), task_time_limit_s=task_time_limit,
                  idle_timeout_s=idle_timeout, pointing_radius_deg=pointing_radius, refine_seed=refine_seed,
                  plot=plot, contours=contours, smooth_deg=smooth, gcn_schema=gcn_schema, shuffle_seed=seed,
                  scan_id=scan_id, checkpoint_interval_s=checkpoint_interval, skydriver_address=report_url,
                  transport=transport, scan_secret_file=scan_secret_file)
    out = output_dir or s.output_dir or CLI_OUTPUT_DIR
    _setup_logging(s.log)
    try:
        result = scan(event, settings=s, output_dir=out, resume=True)
    except (RecoError, SettingsError) as e:
        raise click.UsageError(str(e)) from None
    except (ScanError, TransportError, CheckpointError, ReportError) as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt as e:
        click.echo(f"{str(e) or 'interrupted'}\nre-run the same command (same settings and --output-dir {out}) "
                   "to resume", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    if result.resumed_variations:
        click.echo(f"resumed scan {result.scan_id} from its checkpoint in {out}: "
                   f"{result.resumed_variations} variation(s) were not fitted again "
                   "(another --output-dir or --scan-id starts afresh)")
    from skymap_scanner.postprocess.products import NoticeError

    try:
        products = result.write_products(out, s.gcn_schema)
    except NoticeError as e:
        raise click.ClickException(f"GCN notice: {e}") from None
    plots = result.plot(out) if s.plot else []
    _print_summary(result, {**result.files, **products, **{f"plot ({p.stem.rsplit('_', 1)[-1]})": p for p in plots}})
    if result.failed_pixels:
        failed = sorted(result.failed_pixels, key=lambda f: (f.nside, f.pixel_id))
        listed = ", ".join(f"{f.nside}:{f.pixel_id}" for f in failed[:20]) + (" …" if len(failed) > 20 else "")
        click.echo(f"warning: {len(failed)} pixel(s) failed in every variation and are missing from the result "
                   f"(nside:pixel {listed}; reasons in {result.files.get('manifest', 'the manifest')})", err=True)
        raise click.exceptions.Exit(EXIT_FAILED_PIXELS)


def _print_summary(result: Any, files: dict[str, Path]) -> None:
    m = result.manifest["progress"]
    tallies = m["tallies"]
    click.echo("\n".join(f"{kind}: {path}" for kind, path in files.items()))
    per_nside = ", ".join(f"nside {n}: {t['pixels_in_result']}" for n, t in tallies["nsides"].items())
    click.echo(f"pixels: {per_nside}; failed pixels: {tallies['overall']['failed_pixels']}, "
               f"failed variations: {tallies['overall']['failed_variations']}; {m['runtime']['elapsed_s']:.1f} s")
    click.echo(result.products.circular)
    r50 = result.products.summary.regions["50%"]
    click.echo(f"50% region: RA +{r50.ra_plus_deg:.2f} / -{abs(r50.ra_minus_deg):.2f} deg, "
               f"Dec +{r50.dec_plus_deg:.2f} / -{abs(r50.dec_minus_deg):.2f} deg")


@cli.command()
@click.argument("event_file", type=click.Path(path_type=Path))
@click.option("--gcd", type=click.Path(path_type=Path), help="IceCube GCD file for DOM positions")
@click.option("--geometry", type=click.Path(path_type=Path), help="geometry table (CSV)")
@scan_options
def scan(event_file: Path, gcd: Path | None, geometry: Path | None, **kwargs: Any) -> None:
    """Scan EVENT_FILE with local worker processes (no broker needed)."""
    from skymap_scanner.io.events import load_event

    try:
        event = load_event(event_file, gcd=gcd, geometry_table=geometry)
    except (EventError, OSError) as e:
        raise click.ClickException(str(e)) from None
    _run_scan(event, **kwargs)


@cli.command()
@scan_options
@click.option("--event-seed", type=int, default=1, show_default=True, help="seed of the simulated event")
def demo(event_seed: int, **kwargs: Any) -> None:
    """Simulate a 100 TeV muon track, scan it (track reco unless --reco-algo says otherwise), write its
    alert products and plot it, with the reco's default contour calibration."""
    from skymap_scanner.event.io import write_event
    from skymap_scanner.simulation.simulate import SimulationConfig, describe, simulate_event

    event = simulate_event(SimulationConfig(energy_gev=1e5, zenith=1.9, azimuth=4.0), seed=event_seed)
    kwargs["reco_algo"] = kwargs["reco_algo"] or DEMO_RECO
    out = kwargs["output_dir"] or Path("skyscan-demo")
    kwargs["output_dir"] = out
    click.echo(f"demo event: {write_event(event, out / f'{event.metadata}.npz')}\n  {describe(event)}")
    _run_scan(event, **kwargs)


def _vertex(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[float, float, float] | None:
    if value is None:
        return None
    try:
        x, y, z = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected X,Y,Z in metres, got {value!r}") from None
    return x, y, z


@cli.command()
@click.option("--interaction", type=click.Choice(["muon", "cascade", "nc", "starting", "tau"]), default="muon",
              show_default=True,
              help="muon: through-going muon; cascade: nu_e CC; nc: neutral current; starting: nu_mu CC "
                   "(hadronic cascade + muon); tau: nu_tau CC (cascade + tau + decay)")
@click.option("--energy", type=float, default=1e5, show_default=True,
              help="muon energy [GeV] where it enters the simulation volume (starting: at creation); "
                   "neutrino energy for the other interactions")
@click.option("--vertex", callback=_vertex, metavar="X,Y,Z",
              help="interaction vertex [m] (neutrino interactions; default: random, contained or partly)")
@click.option("--inelasticity", type=click.FloatRange(0.0, 1.0),
              help="fix the inelasticity y (neutrino interactions; default: drawn)")
@click.option("--zenith", type=float, help="zenith [deg] the muon comes from (default: isotropic)")
@click.option("--azimuth", type=float, help="azimuth [deg] (default: isotropic)")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed (also the run id)")
@click.option("--n-events", type=click.IntRange(min=1), default=1, show_default=True, help="events to simulate")
@click.option("--starting", is_flag=True,
              help="(interaction muon) create the muon inside the detector, with a hadronic cascade")
@click.option("--mjd", type=float, help="event time (MJD, UTC); default: random in 2024")
@click.option("--geometry", type=click.Path(path_type=Path), help="geometry table (CSV) instead of the generator")
@click.option("--ice", type=click.Choice(["layered", "homogeneous"]), default="layered", show_default=True,
              help="SPICE-3 layers with the dust layer, or l_e = 25 m, l_a = 110 m everywhere")
@click.option("--noise/--no-noise", default=True, show_default=True, help="dark noise (560/780 Hz per DOM)")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="event file (.npz or .json); with --n-events > 1 a folder")
def simulate(interaction: str, energy: float, vertex: tuple[float, float, float] | None,
             inelasticity: float | None, zenith: float | None, azimuth: float | None, seed: int, n_events: int,
             starting: bool, mjd: float | None, geometry: Path | None, ice: str, noise: bool,
             output: Path) -> None:
    """Simulate IceCube-like muon events or neutrino interactions with truth and write them in the open
    event format."""
    import math

    from skymap_scanner.simulation import detector_from_table, homogeneous, icecube86_like, spice3_layered
    from skymap_scanner.simulation.simulate import SimulationConfig, describe, write_simulated_events

    try:
        config = SimulationConfig(energy_gev=energy, zenith=None if zenith is None else math.radians(zenith),
                                  azimuth=None if azimuth is None else math.radians(azimuth),
                                  starting=starting, mjd=mjd, noise=noise, interaction=interaction,
                                  vertex=vertex, inelasticity=inelasticity)
        det = detector_from_table(geometry) if geometry else icecube86_like()
        ice_model = spice3_layered() if ice == "layered" else homogeneous(25.0, 110.0)
        for event in write_simulated_events(config, seed, n_events, output, det, ice_model):
            click.echo(describe(event))
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    except OSError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"written: {output}")


_BROKER_HELP = "broker URL: amqp[s]://user@host (RabbitMQ) or nats://, tls://host (NATS); or SKYSCAN_BROKER_URL"


@cli.command()
@click.argument("event_file", type=click.Path(path_type=Path))
@click.option("--broker", help=_BROKER_HELP)
@click.option("--gcd", type=click.Path(path_type=Path), help="IceCube GCD file for DOM positions")
@click.option("--geometry", type=click.Path(path_type=Path), help="geometry table (CSV)")
@click.option("--scan-secret-file", type=click.Path(path_type=Path),
              help="the scan's secret (or SKYSCAN_SCAN_SECRET); default: generated as OUTPUT_DIR/scan-secret")
@scan_options
def server(event_file: Path, broker: str | None, gcd: Path | None, geometry: Path | None,
           scan_secret_file: Path | None, **kwargs: Any) -> None:
    """Scan EVENT_FILE with `skymap-scanner client` processes that take tasks from a message broker."""
    from skymap_scanner.io.events import load_event

    try:
        event = load_event(event_file, gcd=gcd, geometry_table=geometry)
    except (EventError, OSError) as e:
        raise click.ClickException(str(e)) from None
    s = _settings(broker_url=broker, scan_id=kwargs["scan_id"])
    if not s.broker_url or not s.scan_id:
        raise click.UsageError("the server needs --broker URL (or SKYSCAN_BROKER_URL) and --scan-id ID "
                               "(or SKYSCAN_SCAN_ID): clients find the scan by them")
    _run_scan(event, transport=s.broker_url, scan_secret_file=scan_secret_file, **kwargs)


@cli.command()
@click.option("--broker", help=_BROKER_HELP)
@click.option("--scan-id", help="the scan to work for, as given to the server (or SKYSCAN_SCAN_ID)")
@click.option("--task-time-limit", type=float, help="seconds before a task's fit is killed (a failed attempt)")
@click.option("--max-attempts", type=int, help="attempts per task before its pixels are reported failed (3)")
@click.option("--startup-timeout", type=float, help="seconds to wait for the scan to start (600)")
@click.option("--shutdown-grace", type=float, help="after SIGTERM: seconds to finish the current task (30)")
@click.option("--name", help="client name in logs and results (default: host:pid)")
@click.option("--scan-secret-file", type=click.Path(path_type=Path),
              help="the scan's secret, as the server has it (or SKYSCAN_SCAN_SECRET)")
def client(broker: str | None, scan_id: str | None, task_time_limit: float | None, max_attempts: int | None,
           startup_timeout: float | None, shutdown_grace: float | None, name: str | None,
           scan_secret_file: Path | None) -> None:
    """Fit the tasks of scan SCAN_ID from a message broker until the scan ends (SIGTERM stops cleanly)."""
    import asyncio

    from skymap_scanner.client.loop import ClientOptions, default_name, serve_scan
    from skymap_scanner.transport import create_client_session

    s = _settings(broker_url=broker, scan_id=scan_id, task_time_limit_s=task_time_limit, max_attempts=max_attempts,
                  client_startup_timeout_s=startup_timeout, client_shutdown_grace_s=shutdown_grace,
                  scan_secret_file=scan_secret_file)
    _setup_logging(s.log)
    if not s.broker_url or not s.scan_id:
        raise click.UsageError("the client needs --broker URL and --scan-id ID "
                               "(or SKYSCAN_BROKER_URL, SKYSCAN_SCAN_ID)")
    options = ClientOptions(name=name or default_name(), task_time_limit_s=s.task_time_limit_s,
                            max_attempts=s.max_attempts, startup_timeout_s=s.client_startup_timeout_s,
                            shutdown_grace_s=s.client_shutdown_grace_s)
    try:
        key = s.scan_key(server=False)
        stats = asyncio.run(serve_scan(create_client_session(s.broker_config(), s.scan_id, key), options))
    except KeyboardInterrupt:
        click.echo(f"client {options.name}: interrupted; the broker re-delivers its unfinished task", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except Exception as e:  # noqa: BLE001 - a worker ends with one line and exit code 1
        LOGGER.debug("client failed", exc_info=True)
        raise click.ClickException(f"scan {s.scan_id}: {type(e).__name__}: {e}") from None
    click.echo(f"client {options.name}: scan {s.scan_id} over; " + ", ".join(f"{k} {v}" for k, v in stats.items()))


def _result_and_policy(result_file: Path, contours: str | None) -> tuple[Any, Any, Any]:
    """The result of ``result_file``, its scan context (manifest beside it) and the contour policy:
    ``--contours``, else the one its scan recorded, else the recorded reco's default, else Wilks."""
    from skymap_scanner.postprocess.calibration import choose_policy
    from skymap_scanner.postprocess.plots import read_result
    from skymap_scanner.postprocess.products import scan_context
    from skymap_scanner.recos import RecoError, get_reco_class

    try:
        result = read_result(result_file)
        context = scan_context(result_file, result)
    except (OSError, ValueError, KeyError) as e:
        raise click.ClickException(f"{result_file}: {e}") from None
    try:
        default = get_reco_class(context.reco).default_calibration if context.reco else None
    except RecoError:
        default = None
    try:
        policy = choose_policy(contours or context.contours, context.reco or "an unknown reco", default,
                               context.charge_pe)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--contours") from None
    return result, context, policy


def _radec(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        ra, dec = (float(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected RA,DEC in degrees", param_hint="--center") from None
    return ra, dec


@cli.command()
@click.argument("result_file", type=click.Path(path_type=Path))
@click.option("--output-dir", "-o", type=click.Path(path_type=Path), help="default: next to the result")
@product_options
@click.option("--center", metavar="RA,DEC", help="zoom centre [deg] (default: the best fit)")
@click.option("--radius", type=click.FloatRange(min=0, min_open=True),
              help="zoom radius [deg] (default: the 90 %% region with a margin)")
@click.option("--dpi", type=click.IntRange(min=20, max=1200), default=150, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["png", "pdf"]), default="png", show_default=True)
def plot(result_file: Path, output_dir: Path | None, contours: str | None, smooth: float | None,
         center: str | None, radius: float | None, dpi: int, fmt: str) -> None:
    """Full-sky and zoomed plots of RESULT_FILE's probability map (existing files are never overwritten)."""
    from skymap_scanner.postprocess.plots import make_plots

    _setup_logging("WARNING")
    result, context, policy = _result_and_policy(result_file, contours)
    files, areas = make_plots(result, output_dir or result_file.parent, policy, smooth_deg=smooth,
                              online_fit_deg=context.online_fit_deg, truth_deg=context.truth_deg,
                              center_deg=_radec(center), radius_deg=radius, dpi=dpi, fmt=fmt)
    for f in files:
        click.echo(f"plot: {f}")
    click.echo(f"credible areas ({policy.name}): " + ", ".join(f"{k} {v:.2f} deg²" for k, v in areas.items()))


@cli.command()
@click.argument("result_file", type=click.Path(path_type=Path))
@product_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "gcn"]), default="text", show_default=True,
              help="circular-style lines, the localisation summary (JSON) or the GCN notice (JSON)")
@click.option("--catalog", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV with columns name, ra, dec [deg]: list its sources inside the 90 %% region")
@click.option("--gcn-schema", type=click.Path(path_type=Path, file_okay=False),
              help="copy of nasa-gcn/gcn-schema: validate the notice against it")
@click.option("--output-dir", "-o", type=click.Path(path_type=Path),
              help="also write the map (FITS), notice and circular text there")
def report(result_file: Path, contours: str | None, smooth: float | None, fmt: str, catalog: Path | None,
           gcn_schema: Path | None, output_dir: Path | None) -> None:
    """Localisation of RESULT_FILE: circular lines, summary JSON or GCN notice on stdout."""
    import json

    from skymap_scanner.postprocess.localization import read_catalogue
    from skymap_scanner.postprocess.products import NoticeError, alert_products

    _setup_logging("WARNING")
    result, context, policy = _result_and_policy(result_file, contours)
    try:
        sources = read_catalogue(catalog) if catalog else None
    except (OSError, KeyError, ValueError) as e:
        raise click.ClickException(f"{catalog}: not a catalogue CSV with name, ra, dec ({e})") from None
    products = alert_products(result, policy, smooth, context.online_fit_deg, sources,
                              deposited_energy=context.deposited_energy)
    try:
        if gcn_schema:
            products.validate(gcn_schema)
    except NoticeError as e:
        raise click.ClickException(f"GCN notice: {e}") from None
    files = products.write(output_dir) if output_dir else {}
    outputs = {"text": lambda: products.circular, "json": lambda: json.dumps(products.as_dict(), indent=2),
               "gcn": lambda: json.dumps(products.notice, indent=2)}
    click.echo(outputs[fmt]())
    for kind, path in files.items():
        click.echo(f"{kind}: {path}", err=True)


@cli.command("inspect")
@click.argument("event_file", type=click.Path(path_type=Path))
@click.option("--gcd", type=click.Path(path_type=Path), help="IceCube GCD file, or a folder of baseline GCD files")
@click.option("--geometry", type=click.Path(path_type=Path), help="geometry table (CSV)")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def inspect_command(event_file: Path, gcd: Path | None, geometry: Path | None, as_json: bool) -> None:
    """Decode EVENT_FILE: identity, time, pulse counts (split and cleaned), online fits, geometry."""
    import json

    from skymap_scanner.io.inspect import format_report, inspect_event

    if gcd is not None and geometry is not None:
        raise click.UsageError("--gcd and --geometry exclude each other")
    try:
        report = inspect_event(event_file, gcd=gcd, geometry_table=geometry)
    except (EventError, OSError) as e:
        raise click.ClickException(" ".join(str(e).split())) from None
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))


_NSIDE_STEP = re.compile(r"^\d+:\d+$")


def _join_nsides(argv: list[str]) -> list[str]:
    """Let ``--nsides 8:0 64:12 512:24`` (several tokens) reach click as one value."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        out.append(argv[i])
        if argv[i] == "--nsides":
            steps = []
            while i + 1 < len(argv) and _NSIDE_STEP.match(argv[i + 1]):
                steps.append(argv[i + 1])
                i += 1
            if steps:
                out.append(" ".join(steps))
        i += 1
    return out


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = _join_nsides(sys.argv[1:] if argv is None else list(argv))
    try:
        cli.main(args=args, prog_name="skymap-scanner")
    except ModuleNotFoundError as e:
        if not e.name or e.name.startswith("skymap_scanner"):
            raise
        top = e.name.split(".")[0]
        extra = f"pip install 'skymap-scanner[{_EXTRAS[top]}]'" if top in _EXTRAS else f"pip install {top}"
        click.echo(f"Error: this needs the optional module {e.name}, which is not installed: {extra}", err=True)
        sys.exit(1)
