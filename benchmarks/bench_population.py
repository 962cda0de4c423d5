"""Speed and memory for virtual populations, pumpsim vs peers looping over patients.

Two cases (issue 3):

1. 1000 virtual patients x 2 h Schnider propofol (10 mg/kg/h for 60 min), 1-s output.
   pumpsim simulates the whole population as one batched system; each peer
   loops over patients (it has no population mode). Peers are timed on
   ``--peer-patients`` patients and the time is scaled to 1000 (printed as such).
2. 10,000 patients x 24 h morphine SC (10 mg sulfate every 4 h), 1-min output:
   wall time and peak memory of a separate process, measured with
   ``/usr/bin/time -v`` (goal: < 10 s and < 1.5 GB on a 2-core machine). The
   morphine models publish no variability, so the scenario supplies an
   illustrative 30 % CV on V1, V2, V3 and CL1 (``population.variability``):
   without it the 10,000 patients would be identical and solved once.

Run inside the peers' environment (see benchmarks/README.md)::

    python benchmarks/bench_population.py [--peer-patients 50]
"""

from __future__ import annotations

import argparse  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402

import pumpsim  # noqa: E402

PATIENT = {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"}


def propofol_population(n: int) -> dict:
    return {
        "name": f"benchmark: {n} patients, Schnider 10 mg/kg/h for 60 min",
        "duration": "2 h",
        "output": {"interval": "1 s", "plots": False},
        "patient": dict(PATIENT, population={"n": n, "seed": 1}),
        "pumps": [{"id": "A", "drug": "propofol", "pk_model": "schnider1998",
                   "concentration": "10 mg/mL",
                   "program": [{"dose_rate": "10 mg/kg/h", "duration": "60 min"}]}],
    }  # fmt: skip


def morphine_population(n: int) -> dict:
    return {
        "name": f"benchmark: {n} patients, morphine SC 10 mg every 4 h for 24 h",
        "duration": "24 h",
        "output": {"interval": "1 min", "plots": False},
        "patient": dict(PATIENT, population={"n": n, "seed": 1, "variability": {
            "morphine": {"v1": "30 %", "v2": "30 %", "v3": "30 %", "cl1": "30 %"}}}),
        "events": [{"at": f"{4 * k} h", "type": "bolus", "drug": "morphine", "salt": "sulfate",
                    "dose": "10 mg", "route": "sc"} for k in range(6)],
    }  # fmt: skip


def peer_cases(n: int, seed: int = 1) -> list[dict]:
    """``n`` adult patients with varied covariates (the peers' only way to vary them);
    the same cases ``bench_all.py`` gives the peers (``peer_times.population_cases``)."""
    from peer_times import population_cases

    return population_cases(n, seed)


def case_one(peer_patients: int) -> None:
    sc = propofol_population(1000)
    pumpsim.simulate(propofol_population(10))  # warm-up
    times = []
    for _ in range(5):  # median of 5: the first run also pays for fresh memory pages
        res = None  # let the previous result go, as a loop over studies would
        t0 = time.perf_counter()
        res = pumpsim.simulate(sc)
        times.append(time.perf_counter() - t0)
    ours = sorted(times)[2]
    assert res.population["propofol"]["plasma"].shape == (1000, 7201)
    rows = [(f"pumpsim {pumpsim.__version__} (batched)", 1000, ours)]
    cases = peer_cases(peer_patients)
    for name in ("pas", "pytci", "opentiva"):
        try:
            peers.run_peer(name, cases[0])
        except ImportError as exc:
            print(f"{name}: absent ({exc})")
            continue
        t0 = time.perf_counter()
        for case in cases:
            peers.run_peer(name, case)
        elapsed = time.perf_counter() - t0
        rows.append((f"{name} {peers.peer_version(name)} (loop)", peer_patients,
                     elapsed * 1000 / peer_patients))  # fmt: skip
    print("Case 1: 1000 patients x 2 h Schnider propofol, 1-s output")
    print(f"{'program':34s} {'timed on':>9s} {'time for 1000 [s]':>18s} {'time / pumpsim':>15s}")
    for name, timed, t in rows:
        print(f"{name:34s} {timed:9d} {t:18.3f} {t / ours:15.1f}")


def case_two() -> None:
    here = str(Path(__file__).resolve().parent)
    code = (f"import time, pumpsim, sys; sys.path.insert(0, {here!r}); "
            "import bench_population as b; "
            "t=time.perf_counter(); r=pumpsim.simulate(b.morphine_population(10000)); "
            "print('simulate_s', time.perf_counter()-t); "
            "print('shape', r.population['morphine']['plasma'].shape)")  # fmt: skip
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)[1])
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", out.stderr)[1]
    sim_s = float(re.search(r"simulate_s (\S+)", out.stdout)[1])
    print("Case 2: 10,000 patients x 24 h morphine SC, 1-min output (separate process)")
    print(f"  simulate(): {sim_s:.2f} s; process wall time {wall} (includes imports); "
          f"peak memory {rss_kb / 1024:.0f} MiB; {out.stdout.split('shape')[1].strip()}")
    print(f"  goals: < 10 s {'met' if sim_s < 10 else 'MISSED'}; "
          f"< 1.5 GB {'met' if rss_kb < 1.5e6 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-patients", type=int, default=50)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    if not args.skip_peers:
        case_one(args.peer_patients)
    case_two()


if __name__ == "__main__":
    main()
