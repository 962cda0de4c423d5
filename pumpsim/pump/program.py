"""Pump programs resolved to canonical numbers, ready for a controller.

A scenario's program steps carry quantities with units and dose-based rates;
a controller works with plain numbers: start times [s], rates [mL/s],
volumes [mL]. :func:`resolve_program` converts once, with the patient's
weight and the pump's concentration (REFERENCES.md §4: rate [mL/h] =
dose [mcg/kg/min] × WT × 60 / concentration [mcg/mL]).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Step", "dose_rate_to_flow", "resolve_program"]


@dataclass(frozen=True)
class Step:
    """One resolved program step.

    Attributes
    ----------
    start : float or None
        Start time [s]; None means "when the previous step ends".
    rate : float
        Volume rate [mL/s].
    vtbi : float or None
        Volume to be infused by this step [mL].
    duration : float or None
        Length of this step [s].
    mode : str
        Program mode (``"continuous"``).
    """

    start: float | None
    rate: float
    vtbi: float | None = None
    duration: float | None = None
    mode: str = "continuous"


def dose_rate_to_flow(dose_rate: float, weight: float | None, concentration: float) -> float:
    """Volume rate [mL/s] for ``dose_rate`` [amount/s, or amount/kg/s with ``weight`` kg].

    >>> round(dose_rate_to_flow(0.1 / 60, 60.0, 40.0) * 3600, 9)  # 0.1 mcg/kg/min, 40 mcg/mL
    9.0
    """
    amount_rate = dose_rate * weight if weight is not None else dose_rate
    return amount_rate / concentration


def resolve_program(pump, weight: float | None) -> list[Step]:  # type: ignore[no-untyped-def]
    """Resolve a scenario pump's program (see :class:`pumpsim.scenario.schema.Pump`)."""
    steps = []
    for i, s in enumerate(pump.program):
        if s.rate is not None:
            rate = s.rate
        else:
            dr = s.dose_rate
            rate = dose_rate_to_flow(
                dr.value, weight if dr.per_kg else None, pump.concentration.value
            )
        start = s.at if s.at is not None else (0.0 if i == 0 else None)
        steps.append(Step(start, rate, s.vtbi, s.duration, s.mode))
    return steps
