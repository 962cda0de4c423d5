"""A pump at run time: the Hardware its controller drives, inside SimPy.

:class:`PumpRuntime` implements :class:`pumpsim.pump.controller.Hardware` for
one pump. Timers and volume watches become SimPy timeouts at the exact time
they are due (a volume watch is re-timed whenever the rate changes); a
stale timeout is recognised by its token and ignored. Delivered flow goes to
a sink (the patient) as a piecewise-constant amount rate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import simpy

from pumpsim.engine.recorder import EventLog, Signal, StateSignal
from pumpsim.pump.controller import Controller

__all__ = ["PumpRuntime"]

FlowSink = Callable[[float, float], None]  # (time [s], flow at the tip [mL/s])


class PumpRuntime:
    """One pump: controller + ideal delivery, recorded.

    Parameters
    ----------
    env : simpy.Environment
    pump_id : str
    controller : Controller
    reservoir : float
        Volume loaded [mL]; ``math.inf`` for an unlimited source.
    log : EventLog
    sink : callable
        Called as ``sink(t, flow)`` whenever the flow reaching the line changes.
    """

    def __init__(
        self,
        env: simpy.Environment,
        pump_id: str,
        controller: Controller,
        reservoir: float,
        log: EventLog,
        sink: FlowSink,
    ) -> None:
        self.env = env
        self.id = pump_id
        self.source = f"pump.{pump_id}"
        self.controller = controller
        self._reservoir0 = reservoir
        self._log = log
        self._sink = sink
        self._rate = 0.0
        self._t_last = 0.0
        self._infused_last = 0.0
        self._tokens: dict[str, int] = {}
        self._watches: dict[str, float] = {}
        self.flow = Signal(0.0)
        self.infused_signal = Signal(0.0)
        self.state = StateSignal("idle")

    # -- Hardware --------------------------------------------------------------
    @property
    def now(self) -> float:
        return float(self.env.now)

    @property
    def infused(self) -> float:
        return self._infused_last + self._rate * (self.now - self._t_last)

    @property
    def reservoir(self) -> float:
        return self._reservoir0 - self.infused

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        if rate < 0 or not math.isfinite(rate):
            raise ValueError(f"{self.source}: controller commanded an invalid rate {rate!r}")
        t = self.now
        self._infused_last = self.infused
        self._t_last = t
        if rate == self._rate:
            return
        self._rate = rate
        self.flow.set(t, rate)
        self.infused_signal.set(t, self._infused_last, rate)
        self._sink(t, rate)
        for name, target in list(self._watches.items()):
            self._arm_watch(name, target)

    def set_timer(self, name: str, at: float) -> None:
        self._schedule(name, max(0.0, at - self.now))

    def watch_volume(self, name: str, infused: float) -> None:
        self._watches[name] = infused
        self._arm_watch(name, infused)

    def cancel(self, name: str) -> None:
        self._tokens[name] = self._tokens.get(name, 0) + 1
        self._watches.pop(name, None)

    def pressure(self, side: str = "downstream") -> float:
        return 0.0  # the ideal pump has no line model: pressure stays at baseline

    def watch_pressure(self, name: str, limit: float, side: str = "downstream") -> None:
        self._tokens[name] = self._tokens.get(name, 0) + 1  # never reached without a line

    def set_state(self, state: str) -> None:
        self.state.set(self.now, state)
        self._log.write(self.now, self.source, "state", state=state)

    def alarm(self, kind: str, priority: str, message: str = "") -> None:
        self._log.write(self.now, self.source, "alarm", alarm=kind, priority=priority,
                        message=message)  # fmt: skip

    def log(self, kind: str, **details: Any) -> None:
        self._log.write(self.now, self.source, kind, **details)

    # -- scheduling ------------------------------------------------------------
    def _arm_watch(self, name: str, target: float) -> None:
        remaining = target - self.infused
        if remaining <= 1e-12:
            self._schedule(name, 0.0)
        elif self._rate > 0:
            self._schedule(name, remaining / self._rate)
        else:
            self._tokens[name] = self._tokens.get(name, 0) + 1  # paused: not due

    def _schedule(self, name: str, delay: float) -> None:
        token = self._tokens.get(name, 0) + 1
        self._tokens[name] = token
        event = self.env.timeout(delay)
        event.callbacks.append(functools.partial(self._fire, name, token))

    def _fire(self, name: str, token: int, _event: object = None) -> None:
        if self._tokens.get(name) != token:
            return
        self._tokens[name] = token + 1
        self._watches.pop(name, None)
        self.controller.on_timer(self, name)

    def start(self) -> None:
        """Hand control to the controller at the current time."""
        self.controller.on_start(self)
