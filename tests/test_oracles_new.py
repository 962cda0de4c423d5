"""Each new requirement oracle catches a controller with the bug it is about and passes the
reference controller, on the conformance scenario designed for it.

The faulty controllers are single-bug subclasses of the reference from the mutation suite
(``tests/mutants/mutants.py``), loaded the way a user passes a controller on the command line
(``path/to/file.py:Class``). Expected verdicts follow from the requirement's text and the
scenario's design (the scenario files say what each one sets up), not from a run of this code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pumpsim
from pumpsim.analysis.requirements import FAIL, PASS, REQUIREMENTS

SUITE = Path(pumpsim.__file__).parent / "data" / "conformance"
MUTANTS = Path(__file__).parent / "mutants" / "mutants.py"

#: requirement -> scenario -> single-bug controllers it must catch there
CASES = {
    "PS-DEL.1": ("programs_multistep.yaml", ["VtbiEndAlwaysStops", "KvoAtRunningRate"]),
    "PS-DEL.2": ("programs_multistep.yaml", ["LastStepDropped", "SecondaryNoReturn",
                                             "PausedClockRuns", "VtbiOvershoot"]),
    "PS-DEL.3": ("continuous_kvo_titration.yaml", ["TitrationIgnored"]),
    "PS-DOOR": ("door_interlock_syringe.yaml", ["DoorIgnored", "StartWithDoorOpen"]),
    "PS-AIR.2": ("air_cumulative_volumetric.yaml", ["CumulativeAirIgnored"]),
    "PS-OCC.U": ("upstream_occlusion_volumetric.yaml", ["UpstreamIgnored"]),
    "PS-SIL.1": ("door_interlock_syringe.yaml", ["SilenceClearsAlarm"]),
    "PS-PCA.1": ("pca_lockout_limit.yaml", ["LockoutFromBolusEnd",
                                            "RefusedPressRestartsLockout"]),
    # dose-limit accounting with the basal and a clinician bolus, hourly maximum
    "OPCA R5.2.0(5)": ("pca_hourly_clinician_limit.yaml", ["LimitWithoutBasal",
                                                          "LimitWithoutClinicianBolus"]),
    "OPCA R5.2.0(3)": ("pca_hourly_clinician_limit.yaml", ["HourlyCountIgnored"]),
    # the near-empty warning on its own, before the empty alarm
    "OPCA R6.8.0(9)": ("reservoir_near_empty.yaml", ["NoNearEmptyWarning"]),
    # drug-library limits on PCA settings and on mL/h programs; a pending soft titration
    "GIP 6.1.3": ("ders_pca_flow_titration.yaml", ["PcaSettingsNotScreened",
                                                   "RatesNotScreened", "SoftLimitNoConfirm"]),
    # free flow just above the 20 % threshold
    "CRISYS 16/19": ("free_flow_threshold_volumetric.yaml", ["FreeFlowThresholdHigh"]),
}  # fmt: skip

_cache: dict[tuple[str, str | None], dict] = {}


def verdicts(scenario: str, controller: str | None = None) -> dict:
    key = (scenario, controller)
    if key not in _cache:
        spec = f"{MUTANTS}:{controller}" if controller else None
        _cache[key] = pumpsim.simulate(SUITE / scenario, controller=spec).requirements
    return _cache[key]


@pytest.mark.parametrize("rid", sorted(CASES))
def test_reference_passes(rid: str) -> None:
    v = verdicts(CASES[rid][0])[rid]
    assert v.status == PASS, v.evidence


@pytest.mark.parametrize(
    ("rid", "mutant"), [(rid, m) for rid, (_, ms) in sorted(CASES.items()) for m in ms]
)
def test_faulty_controller_caught(rid: str, mutant: str) -> None:
    v = verdicts(CASES[rid][0], mutant)[rid]
    assert v.status == FAIL, f"{mutant}: {v.status}: {v.evidence}"
    assert v.time_s is not None and v.evidence and v.pump


def test_every_new_requirement_has_a_case() -> None:
    new = {r.id for r in REQUIREMENTS if r.id.startswith("PS-")}
    assert new <= set(CASES)


def test_no_vacuous_pass() -> None:
    """A run with nothing to judge says "not exercised" for every requirement, never pass."""
    sc = {"name": "idle", "duration": "10 min", "output": {"interval": "1 min"},
          "pumps": [{"id": "A", "kind": "ideal", "drug": "fluid", "container": "100 mL",
                     "program": [{"rate": "0 mL/h"}]}]}  # fmt: skip
    got = pumpsim.simulate(sc).requirements
    assert {v.status for v in got.values()} == {"not exercised"}, {
        k: v.evidence for k, v in got.items() if v.status != "not exercised"}  # fmt: skip


def test_oracle_crash_is_an_error_not_a_verdict(monkeypatch) -> None:
    import pumpsim.analysis.requirements as reqs

    def broken(pv):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("bug in an oracle")

    first = reqs.REQUIREMENTS[0]
    monkeypatch.setattr(reqs, "REQUIREMENTS", (type(first)(first.id, first.text, first.also,
                                                           first.needs, broken),
                                               *reqs.REQUIREMENTS[1:]))  # fmt: skip
    v = pumpsim.simulate(SUITE / "reservoir_near_empty.yaml").requirements[first.id]
    assert v.status == "error" and "ZeroDivisionError: bug in an oracle" in v.evidence
