"""The pump's firmware: the controller interface and the reference controller.

A controller never touches the simulation. It is called back when something
happens (start, a timer it set, a volume it asked to be told about) and acts
only through the :class:`Hardware` it is handed: motor commands
(:meth:`Hardware.set_rate`), timers, volume watches, its displayed state,
alarms and log records. Every pump kind — ``ideal`` included — is driven
through a controller, so program logic can be tested without physics.

The engine provides the Hardware; times are seconds, volumes mL, rates mL/s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pumpsim.pump.program import Step

__all__ = ["Hardware", "Controller", "ReferenceController", "SensorEvent", "OperatorInput"]


@dataclass(frozen=True)
class SensorEvent:
    """Something a sensor reports that the controller did not ask a watch for.

    ``kind`` is e.g. ``"air"`` (a bubble passed the air detector; ``value`` its
    volume [mL]), ``"air_cumulative"`` (rolling-window air volume [mL]),
    ``"door"`` (``value`` 1 open, 0 closed), ``"battery"`` (minutes left),
    ``"mains"`` (1 on, 0 off).
    """

    kind: str
    value: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OperatorInput:
    """An input from a person: ``kind`` e.g. ``"pca_press"``, ``"start"``, ``"stop"``,
    ``"silence"``, ``"confirm"``, ``"bolus"``, ``"program"``; ``details`` its data."""

    kind: str
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Hardware(Protocol):
    """What a controller may read and command."""

    @property
    def now(self) -> float:
        """Current time [s]."""
        ...

    @property
    def infused(self) -> float:
        """Volume the mechanism has delivered since the start [mL]."""
        ...

    @property
    def reservoir(self) -> float:
        """Volume left in the syringe or container [mL] (inf for an unlimited source)."""
        ...

    @property
    def rate(self) -> float:
        """Rate the motor is commanded to [mL/s]."""
        ...

    def set_rate(self, rate: float) -> None:
        """Command the motor to ``rate`` [mL/s] (0 stops it)."""
        ...

    def set_timer(self, name: str, at: float) -> None:
        """Call ``on_timer(name)`` at time ``at`` [s] (replaces a timer of that name)."""
        ...

    def watch_volume(self, name: str, infused: float) -> None:
        """Call ``on_timer(name)`` when the delivered volume reaches ``infused`` [mL]."""
        ...

    def cancel(self, name: str) -> None:
        """Cancel the timer or volume watch ``name`` if it is pending."""
        ...

    def pressure(self, side: str = "downstream") -> float:
        """Line pressure sensed on ``side`` [mmHg] (0 where the pump has no sensor)."""
        ...

    def watch_pressure(self, name: str, limit: float, side: str = "downstream") -> None:
        """Call ``on_timer(name)`` when the ``side`` pressure reaches ``limit`` [mmHg]."""
        ...

    def set_state(self, state: str) -> None:
        """The state the pump shows (idle, running, paused, alarm, kvo, complete...)."""
        ...

    def alarm(self, kind: str, priority: str, message: str = "") -> None:
        """Raise an alarm of ``priority`` (high, medium, low)."""
        ...

    def log(self, kind: str, **details: Any) -> None:
        """Write a record to the event log."""
        ...


class Controller(Protocol):
    """The firmware interface a user's controller implements."""

    def on_start(self, hw: Hardware) -> None:
        """The simulation starts."""
        ...

    def on_timer(self, hw: Hardware, name: str) -> None:
        """A timer, volume watch or pressure watch set through ``hw`` fired."""
        ...

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        """A sensor reports something (air bubble, door, battery...)."""
        ...

    def on_input(self, hw: Hardware, event: OperatorInput) -> None:
        """A person pressed something (PCA button, start, stop, silence...)."""
        ...


class ReferenceController:
    """pumpsim's reference firmware (continuous programs, VTBI, reservoir).

    States: ``idle`` → ``running`` → (``kvo`` | ``complete`` | ``stopped``);
    every transition is logged.

    Parameters
    ----------
    program : list of Step
        The resolved program.
    vtbi_end : {"stop", "kvo", "continue"}
        What to do when a step's VTBI is reached and no step follows at once.
    kvo_rate : float
        Keep-vein-open rate [mL/s]; never above the rate that was running.
    """

    def __init__(self, program: list[Step], vtbi_end: str = "stop", kvo_rate: float = 1 / 3600):
        self.program = list(program)
        self.vtbi_end = vtbi_end
        self.kvo_rate = kvo_rate
        self.state = "idle"
        self.step_index: int | None = None
        self._step_infused0 = 0.0

    # -- helpers ---------------------------------------------------------------
    def _set_state(self, hw: Hardware, state: str) -> None:
        if state != self.state:
            self.state = state
            hw.set_state(state)

    def _next_timed(self, after: int) -> int | None:
        for j in range(after + 1, len(self.program)):
            if self.program[j].start is not None:
                return j
        return None

    def _begin(self, hw: Hardware, index: int) -> None:
        step = self.program[index]
        self.step_index = index
        self._step_infused0 = hw.infused
        hw.cancel("step_end")
        hw.cancel("vtbi")
        hw.log("program_step", step=index, rate_mL_h=step.rate * 3600, vtbi_mL=step.vtbi)
        hw.set_rate(step.rate)
        self._set_state(hw, "running" if step.rate > 0 else "paused")
        if step.vtbi is not None:
            hw.watch_volume("vtbi", self._step_infused0 + step.vtbi)
        elif step.duration is not None:
            hw.set_timer("step_end", hw.now + step.duration)
        if hw.reservoir != float("inf"):
            hw.watch_volume("empty", hw.infused + hw.reservoir)
        nxt = self._next_timed(index)
        if nxt is not None:
            hw.set_timer(f"step{nxt}", self.program[nxt].start)  # type: ignore[arg-type]

    def _step_finished(self, hw: Hardware, reason: str) -> None:
        index = self.step_index
        assert index is not None
        hw.log(reason, step=index, infused_mL=hw.infused - self._step_infused0)
        follow = index + 1
        if follow < len(self.program) and self.program[follow].start is None:
            self._begin(hw, follow)
            return
        if reason == "vtbi_complete" and self.vtbi_end == "continue":
            return
        if reason == "vtbi_complete" and self.vtbi_end == "kvo":
            hw.set_rate(min(self.kvo_rate, self.program[index].rate))
            self._set_state(hw, "kvo")
            return
        hw.set_rate(0.0)
        self._set_state(hw, "complete" if self._next_timed(index) is None else "stopped")

    # -- callbacks -------------------------------------------------------------
    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        hw.log("sensor", sensor=event.kind, value=event.value)

    def on_input(self, hw: Hardware, event: OperatorInput) -> None:
        hw.log("input_ignored", input=event.kind)

    def on_start(self, hw: Hardware) -> None:
        first = self.program[0]
        if first.start is not None and first.start > hw.now:
            hw.set_timer("step0", first.start)
        else:
            self._begin(hw, 0)

    def on_timer(self, hw: Hardware, name: str) -> None:
        if name.startswith("step") and name[4:].isdigit():
            self._begin(hw, int(name[4:]))
        elif name == "vtbi":
            self._step_finished(hw, "vtbi_complete")
        elif name == "step_end":
            self._step_finished(hw, "step_complete")
        elif name == "empty":
            for pending in ("vtbi", "step_end", *(f"step{j}" for j in range(len(self.program)))):
                hw.cancel(pending)
            hw.set_rate(0.0)
            hw.alarm("reservoir_empty", "high", "syringe or container empty")
            self._set_state(hw, "alarm")
