"""Where a pump's line delivers, and how a scenario pump becomes a runtime.

:class:`PatientOutlet` turns the flow and composition leaving a line's tip into
the patient's inputs: drug amount rates [amount/s] (what the PK sees, so dead
volume holding carrier changes it) and instantaneous boluses.
:func:`runtime_options` maps a scenario pump (kind, syringe, purge, mechanism
overrides, line, settings) to the mechanism and line the engine runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pumpsim.pump.line import (
    DEFAULT_SET_COMPLIANCE,
    DEFAULT_SET_RESISTANCE,
    Composition,
    LineSpec,
    drug_amounts,
    is_drug,
)
from pumpsim.pump.mechanism import build_mechanism

__all__ = ["Outlet", "PatientOutlet", "runtime_options"]


class Outlet(Protocol):
    """Where a line's tip delivers: the patient or a manifold."""

    def receive(self, source: str, flow: float, comp: Composition) -> None:
        """From now on ``source`` delivers ``flow`` [mL/s] of ``comp``."""
        ...

    def receive_bolus(self, source: str, volume: float, comp: Composition) -> None:
        """``source`` delivers ``volume`` [mL] of ``comp`` at once."""
        ...


class PatientOutlet:
    """The patient end: fluid in, drug amount rates [amount/s] and boluses out.

    ``set_rate(source, drug, amount_rate)`` and ``bolus(drug, amount)`` are the
    patient's inputs; only changed rates are passed on.
    """

    def __init__(
        self, set_rate: Callable[[str, str, float], None], bolus: Callable[[str, float], None]
    ) -> None:
        self._set_rate = set_rate
        self._bolus = bolus
        self._last: dict[str, dict[str, float]] = {}

    def receive(self, source: str, flow: float, comp: Composition) -> None:
        new = {k: flow * v for k, v in comp.items() if is_drug(k)}
        old = self._last.get(source, {})
        for drug in sorted(old.keys() | new.keys()):
            if new.get(drug, 0.0) != old.get(drug, 0.0):
                self._set_rate(source, drug, new.get(drug, 0.0))
        self._last[source] = new

    def receive_bolus(self, source: str, volume: float, comp: Composition) -> None:
        for drug, amount in drug_amounts(comp, volume).items():
            if amount > 0:
                self._bolus(drug, amount)


def runtime_options(
    pump: Any, amount_per_ml: float = 0.0, targeted: bool = False
) -> dict[str, Any]:
    """:class:`PumpRuntime` keyword arguments for a scenario pump.

    ``pump`` is a :class:`pumpsim.scenario.schema.Pump`; ``amount_per_ml`` the
    drug amount (base) per mL of its contents; ``targeted`` says scenario events
    act on its line. An ``ideal`` pump with an untouched line gets a perfect
    line; other kinds get a standard set (:data:`~pumpsim.pump.line.DEFAULT_SET_COMPLIANCE`,
    :data:`~pumpsim.pump.line.DEFAULT_SET_RESISTANCE`) unless the line says otherwise.
    """
    m = pump.mechanism
    mechanism = build_mechanism(
        pump.kind, size=pump.syringe, purged=pump.purge, compliance=m.compliance,
        free_play=m.free_play, pulsatility=m.pulsatility, stroke_volume=m.stroke_volume,
        shot=m.shot, temperature=m.temperature, fill=pump.reservoir,
    )  # fmt: skip
    ln = pump.line
    line_given = ln != type(ln)()  # anything but the default line
    ideal = pump.kind == "ideal"
    compliance = ln.compliance if ln.compliance is not None else (
        0.0 if ideal else DEFAULT_SET_COMPLIANCE)  # fmt: skip
    resistance = ln.resistance if ln.resistance is not None else (
        0.0 if ideal else DEFAULT_SET_RESISTANCE)  # fmt: skip
    fluid = {f"vol:{pump.id}": 1.0}
    if amount_per_ml > 0:
        fluid[pump.drug] = amount_per_ml
    prime = {f"vol:prime.{pump.id}": 1.0} if ln.primed_with == "carrier" else None
    return {
        "mechanism": mechanism,
        "line": LineSpec(compliance, resistance, ln.back_pressure, ln.dead_volume, prime),
        "fluid": fluid,
        "back_off": bool(pump.settings.back_off),
        "physics": not ideal or line_given or targeted,
        "flow_sensor": bool(pump.settings.flow_sensor),
    }
