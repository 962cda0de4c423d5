"""GIP 1.2.3 end to end: the drop / flow sensor, the reference controller's under-infusion
alarm and the oracle.

Independent values: the sensor's report times are the syringe's start-up arithmetic
(free play / rate, then ramp steps of ramp / 8 / rate; pumpsim.pump.mechanism); the alarm is
due 15 min after the first reading below 90 % and clears at the first ramp step whose flow,
(k + 0.5) / 8 of the rate, is at least 90 % (k = 7); a partial upstream occlusion leaves
(1 − severity) of the rate through the set.
"""

from __future__ import annotations

import pytest

from pumpsim import load_scenario, simulate
from pumpsim.analysis.oracles_physics import under_infusion
from pumpsim.analysis.runview import PumpView
from pumpsim.pump.mechanism import RAMP_STEPS, SyringeMechanism

STARTUP = "pumpsim/data/conformance/under_infusion_syringe.yaml"
FREE_FLOW = "pumpsim/data/conformance/free_flow_volumetric.yaml"
RATE = 1.0 / 3600.0  # the start-up scenario's 1 mL/h


def _readings(res) -> list[tuple[float, float]]:
    return [(e.time_s, e.details["value"]) for e in res.events
            if e.kind == "sensor" and e.details.get("sensor") == "flow"]  # fmt: skip


def _kinds(res, kind: str) -> list:
    return [e for e in res.events if e.kind == kind]


def test_the_flow_sensor_reports_each_change_at_its_exact_time() -> None:
    res = simulate(STARTUP)
    mech = SyringeMechanism(50.0, purged=False)
    t1, _ = mech.startup_times(RATE)
    step = mech.ramp / RAMP_STEPS / RATE
    expected = [(0.0, 0.0)] + [(t1 + k * step, RATE * (k + 0.5) / RAMP_STEPS)
                               for k in range(RAMP_STEPS)]  # fmt: skip
    expected.append((t1 + RAMP_STEPS * step, RATE))  # steady: the lead-screw pulsation averages
    got = _readings(res)
    assert len(got) == len(expected)
    for (t, q), (te, qe) in zip(got, expected, strict=True):
        assert t == pytest.approx(te, rel=1e-9, abs=1e-9) and q == pytest.approx(qe, rel=1e-12)


def test_reference_alarms_after_15_min_below_90_percent_and_clears_on_recovery() -> None:
    res = simulate(STARTUP)
    (alarm,) = _kinds(res, "alarm")
    assert (alarm.time_s, alarm.details["alarm"], alarm.details["priority"]) == (
        900.0, "under_infusion", "medium")  # fmt: skip
    mech = SyringeMechanism(50.0, purged=False)
    t1, _ = mech.startup_times(RATE)
    (cleared,) = _kinds(res, "alarm_cleared")
    assert cleared.details["alarm"] == "under_infusion"
    assert cleared.time_s == pytest.approx(t1 + 7 * mech.ramp / RAMP_STEPS / RATE, rel=1e-9)
    # the alarm's action is "continue": the motor never stopped
    assert (res.timeseries["pump.A.rate[mL/h]"] == 1.0).all()
    assert res.summary["requirements"]["GIP 1.2.3"]["status"] == "pass"


def test_a_stroke_pump_reports_no_pulsation_and_sees_the_free_flow() -> None:
    res = simulate(FREE_FLOW)
    rate = 25.0 / 3600.0
    readings = _readings(res)
    assert readings[0] == (0.0, pytest.approx(rate))  # set rate, strokes averaged: one reading
    assert all(t >= 1800.0 for t, _ in readings[1:])  # nothing more until the free flow
    (alarm,) = _kinds(res, "alarm")  # the free-flow reading at 30 min: alarm and stop
    assert alarm.details["alarm"] == "free_flow" and alarm.time_s == 1800.0
    assert "under_infusion" not in {e.details.get("alarm") for e in res.events}


def test_partial_upstream_occlusion_is_sensed_as_the_reduced_flow() -> None:
    sc = {"duration": "10 min", "output": {"interval": "5 s"},
          "pumps": [{"id": "A", "kind": "volumetric", "drug": "fluid", "container": "1000 mL",
                     "settings": {"flow_sensor": True}, "program": [{"rate": "100 mL/h"}]}],
          "events": [{"at": "5 min", "type": "occlusion", "pump": "A", "side": "upstream",
                      "severity": 0.5}]}  # fmt: skip
    res = simulate(sc)
    readings = _readings(res)
    assert (300.0, pytest.approx(50.0 / 3600.0)) in readings
    # the upstream suction passes its limit within seconds: a high alarm stops the pump
    (alarm,) = _kinds(res, "alarm")
    assert alarm.details["alarm"] == "occlusion_upstream" and alarm.time_s < 310.0


def test_oracle_judges_only_pumps_with_a_flow_sensor() -> None:
    data = load_scenario(STARTUP).model_dump(mode="json", exclude_none=True)
    data["pumps"][0]["settings"]["flow_sensor"] = False
    res = simulate(data)
    assert not _kinds(res, "alarm")  # nothing tells the firmware
    v = res.summary["requirements"]["GIP 1.2.3"]
    assert v["status"] == "not exercised" and "no flow sensor" in v["evidence"]
    assert v["time_s"] == 900.0 and "delivered 0% of the setting 1 mL/h" in v["evidence"]


def test_oracle_not_exercised_without_under_delivery() -> None:
    res = simulate(FREE_FLOW)
    pump = res.scenario.pumps[0]
    pv = PumpView(res.scenario, pump, res.events, res.timeseries, None, res.scenario.duration)
    assert under_infusion(pv).status == "not exercised"
