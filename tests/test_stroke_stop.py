"""GIP 1.6.1 / 1.6.2: a normal stop completes the stroke, an alarm stop halts at once.

Independent values: a volumetric pump at 10 mL/h with 0.1 mL strokes moves 1/360 mL/s, so a
stroke boundary k·0.1 mL is reached at k·36 s of running; the conformance scenario stops at
310 s (0.861 mL: the stroke ends at 0.9 mL, 324 s), restarts at 420 s, opens the door at
560 s (1.289 mL, mid-stroke) and ends its 3.05 mL VTBI at 1294 s (completing to 3.1 mL).
"""

from __future__ import annotations

from typing import Any

import pytest

from pumpsim import load_scenario, simulate
from pumpsim.pump.mechanism import SyringeMechanism, VolumetricMechanism, stroke_end
from pumpsim.pump.reference import ReferenceController

SCENARIO = "pumpsim/data/conformance/stroke_stop_volumetric.yaml"
Q = 10.0 / 3600.0


def _rate_at(res, t: float) -> float:
    return float(res.timeseries["pump.A.rate[mL/h]"].loc[t])


def _kinds(res, kind: str) -> list:
    return [e for e in res.events if e.kind == kind]


def test_stroke_end_is_the_next_boundary() -> None:
    mech = VolumetricMechanism()
    assert stroke_end(mech, 0.861) == pytest.approx(0.9)
    assert stroke_end(mech, 0.9) is None and stroke_end(mech, 0.0) is None
    assert stroke_end(SyringeMechanism(50.0), 0.5) is None  # no strokes


def test_normal_stops_complete_the_stroke_and_the_alarm_halts_at_once() -> None:
    res = simulate(SCENARIO)
    done = [(e.time_s, e.details["infused_mL"]) for e in _kinds(res, "stroke_completed")]
    assert done == [(pytest.approx(324.0), pytest.approx(0.9)),
                    (pytest.approx(1312.0), pytest.approx(3.1))]  # fmt: skip
    stops = _kinds(res, "stop")
    assert [e.time_s for e in stops] == [310.0, pytest.approx(1294.0)]
    assert stops[0].details["stroke_left_mL"] == pytest.approx(0.9 - 310 * Q)
    # the motor runs on to the boundary, then halts; the display shows the stop at once
    assert _rate_at(res, 323.0) == 10.0 and _rate_at(res, 325.0) == 0.0
    states = [(e.time_s, e.details["state"]) for e in _kinds(res, "state")]
    assert (310.0, "paused") in states
    # the door alarm at 560 s halts mid-stroke at once
    assert _rate_at(res, 559.0) == 10.0 and _rate_at(res, 560.0) == 0.0
    req = res.summary["requirements"]
    assert req["GIP 1.6.1"]["status"] == "pass" and req["GIP 1.6.2"]["status"] == "pass"
    assert "2 normal stop(s)" in req["GIP 1.6.1"]["evidence"]


def test_an_alarm_during_the_completing_stroke_halts_at_once() -> None:
    data = load_scenario(SCENARIO).model_dump(mode="json", exclude_none=True)
    data["events"] = [{"at": "310 s", "type": "stop", "pump": "A"},
                      {"at": "315 s", "type": "door_open", "pump": "A"}]  # fmt: skip
    res = simulate(data)
    assert not _kinds(res, "stroke_completed")
    assert _rate_at(res, 314.0) == 10.0 and _rate_at(res, 315.0) == 0.0
    assert res.summary["requirements"]["GIP 1.6.1"]["status"] == "not exercised"


class _Hw:
    """The hardware as a controller sees it, with ``stop`` rewired."""

    def __init__(self, hw: Any, stop: Any) -> None:
        self._hw, self.stop = hw, stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hw, name)


class AbruptStop(ReferenceController):
    """Halts at once on every stop (no stroke completion)."""

    def _apply(self, hw: Any) -> None:
        super()._apply(_Hw(hw, lambda complete_stroke=False: hw.set_rate(0.0)))


class LazyAlarm(ReferenceController):
    """Completes the stroke on alarm stops too."""

    def _apply(self, hw: Any) -> None:
        before = hw.rate
        super()._apply(hw)
        if before > 0 and hw.rate == 0 and self.state == "alarm":
            hw.set_rate(before)  # undo: run on ...
            hw.stop(complete_stroke=True)  # ... to the stroke's end


def test_oracle_fails_a_stop_mid_stroke() -> None:
    res = simulate(SCENARIO, controller=AbruptStop)
    v = res.summary["requirements"]["GIP 1.6.1"]
    assert v["status"] == "fail" and v["time_s"] == 310.0
    assert "uL into a 100 uL stroke" in v["evidence"]


def test_oracle_fails_a_pump_running_on_after_an_alarm() -> None:
    res = simulate(SCENARIO, controller=LazyAlarm)
    v = res.summary["requirements"]["GIP 1.6.1"]
    assert v["status"] == "fail" and "stop alarm at 9.33 min: the motor ran on" in v["evidence"]
    assert v["time_s"] == pytest.approx(1.3 / Q + (420 - 324))  # at 1.3 mL, not 1.289 mL
