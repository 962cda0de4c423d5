"""Sweep scaling: a 27-point grid x 1000 patients x 24 h on 1 and on 2 local workers.

The grid is propofol rate (3) x weight (3) x age (3) on ``scenarios/propofol_rate_change.yaml``
stretched to 24 h with 1-min output; each point is one task holding its whole population.
Both runs use a :class:`distributed.LocalCluster` of worker *processes* on 127.0.0.1,
started (and pumpsim imported on every worker) before the clock starts, so the times are
the sweep's own. Scaling efficiency = T(1 worker) / (2 x T(2 workers)); the aim is >= 80 %.
The two runs must also write byte-identical files (checked).

    python benchmarks/sweep.py [--patients 1000] [--hours 24]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread per worker: the workers are the cores

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRID = ["pumps[0].program[0].dose_rate=6,8,10 mg/kg/h", "patient.weight=50,70,90 kg",
        "patient.age=30,50,70 y"]  # fmt: skip


def scenario(hours: float) -> dict:
    from pumpsim.scenario.load import read_file

    raw = read_file(ROOT / "scenarios" / "propofol_rate_change.yaml")
    raw["duration"] = f"{hours} h"
    raw["output"] = {"interval": "1 min", "plots": False}
    return raw


def timed(raw: dict, workers: int, patients: int, out: Path) -> float:
    from distributed import Client, LocalCluster

    import pumpsim

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster) as client:  # fmt: skip
        client.run(lambda: __import__("pumpsim.sweep.run") and None)  # warm the workers
        start = time.perf_counter()
        pumpsim.sweep(raw, GRID, out=out, population=patients, scheduler=client, plots=False,
                      progress=True)  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    raw = scenario(args.hours)
    with tempfile.TemporaryDirectory() as tmp:
        t1 = timed(raw, 1, args.patients, Path(tmp) / "w1")
        t2 = timed(raw, 2, args.patients, Path(tmp) / "w2")
        same = all((Path(tmp) / "w1" / "points" / p.parent.name / p.name).read_bytes()
                   == p.read_bytes() for p in (Path(tmp) / "w2" / "points").glob("*/*.parquet"))
    print(f"27 points x {args.patients} patients x {args.hours:g} h, cores: {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'workers':>8} {'wall [s]':>10} {'s/point':>9}")
    print(f"{1:>8} {t1:>10.1f} {t1 / 27:>9.2f}")
    print(f"{2:>8} {t2:>10.1f} {t2 / 27:>9.2f}")
    print(f"speed-up {t1 / t2:.2f}x, scaling efficiency {t1 / (2 * t2):.0%} (aim >= 80 %); "
          f"identical files: {same}")


if __name__ == "__main__":
    main()
