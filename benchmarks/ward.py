"""Ward engine speed: a 30-bed, 60-pump ward for 7 days against a bare SimPy loop.

Prints the wall time and peak memory (tracemalloc) of ``scenarios/ward_medsurg_30beds.yaml``
run 7 days, and the time per SimPy event of the ward against a bare SimPy loop on the same
machine (60 processes that only wait for exponential timeouts, as many events). Aim: the
ward within 3x of bare SimPy per event. Median of ``--repeat`` runs after
one warm-up run; the ward's time includes building it from the validated scenario.

    python benchmarks/ward.py [--repeat 5] [--days 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parents[1]


def bare(events: int, processes: int = 60) -> float:
    """Seconds for a bare SimPy loop of ``events`` timeouts over ``processes`` processes."""
    rng = np.random.default_rng(0)
    waits = rng.exponential(3600.0, size=events).tolist()
    env = simpy.Environment()
    per = events // processes

    def proc(k: int):  # type: ignore[no-untyped-def]
        for w in waits[k * per:(k + 1) * per]:
            yield env.timeout(w)

    for k in range(processes):
        env.process(proc(k))
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def main() -> None:
    from pumpsim.ward import load_ward
    from pumpsim.ward.model import WardModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--days", type=float, default=7.0)
    args = parser.parse_args()
    ward = load_ward(ROOT / "scenarios" / "ward_medsurg_30beds.yaml")
    ward = ward.model_copy(update={"duration": args.days * 86400.0})
    walls, bares, events = [], [], 0
    WardModel(ward).run()  # warm up (imports, the alarm table)
    bare(10_000)
    for _ in range(args.repeat):
        start = time.perf_counter()
        model = WardModel(ward).run()
        walls.append(time.perf_counter() - start)
        events = WardModel(ward).run(count_events=True).events  # same run, counted
        bares.append(bare(events))
    tracemalloc.start()
    WardModel(ward).run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    wall, base = statistics.median(walls), statistics.median(bares)
    print(f"ward: {len(model.bed_pos)} beds, {len(model.pumps)} pumps, {len(model.nurses)} "
          f"nurses, {args.days:g} days; median of {args.repeat}")
    print(f"{'':<12} {'wall [s]':>9} {'events':>8} {'events/s':>10} {'us/event':>9}")
    print(f"{'ward':<12} {wall:>9.3f} {events:>8} {events / wall:>10.0f} "
          f"{wall / events * 1e6:>9.2f}")
    print(f"{'bare SimPy':<12} {base:>9.3f} {events:>8} {events / base:>10.0f} "
          f"{base / events * 1e6:>9.2f}")
    print(f"ward / bare per event: {wall / base:.2f}x (aim <= 3x); "
          f"peak traced memory {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
