"""Requirement oracles off the hot path: ``simulate()`` alone, then the verdicts when first
read, and how the oracles' cost grows with the number of output points K (linear is ~1x time
per 1x K; the old per-point interpolation was K^2).

    python benchmarks/bench_oracles.py
"""

from __future__ import annotations

import time
from pathlib import Path

import pumpsim

SUITE = Path(pumpsim.__file__).parent / "data" / "conformance"


def timed(scenario: object) -> tuple[float, float]:
    t0 = time.perf_counter()
    res = pumpsim.simulate(scenario)  # type: ignore[arg-type]
    t1 = time.perf_counter()
    _ = res.requirements  # the oracles run here, once
    return t1 - t0, time.perf_counter() - t1


def syringe_day(interval: str) -> dict:
    return {"name": "syringe day", "duration": "24 h", "output": {"interval": interval},
            "pumps": [{"id": "A", "kind": "syringe", "syringe": "50 mL", "purge": True,
                       "drug": "fluid", "program": [{"rate": "2 mL/h"}]}],
            "events": [{"at": "2 h", "type": "occlusion", "pump": "A"},
                       {"at": "3 h", "type": "clear_occlusion", "pump": "A"},
                       {"at": "3.1 h", "type": "start", "pump": "A"}]}  # fmt: skip


def main() -> None:
    print(f"{'scenario':40s} {'simulate [s]':>12s} {'oracles [s]':>12s}")
    for name in ("occlusion_syringe", "free_flow_volumetric", "under_infusion_syringe",
                 "pca_lockout_limit", "stroke_stop_volumetric"):  # fmt: skip
        sim, orc = timed(SUITE / f"{name}.yaml")
        print(f"{name:40s} {sim:12.3f} {orc:12.3f}")
    print("\nsyringe, 24 h with an occlusion: oracle time against output points K")
    base = None
    for interval, k in (("40 s", 2160), ("10 s", 8640), ("2.5 s", 34560)):
        sim, orc = timed(syringe_day(interval))
        base = base or orc
        print(f"K = {k:6d}: simulate {sim:7.3f} s, oracles {orc:7.3f} s "
              f"({orc / base:5.1f}x for {k / 2160:4.0f}x K)")


if __name__ == "__main__":
    main()
