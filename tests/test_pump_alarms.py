"""Alarms: the table as data, arbitration, silence and re-activation, escalation.

Sources: docs/references.md [CRISYS2013] [GIP2009] [OPCA2020] — CRISYS 60-64 (simultaneous alarms:
highest priority
wins, equal priority the most restrictive action), GIP 3.2.1 (silenced alarms
re-activate; GIP 2 min, OPCA 10 min, CRISYS 30 min), OPCA R6.5.0(18) (the same
alert-stop-start 3 times in 10 min escalates); "Alarm priorities" (occlusion,
air, empty... high and stop the pump).
"""

from __future__ import annotations

from typing import Any

import pytest

from pumpsim.pump.alarms import (
    ACTIONS,
    AlarmManager,
    AlarmSpec,
    arbitrate,
    default_alarm_table,
    restrictiveness,
)


class Recorder:
    """A Hardware stand-in that records what the alarm manager does through it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.alarms: list[tuple[float, str, str]] = []
        self.logs: list[tuple[float, str, dict[str, Any]]] = []
        self.timers: dict[str, float] = {}

    def alarm(self, kind: str, priority: str, message: str = "") -> None:
        self.alarms.append((self.now, kind, priority))

    def log(self, kind: str, **details: Any) -> None:
        self.logs.append((self.now, kind, details))

    def set_timer(self, name: str, at: float) -> None:
        self.timers[name] = at

    def kinds(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, d) for t, k, d in self.logs if k == kind]


def spec(kind: str, priority: str, action: str) -> AlarmSpec:
    return AlarmSpec(kind, priority, action)


# (active alarms, expected winner, expected action in force) — CRISYS 60-64
ARBITRATION_TABLE = [
    ([], None, "continue"),
    ([spec("a", "low", "continue")], "a", "continue"),
    # highest priority wins
    ([spec("lo", "low", "continue"), spec("hi", "high", "stop")], "hi", "stop"),
    ([spec("med", "medium", "kvo"), spec("lo", "low", "continue")], "med", "kvo"),
    ([spec("hi", "high", "continue"), spec("med", "medium", "kvo")], "hi", "kvo"),
    # equal priority: the most restrictive action wins
    ([spec("m1", "medium", "continue"), spec("m2", "medium", "kvo")], "m2", "kvo"),
    ([spec("m1", "medium", "inhibit_bolus"), spec("m2", "medium", "continue")], "m1",
     "inhibit_bolus"),
    ([spec("h1", "high", "kvo"), spec("h2", "high", "stop"), spec("h3", "high", "continue")],
     "h2", "stop"),
    # a lower-priority restriction stays in force (stricter than the requirement, never looser)
    ([spec("hi", "high", "continue"), spec("lo", "low", "stop")], "hi", "stop"),
]  # fmt: skip


@pytest.mark.parametrize(("active", "winner", "action"), ARBITRATION_TABLE)
def test_arbitration_table(active, winner, action) -> None:
    for order in (active, list(reversed(active))):  # the order alarms came in does not matter
        result = arbitrate(order)
        assert (result.winner, result.action) == (winner, action)


def test_action_order_is_least_to_most_restrictive() -> None:
    assert ACTIONS == ("continue", "inhibit_bolus", "kvo", "stop")
    assert [restrictiveness(a) for a in ACTIONS] == [0, 1, 2, 3]


def test_table_is_data_with_the_published_priorities() -> None:
    """docs/references.md [IEC60601-1-8] [PumpManuals]: occlusion, air, door, free flow, empty,
    battery empty are high and
    stop; near empty and VTBI complete are medium/low."""
    table = default_alarm_table()
    for kind in ("occlusion", "air_in_line", "door_open", "free_flow", "reservoir_empty",
                 "battery_depleted"):  # fmt: skip
        assert (table.alarms[kind].priority, table.alarms[kind].action) == ("high", "stop")
    assert table.alarms["near_empty"].priority in ("low", "medium")
    assert table.alarms["vtbi_complete"].priority in ("low", "medium")
    assert table.alarms["dose_limit"].action == "kvo"  # OPCA R5.2.0(5): drop to KVO and warn
    unknown = table.spec("my_controllers_alarm", "high")
    assert (unknown.priority, unknown.action) == ("high", "stop")


@pytest.mark.parametrize(("profile", "seconds"), [("GIP", 120), ("OPCA", 600), ("CRISYS", 1800)])
def test_silence_profiles(profile, seconds) -> None:
    """GIP 3.2.1: re-activation after 2 min (GIP), 10 min (OPCA), 30 min (CRISYS)."""
    hw = Recorder()
    m = AlarmManager(profile=profile)
    m.raise_alarm(hw, "vtbi_complete")
    hw.now = 50.0
    assert m.silence(hw) == ["vtbi_complete"]
    assert hw.timers[AlarmManager.TIMER] == 50.0 + seconds
    hw.now = 50.0 + seconds
    assert m.on_timer(hw, AlarmManager.TIMER)
    assert hw.kinds("alarm_reactivated") == [
        (50.0 + seconds, {"alarm": "vtbi_complete", "priority": "medium"})
    ]


def test_cleared_alarm_does_not_reactivate() -> None:
    hw = Recorder()
    m = AlarmManager()
    m.raise_alarm(hw, "near_empty")
    m.silence(hw)
    m.clear(hw, "near_empty", "refilled")
    hw.now = 120.0
    m.on_timer(hw, AlarmManager.TIMER)
    assert hw.kinds("alarm_reactivated") == []


def test_raising_an_active_alarm_again_is_one_alarm() -> None:
    hw = Recorder()
    m = AlarmManager()
    m.raise_alarm(hw, "near_empty")
    m.raise_alarm(hw, "near_empty")
    assert len(hw.alarms) == 1


def test_escalation_third_stop_alarm_in_ten_minutes() -> None:
    """OPCA R6.5.0(18): the same alert-stop-start 3 times within 10 min -> repeated_alarm."""
    hw = Recorder()
    m = AlarmManager()
    for t, expect in ((0.0, False), (200.0, False), (590.0, True)):
        hw.now = t
        assert m.raise_alarm(hw, "occlusion") is expect
        m.clear(hw, "occlusion", "operator start")
    assert [k for _, k, _ in hw.alarms] == ["occlusion"] * 3 + ["repeated_alarm"]
    assert m.is_active("repeated_alarm") and m.action == "stop"


def test_no_escalation_when_spread_over_more_than_ten_minutes() -> None:
    hw = Recorder()
    m = AlarmManager()
    for t in (0.0, 400.0, 800.0):  # the first has left the 10-min window by the third
        hw.now = t
        assert not m.raise_alarm(hw, "occlusion")
        m.clear(hw, "occlusion")
    assert not m.is_active("repeated_alarm")


def test_display_follows_the_winner() -> None:
    hw = Recorder()
    m = AlarmManager()
    m.raise_alarm(hw, "near_empty")
    m.raise_alarm(hw, "occlusion")
    m.clear(hw, "occlusion")
    shown = [d.get("alarm") for _, d in hw.kinds("alarm_display")]
    assert shown == ["near_empty", "occlusion", "near_empty"]
