"""Bedside faults (pumpsim.engine.faults): each changes what it should and nothing else.

Independent values: infiltration is compared with a run that gives the same input
by IV then SC (linearity of the PK: same answer to rounding); disconnection with a
run whose program stops for the same time; battery thresholds with the arithmetic
of a linear drain; free flow with (head − back pressure)/R.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pumpsim import load_scenario, simulate
from pumpsim.engine.faults import TISSUE_HALF_LIFE, tissue_absorption
from pumpsim.errors import PumpsimError
from pumpsim.pump.line import DEFAULT_SET_RESISTANCE
from pumpsim.pump.reference import ReferenceController

MORPHINE = {"drug": "morphine", "pk_model": "lotsch2002", "concentration": "1 mg/mL"}


def _sc(adult: dict, pumps: list, events: list, duration: str = "4 h", interval: str = "60 s"):
    return {"duration": duration, "output": {"interval": interval}, "patient": adult,
            "pumps": pumps, "events": events}  # fmt: skip


def _kinds(res, kind: str) -> list:
    return [e for e in res.events if e.kind == kind]


# -- infiltration ---------------------------------------------------------------------
def test_infiltration_is_iv_then_sc_of_the_same_input(adult) -> None:
    rate = "2 mL/h"
    infiltrated = simulate(_sc(adult, [{"id": "A", **MORPHINE, "program": [{"rate": rate}]}],
                               [{"at": "1 h", "type": "infiltration", "pump": "A"}]))  # fmt: skip
    # the same input: IV for an hour, then SC from the same source rate (two pumps, no fault)
    split = simulate(_sc(adult, [
        {"id": "A", **MORPHINE, "program": [{"rate": rate, "duration": "1 h"}]},
        {"id": "B", **MORPHINE, "route": "sc",
         "program": [{"rate": "0 mL/h", "duration": "1 h"}, {"rate": rate}]},
    ], []))  # fmt: skip
    col = "patient.morphine.plasma[ng/mL]"
    got, want = infiltrated.timeseries[col].to_numpy(), split.timeseries[col].to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    # and it is not what IV alone gives: flatter (slower) after the failure
    iv = simulate(_sc(adult, [{"id": "A", **MORPHINE, "program": [{"rate": rate}]}], []))
    after = infiltrated.timeseries.index > 3600
    assert np.all(got[after] < iv.timeseries[col].to_numpy()[after])
    # the pump runs on, no alarm; the drug is given (to tissue) and the mass balance closes
    pump = infiltrated.summary["pumps"]["A"]
    assert pump["final_state"] == "running" and pump["alarms"] == 0
    drug = infiltrated.summary["drugs"]["morphine"]
    assert drug["given"] == pytest.approx(8.0, rel=1e-9) and drug["lost"] == 0.0
    assert drug["mass_balance_error"] <= 1e-9
    assert "tissue_A" in drug["routes"]
    (rec,) = _kinds(infiltrated, "infiltration")
    assert rec.time_s == 3600.0 and rec.details["route"] == "tissue_A"


def test_tissue_absorption_default_sc_and_override() -> None:
    default = tissue_absorption({})  # a drug without an SC route: t½ 30 min [illustrative]
    assert default.pathways[0].ka == pytest.approx(math.log(2) / TISSUE_HALF_LIFE)
    sc = object()
    assert tissue_absorption({"sc": sc}) is sc  # type: ignore[dict-item]

    class Given:
        half_life, bioavailability = 3600.0, 0.5

    own = tissue_absorption({"sc": sc}, Given())  # type: ignore[dict-item]
    assert own.pathways[0].ka == pytest.approx(math.log(2) / 60.0)
    assert own.bioavailability == 0.5


def test_infiltration_override_reaches_the_summary(adult) -> None:
    res = simulate(_sc(adult, [{"id": "A", "drug": "propofol", "concentration": "10 mg/mL",
                                "program": [{"rate": "20 mL/h"}]}],
                       [{"at": "10 min", "type": "infiltration", "pump": "A",
                         "absorption": {"half_life": "1 h", "bioavailability": 0.8}}],
                       duration="1 h"))  # fmt: skip
    assert res.summary["drugs"]["propofol"]["routes"]["tissue_A"]["bioavailability"] == 0.8
    assert res.summary["drugs"]["propofol"]["mass_balance_error"] <= 1e-9


# -- disconnection ----------------------------------------------------------------------
def test_disconnection_loses_the_drug_and_nothing_else(adult) -> None:
    pump = {"id": "A", **MORPHINE, "program": [{"rate": "6 mL/h"}]}
    res = simulate(_sc(adult, [pump], [
        {"at": "1 h", "type": "disconnection", "pump": "A"},
        {"at": "90 min", "type": "reconnection", "pump": "A"}]))  # fmt: skip
    # the patient sees exactly a program that stops for those 30 min
    gap = simulate(_sc(adult, [{**pump, "program": [
        {"rate": "6 mL/h", "duration": "1 h"}, {"rate": "0 mL/h", "duration": "30 min"},
        {"rate": "6 mL/h"}]}], []))  # fmt: skip
    col = "patient.morphine.plasma[ng/mL]"
    np.testing.assert_allclose(res.timeseries[col], gap.timeseries[col], rtol=1e-9, atol=1e-12)
    # the pump ran on at its rate, without an alarm (pumps do not detect it)
    s = res.summary["pumps"]["A"]
    assert s["volume_infused_mL"] == pytest.approx(24.0, rel=1e-9)
    assert s["alarms"] == 0 and s["final_state"] == "running"
    assert np.all(res.timeseries["pump.A.flow[mL/h]"].to_numpy()[1:] == pytest.approx(6.0))
    # 3 mL lost; what left the line = given + lost
    assert s["lost_mL"] == pytest.approx(3.0, rel=1e-9)
    d = res.summary["drugs"]["morphine"]
    assert d["lost"] == pytest.approx(3.0, rel=1e-9)
    assert d["given"] + d["lost"] == pytest.approx(24.0, rel=1e-9)
    assert d["mass_balance_error"] <= 1e-9


def test_disconnection_scenario_accounts_for_every_ml() -> None:
    res = simulate("scenarios/line_disconnection.yaml")
    s, d = res.summary["pumps"]["A"], res.summary["drugs"]["propofol"]
    assert s["lost_mL"] > 0 and not _kinds(res, "alarm")
    assert d["given"] + d["lost"] == pytest.approx(s["volume_delivered_mL"] * 10.0, rel=1e-9)


# -- door -------------------------------------------------------------------------------
def test_door_open_alarms_stops_and_needs_a_start_after_closing() -> None:
    res = simulate("scenarios/door_opened.yaml")
    (alarm,) = _kinds(res, "alarm")
    assert alarm.time_s == 1800.0 and alarm.details["alarm"] == "door_open"
    assert alarm.details["priority"] == "high"
    ignored = [e for e in _kinds(res, "input_ignored") if e.details.get("reason") == "door open"]
    assert [e.time_s for e in ignored] == [1920.0]
    flow = res.timeseries["pump.A.flow[mL/h]"]
    assert flow.loc[1810.0:2100.0].max() == 0.0  # stopped until the start at 35 min
    assert flow.loc[2110.0:].min() > 0.0
    assert res.summary["requirements"]["GIP 1.6.2"]["status"] == "pass"


# -- power ------------------------------------------------------------------------------
def test_battery_reports_at_the_threshold_crossings() -> None:
    res = simulate("scenarios/power_loss_battery.yaml")
    readings = [(e.time_s, e.details["minutes_left"]) for e in _kinds(res, "battery")]
    # mains lost at 60 min with 40 min of battery: 15 min left at 85 min, 5 min left at 95 min
    assert readings == [(3600.0, 40.0), (5100.0, 15.0), (5700.0, 5.0)]
    alarms = [(e.time_s, e.details["alarm"], e.details["priority"]) for e in _kinds(res, "alarm")]
    assert alarms == [(5100.0, "battery_low", "medium"), (5700.0, "battery_depleted", "high")]
    assert [e.time_s for e in _kinds(res, "power_off")] == [6000.0]
    flow = res.timeseries["pump.A.flow[mL/h]"]
    assert flow.loc[5730.0:7170.0].max() == 0.0 and flow.iloc[-1] > 0  # restarted on mains
    assert res.summary["requirements"]["GIP 5.1.4"]["status"] == "pass"


class _IgnoresBattery(ReferenceController):
    """A controller that never reads the battery (for the oracle and the power-off)."""

    def on_sensor(self, hw, event) -> None:  # type: ignore[no-untyped-def]
        if event.kind not in ("battery", "mains"):
            super().on_sensor(hw, event)


def test_battery_oracle_fails_a_controller_that_ignores_it_and_power_off_stops_it() -> None:
    res = simulate("scenarios/power_loss_battery.yaml", controller=_IgnoresBattery)
    verdict = res.summary["requirements"]["GIP 5.1.4"]
    assert verdict["status"] == "fail" and verdict["time_s"] == 5100.0
    flow = res.timeseries["pump.A.flow[mL/h]"]
    assert flow.loc[5970.0] > 0 and flow.loc[6030.0:7170.0].max() == 0.0  # dead at 100 min


# -- free flow -------------------------------------------------------------------------
FREE_FLOW = "pumpsim/data/conformance/free_flow_volumetric.yaml"


def test_free_flow_rate_is_line_physics_and_the_flow_sensor_alarms() -> None:
    res = simulate(FREE_FLOW)
    (rec,) = _kinds(res, "free_flow")
    assert rec.details["rate_mL_h"] == pytest.approx(60.0 / DEFAULT_SET_RESISTANCE * 3600)
    (alarm,) = _kinds(res, "alarm")
    assert (alarm.time_s, alarm.details["alarm"]) == (1800.0, "free_flow")
    # the motor stopped, gravity did not: the line still delivers at the free-flow rate
    assert res.timeseries["pump.A.flow[mL/h]"].iloc[-1] == pytest.approx(rec.details["rate_mL_h"])
    req = res.summary["requirements"]
    assert req["GIP 1.2.2"]["status"] == "pass" and req["CRISYS 16/19"]["status"] == "pass"


def test_free_flow_without_a_flow_sensor_goes_unnoticed() -> None:
    data = load_scenario(FREE_FLOW).model_dump(mode="json", exclude_none=True)
    data["pumps"][0]["settings"]["flow_sensor"] = False
    res = simulate(data)
    assert not _kinds(res, "alarm")
    req = res.summary["requirements"]
    assert req["GIP 1.2.2"]["status"] == "fail" and req["CRISYS 16/19"]["status"] == "fail"


# -- schema -----------------------------------------------------------------------------
def test_fault_events_are_validated(adult) -> None:
    pump = {"id": "A", **MORPHINE, "program": [{"rate": "1 mL/h"}]}
    with pytest.raises(PumpsimError):
        load_scenario(_sc(adult, [pump], [{"at": "1 h", "type": "disconnection", "pump": "B"}]))
    with pytest.raises(PumpsimError):
        load_scenario(_sc(adult, [pump], [{"at": "1 h", "type": "door_open", "pump": "A",
                                           "side": "left"}]))  # fmt: skip
    with pytest.raises(PumpsimError):
        load_scenario(_sc(adult, [{**pump, "settings": {"battery": "0 min"}}], []))


def test_an_elastomeric_pump_has_no_door_or_power(adult) -> None:
    pump = {"id": "E", "kind": "elastomeric", "drug": "fluid", "container": "100 mL",
            "program": [{"rate": "5 mL/h"}]}  # fmt: skip
    for kind in ("door_open", "mains_lost"):
        with pytest.raises(PumpsimError, match="elastomeric pump has no door, power"):
            load_scenario(_sc(adult, [pump], [{"at": "1 h", "type": kind, "pump": "E"}]))


def test_a_release_after_a_stop_is_not_uncontrolled_flow() -> None:
    # the stored volume released on clearing an occlusion (motor stopped) is one short spike
    req = simulate("scenarios/occlusion_syringe.yaml").summary["requirements"]
    assert req["GIP 1.2.2"]["status"] == "not exercised"
    assert req["CRISYS 16/19"]["status"] == "not exercised"
