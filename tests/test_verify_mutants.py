"""The mutation suite (``tests/mutants/mutants.py``): at least 30 single-bug controllers across
programs, PCA, alarms, drug library and sensors, each a subclass of the reference controller. A
fast subset runs here, each mutant on the one conformance scenario that should expose it;
``benchmarks/mutation/run_mutants.py`` runs all of them through the whole suite and prints the
kill ratio quoted in the README.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pumpsim.pump.reference import ReferenceController
from pumpsim.verify import verify

HERE = Path(__file__).parent / "mutants"
sys.path.insert(0, str(HERE))
import mutants  # noqa: E402

#: a fast subset, one mutant per area or so: mutant -> scenario that exposes it
SUBSET = {
    "SecondaryRateKept": "programs_time_remaining.yaml",
    "IntermittentOnce": "programs_time_remaining.yaml",
    "DemandDoubled": "pca_lockout_limit.yaml",
    "EmptyAtZero": "reservoir_near_empty.yaml",
    "BolusLimitNotScreened": "ders_limits.yaml",
    "AirAlarmNoStop": "air_volumetric.yaml",
}


def test_at_least_30_realistic_single_bug_mutants() -> None:
    assert len(mutants.MUTANTS) >= 30
    assert set(mutants.MUTANTS.values()) == {"programs", "PCA", "alarms", "DERS", "sensors"}
    for name in mutants.MUTANTS:
        cls = getattr(mutants, name)
        assert issubclass(cls, ReferenceController) and cls.__doc__, name


@pytest.mark.parametrize("name", sorted(SUBSET))
def test_subset_killed(name: str) -> None:
    report = verify(f"{HERE / 'mutants.py'}:{name}", only=[SUBSET[name]])
    assert report.failed or report.crashed, f"{name} survived {SUBSET[name]}"
