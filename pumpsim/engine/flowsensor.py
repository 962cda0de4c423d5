"""A pump's drop / flow sensor (``settings.flow_sensor``): what it tells the firmware.

The sensor sees the flow drawn through the set, averaged over the mechanism's
strokes or lead-screw turns (:attr:`pumpsim.pump.mechanism.Phase.mean`) — a drop
counter cannot resolve a stroke's pulsation — reduced by an upstream occlusion
and by a stalled drive, and replaced by the gravity flow of a free-flowing set.
:class:`PumpRuntime` hands it the new value at every change of its segment; the
sensor reports ``SensorEvent("flow", q)`` [mL/s] to the controller whenever that
value differs from the last one reported, at the same simulated instant (a
zero-delay event after the one that changed it, so a controller is never called
back from inside its own command). Nothing polls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from pumpsim.pump.controller import SensorEvent

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.pumps import PumpRuntime

__all__ = ["DropSensor"]

#: relative change of the sensed flow below which nothing is reported (rounding)
_REL = 1e-9


class DropSensor:
    """Reports the flow a pump's set carries whenever it changes."""

    def __init__(self, env: simpy.Environment, runtime: PumpRuntime) -> None:
        self.env = env
        self.runtime = runtime
        self.value = 0.0
        self.reported: float | None = None
        self._pending = False

    def see(self, flow: float) -> None:
        """The flow through the set from now on [mL/s]; reported at this instant if new."""
        self.value = flow
        if not self._pending and not self._same(flow):
            self._pending = True
            self.env.timeout(0.0).callbacks.append(self._flush)

    def _same(self, flow: float) -> bool:
        last = self.reported
        return last is not None and abs(flow - last) <= _REL * max(abs(flow), abs(last), 1e-12)

    def _flush(self, _event: object = None) -> None:
        self._pending = False
        if self._same(self.value):
            return
        self.reported = self.value
        rt = self.runtime
        rt.controller.on_sensor(rt, SensorEvent("flow", self.value))
