"""Time the peers on the benchmark cases; run by bench_all.py in the peers' environment.

The peers need ``numpy<2`` (see README.md here), so bench_all.py starts this script
with the peers' Python and reads one JSON line back::

    {"pas": {"version": "1.0.0", "single_s": 0.02, "population_s": 21.0,
             "population_timed_on": 20}, ...}

``single_s`` is the best of ``--repeat`` runs of the single-patient case;
``population_s`` is the time of a loop over ``--patients`` varied patients scaled to
1000 (the peers have no population mode). Absent peers are reported with an error.
No pumpsim import here: only the peers, NumPy and pandas.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402

#: the single-patient case: 40 y, 70 kg, 170 cm male, 10 mg/kg/h for 60 min, 2 h, 1-s output
SINGLE = {
    "drug": "propofol", "model": "schnider", "opioids": False,
    "patient": {"age_y": 40, "weight_kg": 70, "height_cm": 170, "sex": "male"},
    "infusion": [(0, 3600, 700.0 / 60.0)], "duration_s": 7200,
}  # fmt: skip


def population_cases(n: int, seed: int = 1) -> list[dict]:
    """``n`` adults with varied covariates (the peers' only way to vary patients)."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        w = float(rng.uniform(55, 95))
        cases.append({
            "drug": "propofol", "model": "schnider", "opioids": False,
            "patient": {"age_y": float(rng.uniform(25, 75)), "weight_kg": w,
                        "height_cm": float(rng.uniform(160, 190)), "sex": "male"},
            "infusion": [(0, 3600, 10.0 * w / 60.0)], "duration_s": 7200,
        })  # fmt: skip
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--patients", type=int, default=20)
    args = parser.parse_args()
    out: dict[str, dict] = {}
    cases = population_cases(args.patients)
    for name in peers.PEERS:
        try:
            peers.run_peer(name, SINGLE)  # warm-up (imports, caches)
        except ImportError as exc:
            out[name] = {"error": str(exc)}
            continue
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            peers.run_peer(name, SINGLE)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for case in cases:
            peers.run_peer(name, case)
        loop = time.perf_counter() - t0
        out[name] = {"version": peers.peer_version(name), "single_s": min(times),
                     "population_s": loop * 1000 / args.patients,
                     "population_timed_on": args.patients}  # fmt: skip
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
                for i in threadpool_info() if i["user_api"] == "blas"]  # fmt: skip
    except ImportError:
        blas = ["threadpoolctl absent"]
    out["_env"] = {"numpy": np.__version__, "blas": "; ".join(blas)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
