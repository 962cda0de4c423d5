"""Operator and patient inputs of the reference controller (its keypad and PCA button).

``start`` resumes after an operator stop or a stop alarm (clearing it);
``stop`` holds the infusion and keeps the program; ``silence`` pauses the
alarms' audio (they re-activate after the profile's time, GIP 3.2.1);
``confirm`` accepts a pending soft-limit override (GIP 6.1.4) or acknowledges a
repeated alarm (OPCA R6.5.0(18)); ``program`` and ``titrate`` are checked
against the drug library first (a hard limit refuses, GIP 6.1.3);
``clinician_bolus`` and ``pca_press`` go to :mod:`pumpsim.pump.bolus`.

:class:`Keypad` is a part of :class:`~pumpsim.pump.reference.ReferenceController`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pumpsim.pump.alarms import AlarmManager
from pumpsim.pump.bolus import FLOWING
from pumpsim.pump.controller import Hardware, OperatorInput, PumpConfig
from pumpsim.pump.druglib import Breach
from pumpsim.pump.pca import PcaLedger
from pumpsim.pump.program import Phase, Step

__all__ = ["Keypad"]


class Keypad:
    """What the reference controller does with each :class:`OperatorInput`."""

    config: PumpConfig
    alarms: AlarmManager
    pca: PcaLedger | None
    index: int | None
    state: str
    _phase: Phase | None
    _later: list[Phase]
    _pending: tuple[str, Any] | None
    _held_by: str | None
    _rate_now: float

    # the controller's own methods this part calls
    if TYPE_CHECKING:  # provided by the ReferenceController this part is mixed into

        def _apply(self, hw: Hardware) -> None: ...
        def _hold(self, hw: Hardware, state: str, cause: str, by: str) -> None: ...
        def _release(self, hw: Hardware, cause: str) -> None: ...
        def _alarms_changed(self, hw: Hardware) -> None: ...
        def _go(self, hw: Hardware, state: str, cause: str) -> None: ...
        def _load(self, hw: Hardware, steps: list[Step]) -> None: ...
        def _enter_program(self, hw: Hardware, steps: list[Step], first: bool) -> None: ...
        def _screen(
            self, hw: Hardware, what: str, breaches: list[Breach], **where: Any
        ) -> str | None: ...
        def _pca_request(self, hw: Hardware) -> None: ...
        def _clinician_bolus(self, hw: Hardware, volume: float, duration: float | None) -> None: ...

    def on_input(self, hw: Hardware, event: OperatorInput) -> None:
        handler = getattr(self, f"_in_{event.kind}", None)
        if handler is None:
            hw.log("input_ignored", input=event.kind, reason="unknown input")
        else:
            handler(hw, event.details)
        self._apply(hw)

    def _in_pca_press(self, hw: Hardware, _details: dict[str, Any]) -> None:
        self._pca_request(hw)

    def _in_silence(self, hw: Hardware, _details: dict[str, Any]) -> None:
        if not self.alarms.silence(hw):
            hw.log("input_ignored", input="silence", reason="no active alarm")

    def _in_stop(self, hw: Hardware, _details: dict[str, Any]) -> None:
        if self.state not in FLOWING:
            hw.log("input_ignored", input="stop", reason=f"pump {self.state}")
            return
        self._hold(hw, "paused", "operator stop", "operator")
        hw.set_timer("reminder", hw.now + self.alarms.table.reminder)

    def _in_start(self, hw: Hardware, _details: dict[str, Any]) -> None:
        if self._pending is not None:
            hw.log("input_ignored", input="start", reason="confirm the override first")
            return
        if self.alarms.is_active("repeated_alarm"):
            hw.log(
                "input_ignored", input="start", reason="acknowledge the repeated alarm (confirm)"
            )
            return
        if getattr(self, "door_open", False):
            hw.log("input_ignored", input="start", reason="door open")
            return
        if self.alarms.is_active("reservoir_empty"):
            hw.log("input_ignored", input="start", reason="reservoir empty")
            return
        if self._held_by is None:
            hw.log("input_ignored", input="start", reason=f"pump {self.state}")
            return
        for kind, a in list(self.alarms.active.items()):
            if a.spec.action == "stop" or kind == "idle_standby":
                self.alarms.clear(hw, kind, "operator start")
        self._release(hw, "operator start")
        self._alarms_changed(hw)

    def _in_confirm(self, hw: Hardware, _details: dict[str, Any]) -> None:
        if self.alarms.clear(hw, "repeated_alarm", "acknowledged"):
            return
        if self._pending is None:
            hw.log("input_ignored", input="confirm", reason="nothing to confirm")
            return
        what, payload = self._pending
        self._pending = None
        hw.cancel("reminder")
        self.alarms.clear(hw, "program_unfinished", "override confirmed")
        hw.log("override_confirmed", what=what)
        if what == "program":
            self._load(hw, payload)
        elif what == "titrate":
            self._titrate(hw, payload)
        elif what == "clinician_bolus":
            self._clinician_bolus(hw, *payload)

    def _in_program(self, hw: Hardware, details: dict[str, Any]) -> None:
        steps = list(details["program"])
        hw.log("program_entered", steps=len(steps))
        self._enter_program(hw, steps, first=False)

    def _in_titrate(self, hw: Hardware, details: dict[str, Any]) -> None:
        rate = float(details["rate"])
        if self._phase is None or self.state not in ("running", "kvo", "paused", "alarm"):
            hw.log("input_ignored", input="titrate", reason=f"no running step ({self.state})")
            return
        entry = self.config.ders
        found = (
            entry.check_rate(rate, self.config.concentration, self.config.weight) if entry else None
        )
        gate = self._screen(hw, "titrate", [found] if found else [])
        if gate == "soft":
            self._pending = ("titrate", rate)
        elif gate is None:
            self._titrate(hw, rate)

    def _titrate(self, hw: Hardware, rate: float) -> None:
        if self._phase is None:
            return
        old = self._phase.rate
        self._phase = replace(self._phase, rate=rate)
        if self.pca is None and self.index is not None:
            self._later = [replace(p, rate=rate) if p.label == "maintenance" else p
                           for p in getattr(self, "_later", [])]  # fmt: skip
        hw.log("titrated", old_mL_h=old * 3600, new_mL_h=rate * 3600)
        if self.state == "paused" and self._held_by is None and rate > 0:
            self._go(hw, "running", "titrated up from zero")
        self._rate_now = -1.0  # force a time-remaining record even if the rate is unchanged
