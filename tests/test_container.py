"""The OCI image (``Containerfile``, ``scripts/build-image.sh``) and the one-machine cluster
(``scripts/cluster.sh``): built and run here, as CI does.

The image is built once per session with ``scripts/build-image.sh`` (docker, podman or buildah, whichever
works; the base is made with mmdebstrap when no registry answers). Everything is cached on the machine:
the base rootfs under ``/var/tmp/skymap-scanner-image-cache`` (``$SKYSCAN_IMAGE_CACHE``) and as an image,
the dependency layer per ``pyproject.toml``, so a re-run after a source change rebuilds the wheel and
re-warms numba only (docs/deploy.md "Build times"). Containers run with ``buildah run --isolation chroot``
(or ``docker run``) on the host's network. Tools missing: installed with apt-get when root, else skipped
with the reason. ``SKYSCAN_SKIP_CONTAINER=1`` skips the module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

import skymap_scanner
from skymap_scanner.event.io import write_event
from skymap_scanner.simulation.simulate import SimulationConfig, simulate_event

ROOT = Path(__file__).resolve().parents[1]
TAG = os.environ.get("SKYSCAN_TEST_IMAGE", "localhost/skymap-scanner:test")
BUILD_TIMEOUT_S = 1500
VERSION = re.search(r'__version__ = "(.*)"', (ROOT / "src/skymap_scanner/__version__.py").read_text()).group(1)

# the first test builds the image (session fixture): from scratch on a fresh machine that takes ~12 min
pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(BUILD_TIMEOUT_S + 300)]


def _install_tools() -> str | None:
    """None when buildah/podman + mmdebstrap (or a docker daemon) are usable, else why not."""
    def docker_works() -> bool:
        return shutil.which("docker") is not None and subprocess.run(
            ["docker", "info"], capture_output=True, timeout=30).returncode == 0

    if docker_works() or (shutil.which("buildah") and shutil.which("mmdebstrap")):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "no docker daemon and no buildah + mmdebstrap, and no root/apt-get to install them"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "buildah", "mmdebstrap"]):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        except subprocess.TimeoutExpired:
            return f"{' '.join(cmd)} timed out"
        if r.returncode != 0:
            return f"{' '.join(cmd)} failed: {r.stderr.strip()[-300:]}"
    return None if shutil.which("buildah") and shutil.which("mmdebstrap") else "buildah/mmdebstrap not installed"


@pytest.fixture(scope="session")
def image() -> str:
    if os.environ.get("SKYSCAN_SKIP_CONTAINER") == "1":
        pytest.skip("SKYSCAN_SKIP_CONTAINER=1")
    reason = _install_tools()
    if reason:
        pytest.skip(f"cannot build images here: {reason}")
    r = subprocess.run(["bash", str(ROOT / "scripts/build-image.sh"), "--tag", TAG], capture_output=True,
                       text=True, timeout=BUILD_TIMEOUT_S)
    assert r.returncode == 0, f"build-image.sh failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return TAG


def _tool() -> str:
    r = subprocess.run(["bash", str(ROOT / "scripts/build-image.sh"), "--print-tool"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def run_in_image(image: str, *args: str, mounts: dict[Path, str] | None = None, env: dict[str, str] | None = None,
                 shell: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``skymap-scanner ARGS`` (the image's entrypoint), or ``sh -c SHELL``, in a fresh container on the host
    network."""
    volumes = [a for host, inside in (mounts or {}).items() for a in ("-v", f"{host}:{inside}")]
    envs = [a for k, v in (env or {}).items() for a in ("--env", f"{k}={v}")]
    command = ["sh", "-c", shell] if shell else ["/usr/local/bin/skymap-scanner-entrypoint", *args]
    if _tool() == "docker":
        cmd = ["docker", "run", "--rm", "--network", "host", "--entrypoint", command[0], *volumes, *envs, image,
               *command[1:]]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    container = subprocess.run(["buildah", "from", "--quiet", image], capture_output=True, text=True,
                               check=True, timeout=120).stdout.strip()
    try:
        cmd = ["buildah", "run", "--isolation", "chroot", *volumes, *envs, container, "--", *command]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, timeout=120)


def _writable_by_image(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(path, 10001, 0)
    else:
        path.chmod(0o777)
    return path


def _labels(image: str) -> dict[str, str]:
    tool = _tool()
    cmd = [tool, "inspect", *([] if tool == "docker" else ["--type", "image"]), image]
    data = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout)
    if tool == "docker":
        return data[0]["Config"].get("Labels") or {}
    return data["OCIv1"]["config"].get("Labels") or {}  # buildah


def demo_event(folder: Path) -> Path:
    """The demo's simulated 100 TeV muon (``skymap-scanner demo``'s event) as an open-format file."""
    event = simulate_event(SimulationConfig(energy_gev=1e5, zenith=1.9, azimuth=4.0), seed=1)
    return write_event(event, folder / f"{event.metadata}.npz")


def test_version_labels_and_dummy_demo(image, tmp_path):
    r = run_in_image(image, "--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(VERSION)
    assert _labels(image).get("org.opencontainers.image.version") == VERSION
    out = _writable_by_image(tmp_path / "data")
    # with the plots the server makes at the end (matplotlib, healpy and skyreader in the image)
    r = run_in_image(image, "demo", "--reco-algo", "dummy", "--nsides", "8:0", "--workers", "2",
                     "--output-dir", "/data/demo", mounts={out: "/data"})
    assert r.returncode == 0, r.stdout + r.stderr
    manifest = json.loads((out / "demo/scan-manifest.json").read_text())
    assert manifest["progress"]["tallies"]
    assert "Best fit: RA" in r.stdout  # the circular-style summary
    assert list((out / "demo").glob("*_8.npz"))
    assert list((out / "demo").glob("*.png")), sorted(p.name for p in (out / "demo").iterdir())


WARM_CHECK = ("demo --reco-algo mpe_pandel_pointed --pointing-radius 2 --nsides 8:0 --workers 1 --no-plot "
              "--output-dir /data/{name}")


def _assert_loaded_from_cache(r: subprocess.CompletedProcess) -> None:
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    assert "[cache] data loaded from" in log, log[-3000:]
    saved = [line for line in log.splitlines() if "[cache] data saved" in line]
    assert not saved, "compiled at run time:\n" + "\n".join(saved[:20])


def test_numba_cache_is_warm(image, tmp_path):
    """An mpe_pandel fit in the image loads every kernel from the build's cache (nothing compiled): as the
    image's user, and with the cache folder read-only (an Apptainer image), which the entrypoint handles."""
    out = _writable_by_image(tmp_path / "data")
    env = {"NUMBA_DEBUG_CACHE": "1"}
    _assert_loaded_from_cache(run_in_image(image, *WARM_CHECK.format(name="rw").split(), mounts={out: "/data"},
                                           env=env))
    read_only = ('chmod -R a-w "$NUMBA_CACHE_DIR" "$MPLCONFIGDIR" && '
                 f"exec /usr/local/bin/skymap-scanner-entrypoint {WARM_CHECK.format(name='ro')}")
    _assert_loaded_from_cache(run_in_image(image, shell=read_only, mounts={out: "/data"}, env=env))


def test_server_and_two_clients_from_the_image_match_an_embedded_scan(image, rabbitmq_url, tmp_path):
    event_file = demo_event(tmp_path)
    scan_id = f"container-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "cluster"
    r = subprocess.run(["bash", str(ROOT / "scripts/cluster.sh"), str(event_file), "--clients", "2",
                        "--reco-algo", "dummy", "--nsides", "8:0", "--broker", rabbitmq_url, "--scan-id", scan_id,
                        "--image", image, "--output", str(out), "--", "--no-plot"],
                       capture_output=True, text=True, timeout=600)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted((out / "logs").glob("*.log")))
    assert r.returncode == 0, f"{r.stderr[-3000:]}\n{logs}"
    for i in (1, 2):
        assert "over" in (out / f"logs/client-{i}.log").read_text(), logs
    files = list(out.glob("*_8.npz"))
    assert len(files) == 1, sorted(p.name for p in out.iterdir())
    from skyreader import SkyScanResult

    cluster = SkyScanResult.read_npz(files[0]).result["nside-8"]
    embedded = skymap_scanner.scan(event_file, "dummy", "8:0", transport="inprocess").skyscan.result["nside-8"]
    assert len(cluster) == len(embedded) == 768
    cluster = cluster[np.argsort(cluster["index"])]
    embedded = embedded[np.argsort(embedded["index"])]
    np.testing.assert_array_equal(cluster["index"], embedded["index"])
    np.testing.assert_allclose(cluster["llh"], embedded["llh"], rtol=0, atol=1e-9)
