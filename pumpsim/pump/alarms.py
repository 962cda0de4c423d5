"""Pump alarms: priorities, an action per alarm as data, arbitration, silence, escalation.

The alarm table is data (``pumpsim/data/alarms.yaml``): each alarm kind has a
priority (high, medium, low; IEC 60601-1-8 categories) and an action the pump
takes while it is active. Actions are ordered from least to most restrictive,
``continue < inhibit_bolus < kvo < stop``; each implies the ones before it (a
pump at KVO gives no bolus).

Arbitration of simultaneous alarms (CRISYS 60-64): the alarm shown and
announced is the one of highest priority; between equal priorities the one
with the most restrictive action wins. The action in force is the most
restrictive of all active alarms, so a lower-priority alarm's restriction is
never lifted by a higher-priority alarm that only alerts (this is stricter than
the requirement and never less safe).

Silence (GIP 3.2.1) pauses the audio of the active alarms for a profile's
duration (GIP 2 min, OPCA 10 min, CRISYS 30 min); an alarm still active then
re-activates. Where the requirement sets disagree (silence, reservoir
thresholds) the values form an :class:`AlarmProfile` per source. The same
stop alarm raised ``count`` times within ``window`` (OPCA R6.5.0(18): 3 in
10 min) escalates to ``repeated_alarm``.

:class:`AlarmManager` keeps one pump's active alarms and acts only through
the :class:`~pumpsim.pump.controller.Hardware` it is handed, so it is firmware
like the controller that owns it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pumpsim.units import parse

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.pump.controller import Hardware

__all__ = [
    "PRIORITIES",
    "ACTIONS",
    "AlarmSpec",
    "AlarmProfile",
    "AlarmTable",
    "Arbitration",
    "arbitrate",
    "restrictiveness",
    "load_alarm_table",
    "default_alarm_table",
    "AlarmManager",
]

#: alarm priorities, lowest first
PRIORITIES: tuple[str, ...] = ("low", "medium", "high")
#: alarm actions, least restrictive first
ACTIONS: tuple[str, ...] = ("continue", "inhibit_bolus", "kvo", "stop")


def restrictiveness(action: str) -> int:
    """Rank of ``action`` in :data:`ACTIONS` (0 = continue ... 3 = stop)."""
    return ACTIONS.index(action)


@dataclass(frozen=True)
class AlarmSpec:
    """One row of the alarm table."""

    kind: str
    priority: str
    action: str
    message: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise ValueError(f"alarm {self.kind}: priority {self.priority!r}; allowed {PRIORITIES}")
        if self.action not in ACTIONS:
            raise ValueError(f"alarm {self.kind}: action {self.action!r}; allowed {ACTIONS}")

    @property
    def rank(self) -> tuple[int, int]:
        """Sort key: (priority rank, action rank)."""
        return PRIORITIES.index(self.priority), ACTIONS.index(self.action)


@dataclass(frozen=True)
class AlarmProfile:
    """Parameters on which the requirement sets disagree (canonical units: s, mL).

    Attributes
    ----------
    name : str
        GIP, OPCA or CRISYS.
    silence : float
        Audio pause before a silenced alarm re-activates [s] (GIP 3.2.1).
    reservoir_warning : float or None
        Reservoir volume [mL] below which the near-empty alert sounds (OPCA R6.8.0(9)).
    reservoir_alarm : float
        Reservoir volume [mL] at which the pump alarms and stops (OPCA R6.8.0(10)).
    """

    name: str
    silence: float = 120.0
    reservoir_warning: float | None = None
    reservoir_alarm: float = 0.0


@dataclass(frozen=True)
class AlarmTable:
    """The alarm table and the alarm-handling parameters (canonical units: s, mL)."""

    alarms: Mapping[str, AlarmSpec]
    profiles: Mapping[str, AlarmProfile] = field(
        default_factory=lambda: {"GIP": AlarmProfile("GIP")}
    )
    escalation_count: int = 3
    escalation_window: float = 600.0
    reminder: float = 120.0

    def spec(self, kind: str, priority: str | None = None) -> AlarmSpec:
        """The row for ``kind``; an unknown kind gets ``priority`` (default high) and
        the action high → stop, otherwise continue."""
        if kind in self.alarms:
            return self.alarms[kind]
        prio = priority or "high"
        return AlarmSpec(kind, prio, "stop" if prio == "high" else "continue")

    def profile(self, name: str) -> AlarmProfile:
        """The named profile (GIP, OPCA, CRISYS)."""
        try:
            return self.profiles[name]
        except KeyError:
            raise ValueError(
                f"unknown alarm profile {name!r}; allowed: {', '.join(self.profiles)}"
            ) from None


def load_alarm_table(path: str | Path | None = None) -> AlarmTable:
    """Read an alarm table YAML file (default: pumpsim's ``data/alarms.yaml``)."""
    import yaml

    if path is None:
        text = resources.files("pumpsim").joinpath("data/alarms.yaml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    alarms = {
        kind: AlarmSpec(
            kind, row["priority"], row["action"], row.get("message", ""), row.get("source", "")
        )  # fmt: skip
        for kind, row in data["alarms"].items()
    }
    profiles = {
        name: AlarmProfile(
            name,
            silence=parse(row["silence"], "time"),
            reservoir_warning=(
                parse(row["reservoir_warning"], "volume") if row.get("reservoir_warning") else None
            ),
            reservoir_alarm=parse(row.get("reservoir_alarm") or "0 mL", "volume"),
        )
        for name, row in data["profiles"].items()
    }
    esc = data.get("escalation", {})
    return AlarmTable(
        alarms=alarms,
        profiles=profiles,
        escalation_count=int(esc.get("count", 3)),
        escalation_window=parse(esc.get("window", "10 min"), "time"),
        reminder=parse(data.get("reminder", "2 min"), "time"),
    )


@lru_cache(maxsize=1)
def default_alarm_table() -> AlarmTable:
    """pumpsim's alarm table (read once; frozen)."""
    return load_alarm_table()


@dataclass(frozen=True)
class Arbitration:
    """Outcome of arbitrating the active alarms.

    ``winner`` is the alarm shown and announced (None when none is active);
    ``action`` is the action in force.
    """

    winner: str | None
    priority: str | None
    action: str


def arbitrate(active: Iterable[AlarmSpec]) -> Arbitration:
    """Arbitrate simultaneous alarms (CRISYS 60-64).

    The highest priority wins; between equal priorities the most restrictive
    action wins (ties then by kind, so the result never depends on order). The
    action in force is the most restrictive of all active alarms.

    >>> a = AlarmSpec("near_empty", "low", "continue")
    >>> b = AlarmSpec("dose_limit", "medium", "kvo")
    >>> arbitrate([a, b])
    Arbitration(winner='dose_limit', priority='medium', action='kvo')
    """
    specs = list(active)
    if not specs:
        return Arbitration(None, None, "continue")
    winner = max(specs, key=lambda s: (s.rank, s.kind))
    action = max((s.action for s in specs), key=restrictiveness)
    return Arbitration(winner.kind, winner.priority, action)


@dataclass
class _Active:
    spec: AlarmSpec
    since: float
    silenced: bool = False


class AlarmManager:
    """One pump's active alarms: raise, clear, silence and re-activate, escalate.

    Every change is written through the Hardware: ``alarm`` records (via
    :meth:`Hardware.alarm`) when an alarm is raised, and log records
    ``alarm_cleared``, ``alarm_silenced``, ``alarm_reactivated`` and
    ``alarm_display`` (the arbitration winner changed), each with ``alarm``.

    Parameters
    ----------
    table : AlarmTable
    profile : str
        Alarm profile name (GIP, OPCA, CRISYS): sets the audio-pause length.
    """

    #: the timer name the manager uses for silence re-activation
    TIMER = "alarm_silence"

    def __init__(self, table: AlarmTable | None = None, profile: str = "GIP") -> None:
        self.table = table or default_alarm_table()
        self.profile = self.table.profile(profile)
        self.silence_s = self.profile.silence
        self.active: dict[str, _Active] = {}
        self._raised: dict[str, list[float]] = {}
        self._shown: str | None = None

    # -- queries ---------------------------------------------------------------
    def is_active(self, kind: str) -> bool:
        return kind in self.active

    def arbitration(self) -> Arbitration:
        return arbitrate(a.spec for a in self.active.values())

    @property
    def action(self) -> str:
        """The action in force (``continue`` with no alarm)."""
        return self.arbitration().action

    def restricts(self, action: str) -> bool:
        """True when the action in force is at least as restrictive as ``action``."""
        return restrictiveness(self.action) >= restrictiveness(action)

    # -- changes ---------------------------------------------------------------
    def raise_alarm(self, hw: Hardware, kind: str, message: str = "",
                    priority: str | None = None) -> bool:  # fmt: skip
        """Raise ``kind`` (no-op when already active). Returns True when this raise
        escalated to ``repeated_alarm`` (OPCA R6.5.0(18))."""
        if kind in self.active:
            return False
        spec = self.table.spec(kind, priority)
        self.active[kind] = _Active(spec, hw.now)
        hw.alarm(kind, spec.priority, message or spec.message)
        escalated = False
        if spec.action == "stop" and kind != "repeated_alarm":
            times = [
                t for t in self._raised.get(kind, []) if t > hw.now - self.table.escalation_window
            ]
            times.append(hw.now)
            self._raised[kind] = times
            if len(times) >= self.table.escalation_count:
                self.raise_alarm(
                    hw, "repeated_alarm",
                    f"{kind} {len(times)} times within "
                    f"{self.table.escalation_window / 60:g} min; stopped",
                )  # fmt: skip
                escalated = True
        self._show(hw)
        return escalated

    def clear(self, hw: Hardware, kind: str, cause: str = "") -> bool:
        """Clear ``kind`` if active; returns whether it was."""
        if self.active.pop(kind, None) is None:
            return False
        hw.log("alarm_cleared", alarm=kind, cause=cause or None)
        self._show(hw)
        return True

    def silence(self, hw: Hardware) -> list[str]:
        """Pause the audio of every active alarm; they re-activate after the profile's time."""
        silenced = []
        until = hw.now + self.silence_s
        for kind, a in self.active.items():
            a.silenced = True
            silenced.append(kind)
            hw.log("alarm_silenced", alarm=kind, until_s=until)
        if silenced:
            hw.set_timer(self.TIMER, until)
        return silenced

    def on_timer(self, hw: Hardware, name: str) -> bool:
        """Handle the manager's own timer; returns False for any other name."""
        if name != self.TIMER:
            return False
        for kind, a in self.active.items():
            if a.silenced:
                a.silenced = False
                hw.log("alarm_reactivated", alarm=kind, priority=a.spec.priority)
        return True

    def _show(self, hw: Hardware) -> None:
        arb = self.arbitration()
        if arb.winner != self._shown:
            self._shown = arb.winner
            hw.log("alarm_display", alarm=arb.winner, priority=arb.priority, action=arb.action)
