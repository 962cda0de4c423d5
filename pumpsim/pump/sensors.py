"""Line sensors as firmware sees them, and the minimal safety reaction to them.

The engine's line model reports through the :class:`~pumpsim.pump.controller.Hardware`:
downstream and upstream pressure (``hw.pressure(side)``, and a watch that fires
when a limit is reached, ``hw.watch_pressure``), air-in-line as
:class:`~pumpsim.pump.controller.SensorEvent` ``"air"`` (one bubble passed the
detector, ``value`` its volume [mL]) and ``"air_cumulative"`` (air passed in
the rolling 15-min window [mL]), and the container level (``hw.reservoir``).

:class:`LineSafety` is the reference firmware's reaction, kept apart so any
controller can reuse it: arm the pressure watches at start, and say which
high-priority alarm a watch or sensor event calls for (the controller stops the
pump). Limits (docs/references.md [ECRI] [GIP2009] [OPCA2020] [PumpManuals]):

* downstream occlusion: the pump's ``occlusion_limit`` (default 300 mmHg; ECRI
  and GIP 1.10.3 want it below 20 psi = 1034 mmHg) [V];
* upstream occlusion: 1 psi ≈ 51.7 mmHg of suction (Open PCA) [V];
* single bubble: > ``air_limit`` (default 200 uL, GIP 1.9.1) [V];
* accumulated air: > ``air_cumulative_limit`` in 15 min (default 1 mL, Alaris) [V].

:class:`UnderInfusionWatch` reads a drop / flow sensor (``SensorEvent("flow", q)``,
pumps with ``flow_sensor``): sensed flow below 90 % of the set rate for 15 min calls
for an ``under_infusion`` alarm (GIP 1.2.3) [V].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "LineSafety",
    "DEFAULT_OCCLUSION_LIMIT",
    "DEFAULT_AIR_LIMIT",
    "DEFAULT_AIR_CUMULATIVE_LIMIT",
    "UPSTREAM_OCCLUSION_LIMIT",
    "UnderInfusionWatch",
    "UNDER_INFUSION_FRACTION",
    "UNDER_INFUSION_DELAY",
]

#: downstream occlusion limit when the pump's settings give none [mmHg]
DEFAULT_OCCLUSION_LIMIT = 300.0
#: single-bubble limit [mL]: GIP 1.9.1 alarms on a bubble > 200 uL
DEFAULT_AIR_LIMIT = 0.2
#: accumulated-air limit [mL] in the rolling 15-min window (Alaris: > 1 mL)
DEFAULT_AIR_CUMULATIVE_LIMIT = 1.0
#: upstream occlusion: suction beyond 1 psi (Open PCA: upstream > 1 psi) [mmHg]
UPSTREAM_OCCLUSION_LIMIT = -1.0 * 51.71493


@dataclass(frozen=True)
class LineSafety:
    """Occlusion and air-in-line limits and the alarm each breach raises.

    Watches are named ``"occlusion"`` and ``"occlusion_upstream"``; a
    controller forwards ``on_timer`` and ``on_sensor`` to :meth:`alarm_for_timer`
    and :meth:`alarm_for_sensor`, which return ``(alarm kind, message)`` or None.
    """

    occlusion_limit: float = DEFAULT_OCCLUSION_LIMIT
    air_limit: float = DEFAULT_AIR_LIMIT
    air_cumulative_limit: float = DEFAULT_AIR_CUMULATIVE_LIMIT
    upstream_limit: float = UPSTREAM_OCCLUSION_LIMIT

    @classmethod
    def from_settings(cls, settings: Any) -> LineSafety:
        """From a scenario pump's ``settings`` (None fields take the defaults)."""

        def pick(name: str, default: float) -> float:
            value = getattr(settings, name, None)
            return default if value is None else float(value)

        return cls(
            pick("occlusion_limit", DEFAULT_OCCLUSION_LIMIT),
            pick("air_limit", DEFAULT_AIR_LIMIT),
            pick("air_cumulative_limit", DEFAULT_AIR_CUMULATIVE_LIMIT),
        )

    def arm(self, hw: Any) -> None:
        """Set the downstream and upstream pressure watches."""
        hw.watch_pressure("occlusion", self.occlusion_limit, "downstream")
        hw.watch_pressure("occlusion_upstream", self.upstream_limit, "upstream")

    def alarm_for_timer(self, hw: Any, name: str) -> tuple[str, str] | None:
        """The alarm a fired watch calls for (None: not a line watch)."""
        if name == "occlusion":
            return "occlusion", f"downstream pressure {hw.pressure():.0f} mmHg"
        if name == "occlusion_upstream":
            return "occlusion_upstream", f"upstream pressure {hw.pressure('upstream'):.0f} mmHg"
        return None

    def alarm_for_sensor(self, event: Any) -> tuple[str, str] | None:
        """The alarm an air sensor event calls for (None: within limits or not air)."""
        if event.kind == "air" and event.value > self.air_limit:
            return "air_in_line", f"bubble {event.value * 1000:.0f} uL"
        if event.kind == "air_cumulative" and event.value > self.air_cumulative_limit:
            return "air_in_line_cumulative", f"{event.value:.2f} mL of air in 15 min"
        return None


#: GIP 1.2.3: delivered flow below this fraction of the setting ...
UNDER_INFUSION_FRACTION = 0.90
#: ... for this long [s] -> under-infusion alarm
UNDER_INFUSION_DELAY = 15 * 60.0


class UnderInfusionWatch:
    """Sensed flow below :data:`UNDER_INFUSION_FRACTION` of the set rate for
    :data:`UNDER_INFUSION_DELAY` -> ``under_infusion`` (GIP 1.2.3).

    :meth:`update` is called with every flow reading and after every rate change:
    it arms the timer :attr:`TIMER` when the flow falls short of a running setting and
    cancels it when the flow recovers or the motor stops; it returns whether the flow is
    short now (False: an ``under_infusion`` alarm may clear). Nothing happens before
    the sensor's first reading (a pump without a flow sensor never sends one).
    """

    TIMER = "under_infusion"

    def __init__(self) -> None:
        self.sensed: float | None = None
        self.since: float | None = None  # when the flow fell short

    def update(self, hw: Any, sensed: float | None = None) -> bool:
        if sensed is not None:
            self.sensed = sensed
        if self.sensed is None:
            return False
        short = hw.rate > 0 and self.sensed < UNDER_INFUSION_FRACTION * hw.rate * (1 - 1e-9)
        if short and self.since is None:
            self.since = hw.now
            hw.set_timer(self.TIMER, hw.now + UNDER_INFUSION_DELAY)
        elif not short and self.since is not None:
            self.since = None
            hw.cancel(self.TIMER)
        return short
