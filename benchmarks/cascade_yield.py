"""Normalisation of the reconstruction's cascade response against the simulator (issue 16, item 1).

Usage:
  python benchmarks/cascade_yield.py [--n-events 30] [--energy 1e5] [--seed 1] [--output FILE.json]

Procedure (docs/physics.md §17.4): for each of three vertices (clear ice below the dust layer, the
dust layer, the upper detector; each VERTEX_OFFSET_M from the string nearest the centre) simulate
``--n-events`` electromagnetic cascades (``interaction="cascade"``, inelasticity 0, so one EM
cascade of the full energy; isotropic directions; no noise) with ``skymap_scanner.simulation``; sum
the pulse charge per DOM. Evaluate the model
(``physics.light_yield.cascade_dom_mean_pe``, with ``PE_NORMALISATION`` divided out) for every event's
true vertex, direction and energy and the detector's DOM efficiencies. The one normalisation is the
Poisson maximum-likelihood scale of the model to all charges, K = Σ simulated / Σ model. Reported:
K, and per vertex and distance bin the simulated and the K-scaled model charge per event and their
ratio (a table on stdout, everything in JSON). Simulation only, no fits: about 15 s per 30 events.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from skymap_scanner.event.model import dom_key
from skymap_scanner.physics import light_yield
from skymap_scanner.physics.constants import FIRST_DEEPCORE_STRING
from skymap_scanner.simulation import SimulationConfig, icecube86_like, simulate_event
from skymap_scanner.sky import direction_vector

#: vertex depths [m, detector z]: clear ice below the dust layer, the dust layer, the upper detector
VERTEX_Z_M = {"clear_deep": -300.0, "dust": -100.0, "upper": 250.0}
#: the vertices lie this far [m] (in x) from the string nearest the detector centre
VERTEX_OFFSET_M = 25.0
#: distance bins [m] of the residual table
DISTANCE_EDGES_M = (0.0, 30.0, 40.0, 60.0, 80.0, 100.0, 125.0, 150.0, 200.0, 300.0, 500.0)
DEFAULT_OUTPUT = Path(__file__).parent / "results" / "cascade_yield.json"


def vertex_near_string(geometry, z_m: float) -> np.ndarray:
    """VERTEX_OFFSET_M in x from the IceCube (non-DeepCore) string nearest the centre, at z [m]."""
    strings = np.unique(geometry.string[geometry.string < FIRST_DEEPCORE_STRING])
    xy = np.array([[geometry.x[geometry.string == s][0], geometry.y[geometry.string == s][0]] for s in strings])
    best = xy[int(np.argmin(np.hypot(xy[:, 0], xy[:, 1])))]
    return np.array([best[0] + VERTEX_OFFSET_M, best[1], z_m])


def simulate_vertex(vertex: np.ndarray, energy_gev: float, n_events: int, seed: int,
                    detector) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(simulated charge, raw model charge, distance) per DOM and event: arrays (n_events, n_doms)."""
    geometry = detector.geometry
    keys = geometry.keys()
    config = SimulationConfig(energy_gev=energy_gev, interaction="cascade", vertex=tuple(vertex),
                              inelasticity=0.0, noise=False)
    sim = np.zeros((n_events, len(keys)))
    model = np.zeros((n_events, len(keys)))
    for i in range(n_events):
        event = simulate_event(config, seed, i, detector=detector)
        idx = np.searchsorted(keys, dom_key(event.pulses.string, event.pulses.om))
        np.add.at(sim[i], idx, event.pulses.charge)
        truth = event.truth["em_cascade"]
        direction = direction_vector(truth.zenith, truth.azimuth)
        model[i] = (light_yield.cascade_dom_mean_pe(detector.positions, np.array([truth.x, truth.y, truth.z]),
                                                    direction, detector.efficiency)
                    * truth.energy / light_yield.PE_NORMALISATION)
    distance = np.linalg.norm(detector.positions - vertex, axis=1)
    return sim, model, distance


def residual_table(sim: np.ndarray, model: np.ndarray, distance: np.ndarray, k: float) -> list[dict]:
    """Per distance bin: DOMs, simulated and K·model charge per event [PE], ratio simulated/model."""
    rows = []
    for lo, hi in zip(DISTANCE_EDGES_M[:-1], DISTANCE_EDGES_M[1:], strict=True):
        sel = (distance >= lo) & (distance < hi)
        s = float(sim[:, sel].sum(axis=1).mean()) if sel.any() else 0.0
        m = float(k * model[:, sel].sum(axis=1).mean()) if sel.any() else 0.0
        rows.append({"lo_m": lo, "hi_m": hi, "n_doms": int(sel.sum()), "sim_pe": s, "model_pe": m,
                     "ratio": s / m if m > 0 else None})
    return rows


def run(n_events: int, energy_gev: float, seed: int) -> dict:
    detector = icecube86_like()
    per_vertex = {}
    t0 = time.perf_counter()
    for name, z in VERTEX_Z_M.items():
        vertex = vertex_near_string(detector.geometry, z)
        sim, model, distance = simulate_vertex(vertex, energy_gev, n_events, seed, detector)
        per_vertex[name] = (vertex, sim, model, distance)
    total_sim = sum(float(v[1].sum()) for v in per_vertex.values())
    total_model = sum(float(v[2].sum()) for v in per_vertex.values())
    k = total_sim / total_model
    out: dict = {"procedure": "benchmarks/cascade_yield.py", "energy_gev": energy_gev, "n_events_per_vertex": n_events,
                 "seed": seed, "normalisation": k, "normalisation_in_code": light_yield.PE_NORMALISATION,
                 "wall_s": time.perf_counter() - t0, "vertices": {}}
    for name, (vertex, sim, model, distance) in per_vertex.items():
        tot_s, tot_m = sim.sum(axis=1), k * model.sum(axis=1)
        out["vertices"][name] = {
            "vertex_m": vertex.tolist(),
            "sim_total_pe_mean": float(tot_s.mean()), "sim_total_pe_std": float(tot_s.std(ddof=1)),
            "model_total_pe_mean": float(tot_m.mean()),
            "total_ratio_per_event": {"median": float(np.median(tot_s / tot_m)), "min": float(np.min(tot_s / tot_m)),
                                      "max": float(np.max(tot_s / tot_m))},
            "own_normalisation": float(sim.sum() / model.sum()),
            "distance_bins": residual_table(sim, model, distance, k),
        }
    return out


def print_table(result: dict) -> None:
    print(f"K = {result['normalisation']:.4f} (Σ simulated / Σ model; in code: {result['normalisation_in_code']})"
          f"  {result['n_events_per_vertex']} events per vertex, E = {result['energy_gev']:g} GeV,"
          f" {result['wall_s']:.0f} s")
    for name, v in result["vertices"].items():
        x, y, z = v["vertex_m"]
        print(f"\n{name}: vertex ({x:.0f}, {y:.0f}, {z:.0f}) m; total: simulated {v['sim_total_pe_mean']:.0f}"
              f" ± {v['sim_total_pe_std']:.0f} PE, model {v['model_total_pe_mean']:.0f} PE;"
              f" own K {v['own_normalisation']:.3f}")
        print("| distance [m] | DOMs | simulated PE/event | model PE/event | sim/model |")
        print("|---|---|---|---|---|")
        for r in v["distance_bins"]:
            ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}"
            print(f"| {r['lo_m']:.0f}–{r['hi_m']:.0f} | {r['n_doms']} | {r['sim_pe']:.3g} | {r['model_pe']:.3g}"
                  f" | {ratio} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-events", type=int, default=30)
    parser.add_argument("--energy", type=float, default=1e5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    result = run(args.n_events, args.energy, args.seed)
    print_table(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
