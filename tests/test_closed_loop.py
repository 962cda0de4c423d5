"""Closed-loop propofol on BIS: the PID holds the typical patient, both designs keep the
drug library's limits and the alarms, and pass the reference's requirement oracles."""

from __future__ import annotations

import numpy as np
import pytest

from pumpsim import simulate
from pumpsim.pump.closed_loop import BisPidController, BisTciController

TYPICAL = {"age": "53 y", "weight": "77 kg", "height": "177 cm", "sex": "male"}


def scenario(program: list, *, bis: dict | None = None, duration: str = "60 min",
             events: list | None = None, **pump) -> dict:  # fmt: skip
    p = {"id": "A", "kind": "ideal", "drug": "propofol", "concentration": "10 mg/mL",
         "program": program, **pump}  # fmt: skip
    return {"name": "closed loop", "duration": duration, "output": {"interval": "5 s"},
            "patient": TYPICAL, "bis": bis or {"interval": "5 s", "delay": "15 s"},
            "pumps": [p], "events": events or []}  # fmt: skip


def _no_failures(res) -> None:
    failed = {k: v for k, v in res.summary["requirements"].items() if v["status"] == "fail"}
    assert not failed


@pytest.mark.parametrize(
    ("controller", "program"),
    [
        (BisPidController, [{"dose_rate": "10 mg/kg/h"}]),
        (BisTciController, [{"mode": "tci", "target": "3 ug/mL", "site": "effect"}]),
    ],
)
def test_holds_bis_50_plus_minus_5_in_the_typical_patient(controller, program) -> None:
    """Typical (covariate-centred Schnider) patient, Bouillon BIS with a 15-s monitor
    delay: from 10 min on, BIS stays within 50 ± 5 and the requirement oracles pass."""
    res = simulate(scenario(program), controller=controller)
    bis = res.timeseries["patient.bis[1]"].loc[600:]
    assert bis.min() >= 45.0 and bis.max() <= 55.0
    assert res.summary["bis"]["time_in_range_pct"] > 90.0
    _no_failures(res)


def test_pid_with_noise_and_stimulation_stays_in_range_most_of_the_time() -> None:
    bis = {"interval": "5 s", "delay": "15 s", "noise": 3,
           "stimulation": [{"at": "30 min", "duration": "15 min", "offset": 10}]}  # fmt: skip
    res = simulate(scenario([{"dose_rate": "10 mg/kg/h"}], bis=bis), controller=BisPidController)
    m = res.summary["bis"]
    assert m["time_in_range_pct"] > 85.0 and m["global_score"] < 0.3
    ts = res.timeseries
    during = ts["pump.A.flow[mL/h]"].loc[1900:2700].mean()
    before = ts["pump.A.flow[mL/h]"].loc[1000:1800].mean()
    assert during > before  # stimulation: more propofol


def test_pid_keeps_the_drug_library_upper_soft_limit() -> None:
    """Anaesthesia care area: propofol upper soft limit 200 mcg/kg/min (12 mg/kg/h, builtin
    library): the closed loop never exceeds it, even when BIS asks for more."""
    bis = {"interval": "5 s", "stimulation": [{"at": "0 s", "duration": "60 min",
                                               "offset": 40}]}  # fmt: skip
    res = simulate(scenario([{"dose_rate": "10 mg/kg/h"}], bis=bis, care_area="anesthesia"),
                   controller=BisPidController)  # fmt: skip
    flow = res.timeseries["pump.A.flow[mL/h]"]
    assert flow.max() <= 12.0 * 77 / 10 * (1 + 1e-9)
    assert flow.max() == pytest.approx(12.0 * 77 / 10)
    _no_failures(res)


@pytest.mark.parametrize(
    ("controller", "program"),
    [
        (BisPidController, [{"dose_rate": "10 mg/kg/h"}]),
        (BisTciController, [{"mode": "tci", "target": "3 ug/mL", "site": "effect"}]),
    ],
)
def test_an_occlusion_alarm_stops_the_closed_loop(controller, program) -> None:
    """A downstream occlusion raises the high-priority alarm and stops the pump; BIS rising
    does not restart it (the alarm decides, GIP 1.6.2), and the oracles pass."""
    events = [{"at": "20 min", "type": "occlusion", "pump": "A"}]
    sc = scenario(program, events=events, kind="syringe", syringe="50 mL", purge=True,
                  duration="28 min")  # fmt: skip
    res = simulate(sc, controller=controller)
    alarms = [a for a in res.summary["alarms"] if a.get("alarm") == "occlusion"]
    assert alarms
    t_alarm = alarms[0]["time_s"]
    flow = res.timeseries["pump.A.flow[mL/h]"]
    assert np.all(flow.loc[t_alarm + 5:] == 0.0)
    assert res.timeseries["patient.bis[1]"].iloc[-1] > 60.0  # the patient lightens
    _no_failures(res)
