"""Speed: one 2-hour Schnider propofol infusion, pumpsim vs its peers, in one process.

Case (issue 2): 40 y, 70 kg, 170 cm male; 10 mg/kg/h for 60 min then off;
2 h; output every 1 s (7201 points), plasma and effect site.

Run inside the peers' environment (see benchmarks/README.md)::

    python benchmarks/bench_single_infusion.py [--repeat 7]

Prints each program's median wall time and the ratio peer/pumpsim. Peers that
are not installed are reported as absent; pumpsim always runs. Two pumpsim
timings are shown: the whole ``simulate()`` (scenario validation, SimPy run,
exact PK, DataFrame) and ``simulate()`` on an already-validated Scenario.
"""

from __future__ import annotations

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402

import pumpsim  # noqa: E402

CASE = {
    "drug": "propofol",
    "model": "schnider",
    "opioids": False,
    "patient": {"age_y": 40, "weight_kg": 70, "height_cm": 170, "sex": "male"},
    "infusion": [(0, 3600, 700.0 / 60.0)],  # mg/min
    "duration_s": 7200,
}
SCENARIO = {
    "name": "benchmark: Schnider 10 mg/kg/h for 60 min",
    "duration": "2 h",
    "output": {"interval": "1 s", "plots": False},
    "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
    "pumps": [{"id": "A", "drug": "propofol", "pk_model": "schnider1998",
               "concentration": "10 mg/mL",
               "program": [{"dose_rate": "10 mg/kg/h", "duration": "60 min"}]}],
}  # fmt: skip


def median_time(fn, repeat: int) -> float:
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    validated = pumpsim.load_scenario(SCENARIO)
    rows = [
        (f"pumpsim {pumpsim.__version__} simulate(dict)",
         median_time(lambda: pumpsim.simulate(SCENARIO), args.repeat)),
        ("pumpsim simulate(Scenario)", median_time(lambda: pumpsim.simulate(validated),
                                                   args.repeat)),
    ]  # fmt: skip
    for name in ("pas", "pytci", "opentiva"):
        try:
            t = median_time(lambda n=name: peers.run_peer(n, CASE), args.repeat)
        except ImportError as exc:
            print(f"{name}: absent ({exc})")
            continue
        rows.append((f"{name} {peers.peer_version(name)}", t))
    base = rows[0][1]
    print(f"{'program':40s} {'median [ms]':>12s} {'time / pumpsim':>15s}")
    for name, t in rows:
        print(f"{name:40s} {t * 1e3:12.2f} {t / base:15.2f}")


if __name__ == "__main__":
    main()
