"""Faults on a pump's line, applied by scenario events: occlusion (at once or gradual),
clearing, free flow, air entering (a mixin of :class:`pumpsim.engine.pumps.PumpRuntime`)."""

from __future__ import annotations

import functools
from typing import Any

import simpy

from pumpsim.pump.mechanism import Mechanism

__all__ = ["LineFaults", "GRADUAL_STEPS"]

#: steps of a gradual occlusion's resistance staircase
GRADUAL_STEPS = 10


class LineFaults:
    """The fault methods of :class:`~pumpsim.engine.pumps.PumpRuntime` (its state below)."""

    env: simpy.Environment
    mechanism: Mechanism
    _severity: dict[str, float]
    _ramp_token: int
    _p: float
    _p_up: float
    _drawn: float
    _free_flow: float | None
    _air_pending: float
    _air_injected: float

    def _settle(self) -> None: ...  # pragma: no cover - PumpRuntime's
    def _recompute(self) -> None: ...  # pragma: no cover - PumpRuntime's
    def log(self, kind: str, /, **details: Any) -> None: ...  # pragma: no cover - PumpRuntime's

    def occlude(self, side: str = "downstream", severity: float = 1.0) -> None:
        """Occlude the line on ``side`` with ``severity`` in (0, 1] (1: full)."""
        self._settle()
        self._severity[side] = severity
        self.log("occlusion", side=side, severity=severity, pressure_mmHg=self._p)
        self._recompute()

    def occlude_gradually(self, side: str, severity: float, onset: float) -> None:
        """Occlusion growing to ``severity`` over ``onset`` [s], as a staircase of steps."""
        self._ramp_token += 1
        token = self._ramp_token
        for k in range(1, GRADUAL_STEPS + 1):
            event = self.env.timeout(onset * k / GRADUAL_STEPS)
            event.callbacks.append(functools.partial(
                self._ramp_step, token, side, severity * k / GRADUAL_STEPS))  # fmt: skip

    def _ramp_step(
        self, token: int, side: str, severity: float, _event: object = None
    ) -> None:
        if token == self._ramp_token:
            self.occlude(side, severity)

    def clear_occlusion(self) -> None:
        """Clear every occlusion; a collapsed upstream segment refills from the container."""
        self._settle()
        self._ramp_token += 1
        self._severity = {"downstream": 0.0, "upstream": 0.0}
        if self._p_up < 0 and self.mechanism.upstream_compliance:
            self._drawn += self.mechanism.upstream_compliance * -self._p_up
            self._p_up = 0.0
        self.log("occlusion_cleared", pressure_mmHg=self._p)
        self._recompute()

    def free_flow(self, rate: float) -> None:
        """From now on the set flows at ``rate`` [mL/s] by gravity, whatever the motor does."""
        self._settle()
        self._free_flow = rate
        self.log("free_flow", rate_mL_h=rate * 3600.0)
        self._recompute()

    def inject_air(self, volume: float) -> None:
        """A bubble of ``volume`` [mL] enters at the pump inlet (the next fluid pumped)."""
        self._settle()
        self._air_pending += volume
        self._air_injected += volume
        self.log("air_entered", volume_mL=volume)
        self._recompute()

