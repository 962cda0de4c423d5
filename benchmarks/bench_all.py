"""pumpsim's speed in one run: peers, the bare NumPy floor, scaling, start-up, BLAS threads.

Run it with your default settings (do not set OPENBLAS_NUM_THREADS: pumpsim limits
BLAS threads itself, around its own work only)::

    python benchmarks/bench_all.py --peers-python /path/to/peers-venv/bin/python

Sections, each printed as a table with ratios:

1. BLAS configuration (threadpoolctl) and the OpenBLAS variables that are set.
2. One patient (Schnider propofol, 10 mg/kg/h for 60 min, 2 h, 1-s output) and
   1000 patients (same, 1000 virtual patients): pumpsim's ``simulate()`` against each
   peer (in its own numpy<2 environment, see README.md) and against a bare NumPy
   floor: the same linear system solved by eigendecomposition in a few vectorised
   lines, with nothing else (no scenario, no events, no result table).
3. Scaling: time against run length, number of pumps, PCA presses and pump strokes,
   with the fitted exponent of time ~ size^b (b = 1: linear); and the cost of one
   engine event at the stroke level against a bare SimPy loop.
4. Whole-process start-up (``pumpsim --version``, ``import pumpsim``, ``pumpsim
   validate``) against ``python -c "import numpy"``.
5. BLAS threads: 2000 and 10,000 patients x 24 h with pumpsim's one-thread limit and
   with it switched off (each in a fresh process).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PATIENT = {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"}


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` runs after a warm-up: on a shared machine the least disturbed
    run is the best estimate of the program's own cost (as :mod:`timeit` advises)."""
    fn()  # warm-up: imports, caches, first-touch memory
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# -- 1. BLAS ----------------------------------------------------------------------------
def section_blas_config() -> None:
    from pumpsim.pk.blas import blas_summary

    print("== BLAS configuration (this process, default settings)")
    print("  " + blas_summary())
    print(f"  OPENBLAS_CORETYPE {'set' if 'OPENBLAS_CORETYPE' in os.environ else 'not set'}; "
          f"numpy {np.__version__}; {os.cpu_count()} CPUs")  # fmt: skip


# -- 2. peers and the floor ----------------------------------------------------------------
def propofol(n: int | None) -> dict:
    patient = dict(PATIENT, population={"n": n, "seed": 1}) if n else dict(PATIENT)
    return {
        "name": "benchmark: Schnider 10 mg/kg/h for 60 min",
        "duration": "2 h",
        "output": {"interval": "1 s", "plots": False},
        "patient": patient,
        "pumps": [{"id": "A", "drug": "propofol", "pk_model": "schnider1998",
                   "concentration": "10 mg/mL",
                   "program": [{"dose_rate": "10 mg/kg/h", "duration": "60 min"}]}],
    }  # fmt: skip


def floor_problem(n: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """The matrices of the case (built by pumpsim, not timed): A (dynamic states),
    the IV input column, the output rows (central, effect), V1, and the plasma factor."""
    from pumpsim.engine.simulation import Simulation
    from pumpsim.scenario import load_scenario

    ch = Simulation(load_scenario(propofol(n))).patient.channels["propofol"]
    system = ch.system
    dyn = [i for i, s in enumerate(system.states)
           if s not in ("eliminated", "not_absorbed", "auc")]  # fmt: skip
    A = system.A[..., dyn, :][..., :, dyn]
    b = np.asarray(system.inputs["iv"])[..., dyn]
    rows = np.zeros((2, len(dyn)))
    rows[0, [system.states[i] for i in dyn].index("central")] = 1.0
    rows[1, [system.states[i] for i in dyn].index("effect")] = 1.0
    return A, b, rows, np.asarray(system.v1), ch.drug.plasma_factor


def floor_solve(A: np.ndarray, b: np.ndarray, rows: np.ndarray, v1: np.ndarray,
                factor: float) -> np.ndarray:  # fmt: skip
    """Plasma and effect (..., 2, 7201): 700 mg/h into the central state for 1 h, then
    nothing, 2 h on a 1-s grid, by eigendecomposition (the bare NumPy floor)."""
    rate = 700.0 / 3600.0  # mg/s (10 mg/kg/h x 70 kg)
    lam, vec = np.linalg.eig(A)
    lam, vec = lam.real, vec.real
    vinv = np.linalg.inv(vec)
    cv = rows @ vec  # (..., 2, n)
    x_ss = -np.linalg.solve(A, (rate * b)[..., None])[..., 0]
    on = np.arange(3601.0)  # 0..3600 s, infusion running
    q = np.einsum("...ij,...j->...i", vinv, -x_ss)
    y1 = (cv * q[..., None, :]) @ np.exp(lam[..., :, None] * on) + (x_ss @ rows.T)[..., :, None]
    x_end = x_ss + np.einsum("...ij,...j->...i", vec, np.exp(lam * 3600.0) * q)
    off = np.arange(1.0, 3601.0)  # 3601..7200 s, after it
    y2 = (cv * np.einsum("...ij,...j->...i", vinv, x_end)[..., None, :]) @ np.exp(
        lam[..., :, None] * off)  # fmt: skip
    y = np.concatenate((y1, y2), axis=-1) * factor
    y[..., 0, :] /= v1[..., None] if np.ndim(v1) else v1
    return y


def section_peers(peers_python: str | None, repeat: int, peer_patients: int) -> dict:
    import pumpsim

    print("\n== One patient and 1000 patients: pumpsim vs peers vs the bare NumPy floor")
    peer = {}
    if peers_python:
        out = subprocess.run([peers_python, str(HERE / "peer_times.py"), "--repeat", str(repeat),
                              "--patients", str(peer_patients)],
                             capture_output=True, text=True, check=True)  # fmt: skip
        peer = json.loads(out.stdout.strip().splitlines()[-1])
        env = peer.pop("_env", {})
        print(f"  peers: numpy {env.get('numpy')}, {env.get('blas')} (their own environment)")
    else:
        print("  peers: not run (give --peers-python)")
    single_sc = pumpsim.load_scenario(propofol(None))
    pop_sc = pumpsim.load_scenario(propofol(1000))
    ours1 = best_time(lambda: pumpsim.simulate(single_sc), repeat)
    ours_pop = best_time(lambda: pumpsim.simulate(pop_sc), max(3, repeat // 2))
    f1 = floor_problem(None)
    fp = floor_problem(1000)
    floor1 = best_time(lambda: floor_solve(*f1), repeat)
    floor_pop = best_time(lambda: floor_solve(*fp), max(3, repeat // 2))
    # the floor is the same answer: check it against pumpsim's before quoting it
    ts = pumpsim.simulate(single_sc).timeseries
    col = next(c for c in ts.columns if c.startswith("patient.propofol.plasma"))
    y1 = floor_solve(*f1)[0]
    rel1 = float(np.max(np.abs(y1 - ts[col].to_numpy())) / np.max(np.abs(y1)))
    print(f"  floor vs pumpsim, one patient's plasma ({col}): max difference {rel1:.1e} "
          "of the peak")
    res_pop = pumpsim.simulate(pop_sc)
    y = floor_solve(*fp)
    pct = list(pop_sc.patient.population.percentiles)  # the bands pumpsim's table holds

    def bands() -> None:
        np.percentile(y[:, 0, :], pct, axis=0)
        np.percentile(y[:, 1, :], pct, axis=0)

    floor_bands = best_time(bands, max(3, repeat // 2))
    got = res_pop.population["propofol"]["plasma"]
    rel = float(np.max(np.abs(y[:, 0, :] - got)) / np.max(np.abs(got)))
    print(f"  floor vs pumpsim, 1000 patients' plasma: max difference {rel:.1e} of the peak")
    rows = [("pumpsim " + pumpsim.__version__ + " simulate()", ours1, ours_pop, "")]
    rows.append(("bare NumPy floor (eig, same system)", floor1, floor_pop, ""))
    rows.append(("floor + percentile bands (np.percentile)", floor1, floor_pop + floor_bands,
                 f"bands {', '.join(f'{p:g}' for p in pct)} % of plasma and effect"))
    for name, info in peer.items():
        if "error" in info:
            rows.append((f"{name}: absent", float("nan"), float("nan"), ""))
            continue
        rows.append((f"{name} {info['version']} (loop)", info["single_s"], info["population_s"],
                     f"loop timed on {info['population_timed_on']} patients, scaled"))
    print(f"  {'program':40s} {'1 patient [ms]':>15s} {'x pumpsim':>10s} "
          f"{'1000 patients [s]':>18s} {'x pumpsim':>10s}")
    for name, t1, tp, note in rows:
        print(f"  {name:40s} {t1 * 1e3:15.2f} {t1 / ours1:10.2f} {tp:18.3f} {tp / ours_pop:10.2f}"
              f"  {note}")
    return {"single": ours1, "population": ours_pop, "floor_single": floor1,
            "floor_population": floor_pop, "floor_bands": floor_bands, "peers": peer}  # fmt: skip


# -- 3. scaling --------------------------------------------------------------------------
def pump(i: int, kind: str = "volumetric", rate: str = "10 mL/h") -> dict:
    p = {"id": f"P{i}", "kind": kind, "container": "1000 mL", "program": [{"rate": rate}]}
    if i == 0:
        p.update(drug="morphine", concentration="1 mg/mL", pk_model="lotsch2002")
    else:
        p.update(drug="fluid")
    return p


def base(duration_h: float, pumps: list[dict], events: list | None = None,
         interval: str = "1 min") -> dict:  # fmt: skip
    return {"name": "scaling", "duration": f"{duration_h} h",
            "output": {"interval": interval, "plots": False},
            "patient": {"age": "45 y", "weight": "70 kg", "height": "170 cm", "sex": "female"},
            "pumps": pumps, "events": events or []}  # fmt: skip


def boluses(hours: float) -> list[dict]:
    """A 1-mg morphine IV bolus every hour, and 10-s output: events and output grow
    with the run's length."""
    return [{"at": f"{k} h", "type": "bolus", "drug": "morphine", "dose": "1 mg",
             "route": "iv", "pk_model": "lotsch2002"} for k in range(int(hours))]  # fmt: skip


def pca(every_s: float) -> dict:
    pump = {"id": "A", "kind": "ideal", "drug": "morphine", "pk_model": "lotsch2002",
            "concentration": "1 mg/mL", "container": "1000 mL",
            "settings": {"bolus_rate": "600 mL/h"},
            "program": [{"mode": "pca", "demand_dose": "1 mg", "lockout": "5 min"}]}  # fmt: skip
    return base(12, [pump], [{"at": "0 s", "type": "pca_press", "pump": "A",
                              "every": f"{every_s} s", "until": "12 h"}])  # fmt: skip


def timed_run(sc_dict: dict) -> tuple[float, float, int]:
    """(whole run [s], engine only [s], events) of one Simulation on a validated scenario."""
    import pumpsim.engine.simulation as simulation
    from pumpsim.scenario import load_scenario

    sc = load_scenario(sc_dict)
    spent = [0.0]
    build = simulation.build_result

    def timed_build(sim):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return build(sim)
        finally:
            spent[0] += time.perf_counter() - t0

    simulation.build_result = timed_build
    try:
        t0 = time.perf_counter()
        sim = simulation.Simulation(sc)
        sim.run()
        whole = time.perf_counter() - t0
    finally:
        simulation.build_result = build
    events = next(sim.env._eid)  # SimPy numbers every event it schedules
    return whole, whole - spent[0], events


def best_run(sc_dict: dict) -> tuple[float, float, int]:
    """:func:`timed_run`, best of 3 when a run is short (< 0.5 s), else one run."""
    runs = [timed_run(sc_dict)]
    if runs[0][0] < 0.5:
        runs += [timed_run(sc_dict) for _ in range(2)]
    return min(r[0] for r in runs), min(r[1] for r in runs), runs[0][2]


def fit(sizes: list[float], times: list[float]) -> float:
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def bare_simpy(n: int) -> float:
    """Seconds per event of a bare SimPy loop: a callback that schedules the next timeout."""
    import simpy

    env = simpy.Environment()
    left = [n]

    def tick(_event: object) -> None:
        left[0] -= 1
        if left[0] > 0:
            env.timeout(1.0).callbacks.append(tick)

    env.timeout(1.0).callbacks.append(tick)
    t0 = time.perf_counter()
    env.run()
    return (time.perf_counter() - t0) / n


def section_scaling(quick: bool) -> dict:
    print("\n== Scaling: time ~ size^b (b = 1 is linear); engine = run without the result"
          " building (output grid, requirement oracles)")  # fmt: skip
    axes = {
        "duration [h] (hourly boluses)": ([6, 12, 24, 48], lambda h: base(h, [pump(0, "ideal")],
                                                                         boluses(h), "10 s")),
        "pumps (volumetric, 6 h)": ([1, 2, 4, 8], lambda n: base(6, [pump(i) for i in range(n)])),
        "PCA presses (12 h)": ([360, 720, 1440, 2880], lambda n: pca(12 * 3600 / n)),
        "strokes (volumetric 10 mL/h)": ([600, 1200, 2400, 4800],
                                         lambda s: base(s / 100, [pump(0)])),
    }  # fmt: skip
    if quick:
        axes = {k: (v[0][:3], v[1]) for k, v in axes.items()}
    timed_run(base(1, [pump(0)]))  # warm-up
    out = {}
    print(f"  {'axis':32s} {'sizes':>24s} {'run [s]':>30s} {'b run':>6s} {'b engine':>9s}")
    for axis, (sizes, make) in axes.items():
        runs = [best_run(make(s)) for s in sizes]
        whole = [r[0] for r in runs]
        engine = [r[1] for r in runs]
        b_whole, b_engine = fit(sizes, whole), fit(sizes, engine)
        out[axis] = (sizes, whole, b_whole, b_engine)
        print(f"  {axis:32s} {' '.join(str(s) for s in sizes):>24s} "
              f"{' '.join(f'{t:.3f}' for t in whole):>30s} {b_whole:6.2f} {b_engine:9.2f}")
    # per event at the stroke level
    whole, engine, events = timed_run(base(24, [pump(0)]))
    per_event = engine / events
    bare = min(bare_simpy(200_000) for _ in range(3))
    print(f"  stroke level (volumetric 10 mL/h, 24 h): {events} events, engine "
          f"{per_event * 1e6:.1f} us/event; bare SimPy {bare * 1e6:.2f} us/event; "
          f"ratio {per_event / bare:.0f}x")
    out["per_event"] = (per_event, bare)
    return out


# -- 4. start-up ---------------------------------------------------------------------------
def whole_process(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return times


def section_startup(runs: int) -> dict:
    print("\n== Whole-process start-up (median of paired runs; ratio to python -c 'import numpy')")
    py = sys.executable
    pumpsim_cmd = [py, "-m", "pumpsim"] if not _script() else [_script()]
    numpy_cmd = [py, "-c", "import numpy"]
    cases = {
        'python -c "pass"': [py, "-c", "pass"],
        'python -c "import numpy"': numpy_cmd,
        'python -c "import pumpsim"': [py, "-c", "import pumpsim"],
        "pumpsim --version": [*pumpsim_cmd, "--version"],
        "pumpsim validate scenarios/propofol_rate_change.yaml":
            [*pumpsim_cmd, "validate", "scenarios/propofol_rate_change.yaml"],
    }  # fmt: skip
    whole_process(numpy_cmd, 1)  # warm the file cache
    out = {}
    print(f"  {'command':56s} {'median [s]':>11s} {'x import numpy':>15s}")
    for name, cmd in cases.items():
        ratios, mine = [], []
        for _ in range(runs):  # A B A B ...: each ratio from a pair, robust to drift
            a = whole_process(cmd, 1)[0]
            b = whole_process(numpy_cmd, 1)[0]
            mine.append(a)
            ratios.append(a / b)
        out[name] = (statistics.median(mine), statistics.median(ratios))
        print(f"  {name:56s} {out[name][0]:11.3f} {out[name][1]:15.2f}")
    return out


def _script() -> str | None:
    exe = Path(sys.executable).with_name("pumpsim")
    return str(exe) if exe.exists() else None


# -- 5. BLAS threads --------------------------------------------------------------------------
POPULATION_CODE = """
import sys, time, contextlib
sys.path.insert(0, {here!r})
if {off!r}:  # switch pumpsim's one-thread limit off: BLAS runs with its default threads
    import pumpsim.pk.blas as blas, pumpsim.engine.simulation as simulation
    blas.one_blas_thread = contextlib.nullcontext
import pumpsim
from bench_all import base, morphine_population, pump
sc = pumpsim.load_scenario(morphine_population({n}) if {n} else base(24, [pump(0)]))
t, c = time.perf_counter(), time.process_time()
pumpsim.simulate(sc)
print(time.perf_counter() - t, time.process_time() - c)
"""


def morphine_population(n: int) -> dict:
    """``n`` patients x 24 h morphine SC 10 mg (sulfate) every 4 h, 1-min output, with an
    illustrative 30 % CV on V1, V2, V3 and CL1 (the model publishes none)."""
    return {
        "name": f"benchmark: {n} patients, morphine SC 10 mg every 4 h for 24 h",
        "duration": "24 h",
        "output": {"interval": "1 min", "plots": False},
        "patient": dict(PATIENT, population={"n": n, "seed": 1, "variability": {
            "morphine": {"v1": "30 %", "v2": "30 %", "v3": "30 %", "cl1": "30 %"}}}),
        "events": [{"at": f"{4 * k} h", "type": "bolus", "drug": "morphine", "salt": "sulfate",
                    "dose": "10 mg", "route": "sc"} for k in range(6)],
    }  # fmt: skip


def section_threads(sizes: list[int], rounds: int = 2) -> dict:
    print("\n== BLAS threads: simulate() wall and CPU [s], each in a fresh process, alternating,"
          f" best of {rounds}; 0 patients: one volumetric pump at the stroke level for 24 h,"
          " else a population x 24 h of morphine SC")  # fmt: skip
    out = {}
    print(f"  {'patients':>9s} {'one thread (pumpsim): wall, CPU':>32s} "
          f"{'BLAS default threads: wall, CPU':>32s} {'wall default/one':>17s}")  # fmt: skip
    for n in sizes:
        best: dict[bool, tuple[float, float]] = {}
        for _ in range(rounds):
            for off in (False, True):
                code = POPULATION_CODE.format(here=str(HERE), off=off, n=n)
                res = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, check=True, timeout=1800)  # fmt: skip
                wall, cpu = (float(x) for x in res.stdout.strip().splitlines()[-1].split())
                if off not in best or wall < best[off][0]:
                    best[off] = (wall, cpu)
        out[n] = best
        one, dflt = best[False], best[True]
        print(f"  {n:9d} {one[0]:22.2f} {one[1]:9.2f} {dflt[0]:22.2f} {dflt[1]:9.2f} "
              f"{dflt[0] / one[0]:17.2f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers-python", default=None,
                        help="Python of the peers' environment (numpy<2); omit to skip peers")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--peer-patients", type=int, default=20)
    parser.add_argument("--startup-runs", type=int, default=7)
    parser.add_argument("--threads-sizes", default="0,2000,10000",
                        help="patients (0: one patient, stroke level)")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--only", default="blas,peers,scaling,startup,threads")
    args = parser.parse_args()
    only = set(args.only.split(","))
    section_blas_config()
    results: dict = {}
    if "peers" in only:
        results["peers"] = section_peers(args.peers_python, args.repeat, args.peer_patients)
    if "scaling" in only:
        results["scaling"] = section_scaling(args.quick)
    if "startup" in only:
        results["startup"] = section_startup(args.startup_runs)
    if "threads" in only:
        results["threads"] = section_threads([int(s) for s in args.threads_sizes.split(",")])


if __name__ == "__main__":
    main()
