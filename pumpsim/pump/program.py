"""Pump programs resolved to canonical numbers, ready for a controller.

A scenario's program steps carry quantities with units and dose-based rates;
a controller works with plain numbers: start times [s], rates [mL/s],
volumes [mL]. :func:`resolve_program` converts once, with the patient's
weight and the pump's concentration (docs/references.md [DoseRate]: rate [mL/h] =
dose [mcg/kg/min] × WT × 60 / concentration [mcg/mL]).

Program modes (one class each, ``mode`` names it):

========================  ===================================================
:class:`Step`             ``continuous``: a rate for a VTBI or a duration
:class:`LoadingStep`      ``loading``: a loading dose, then maintenance
:class:`IntermittentStep` ``intermittent``: a dose every N hours (KVO between)
:class:`PcaStep`          ``pca``: demand dose, lockout, optional basal, limit
:class:`TaperStep`        ``taper``: ramp up, plateau, taper down (staircase)
:class:`SecondaryStep`    ``secondary``: a piggyback; then back to the primary
:class:`TciStep`          ``tci``: target-controlled infusion (:mod:`pumpsim.pump.tci`)
========================  ===================================================

:func:`phases` splits a step into constant-rate phases with a known end (a
volume or a time), which is what a controller schedules: events, not ticks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Step",
    "LoadingStep",
    "IntermittentStep",
    "PcaStep",
    "TaperStep",
    "SecondaryStep",
    "TciStep",
    "Phase",
    "phases",
    "dose_rate_to_flow",
    "resolve_program",
    "resolve_step",
    "to_volume",
    "to_flow",
]


@dataclass(frozen=True)
class Step:
    """One resolved program step (``continuous`` unless a subclass says otherwise).

    Attributes
    ----------
    start : float or None
        Start time [s]; None means "when the previous step ends".
    rate : float
        Volume rate [mL/s] (for PCA the basal, for a taper the plateau).
    vtbi : float or None
        Volume to be infused by this step [mL].
    duration : float or None
        Length of this step [s].
    mode : str
        Program mode.
    """

    start: float | None
    rate: float
    vtbi: float | None = None
    duration: float | None = None
    mode: str = "continuous"


@dataclass(frozen=True)
class LoadingStep(Step):
    """A loading dose of ``loading_volume`` [mL] at ``loading_rate`` [mL/s], then
    maintenance at ``rate`` until ``vtbi`` (loading included) or for ``duration``
    (after the loading dose)."""

    mode: str = "loading"
    loading_volume: float = 0.0
    loading_rate: float = 0.0


@dataclass(frozen=True)
class IntermittentStep(Step):
    """``dose_volume`` [mL] at ``rate`` [mL/s] every ``every`` [s], ``count`` times
    (None: until stopped); between doses ``between`` is ``"kvo"`` or ``"stop"``."""

    mode: str = "intermittent"
    dose_volume: float = 0.0
    every: float = 0.0
    count: int | None = None
    between: str = "kvo"


@dataclass(frozen=True)
class PcaStep(Step):
    """Patient-controlled analgesia; ``rate`` is the basal [mL/s] (0 for none).

    Attributes
    ----------
    demand : float
        Demand dose [mL].
    lockout : float
        Lockout interval from the start of a demand dose [s].
    limit_volume, limit_window : float or None
        At most ``limit_volume`` [mL] in any ``limit_window`` [s].
    max_demands : int or None
        At most this many demand doses per hour.
    """

    mode: str = "pca"
    demand: float = 0.0
    lockout: float = 0.0
    limit_volume: float | None = None
    limit_window: float | None = None
    max_demands: int | None = None


@dataclass(frozen=True)
class TaperStep(Step):
    """Ramp and taper: ``up`` [s] of rising steps, a plateau at ``rate``, ``down`` [s]
    of falling steps, ``increments`` steps each way, ``duration`` [s] in all.

    Rising step k of n runs at rate·k/(n+1), so each ramp delivers what a linear
    ramp would (rate·time/2) and the whole step delivers
    rate·(duration − (up + down)/2).
    """

    mode: str = "taper"
    up: float = 0.0
    down: float = 0.0
    increments: int = 4

    def segments(self) -> list[tuple[float, float]]:
        """(length [s], rate [mL/s]) of each constant-rate piece, in order."""
        n = self.increments
        total = self.duration or 0.0
        out = [(self.up / n, self.rate * k / (n + 1)) for k in range(1, n + 1)] if self.up else []
        out.append((total - self.up - self.down, self.rate))
        if self.down:
            out += [(self.down / n, self.rate * (n + 1 - k) / (n + 1)) for k in range(1, n + 1)]
        return out


@dataclass(frozen=True)
class SecondaryStep(Step):
    """A secondary (piggyback) infusion at ``start`` for ``vtbi``; the primary pauses
    and resumes where it was when the secondary completes."""

    mode: str = "secondary"


@dataclass(frozen=True)
class TciStep(Step):
    """Target-controlled infusion: hold ``target`` [amount/L, e.g. mg/L = ug/mL] at
    ``site`` (``"plasma"`` or ``"effect"``) with the firmware model ``pk_model``,
    recomputing the rate every ``update`` [s]; ``rate`` is unused (the controller
    computes it). Run by :class:`pumpsim.pump.tci.TciController`."""

    mode: str = "tci"
    target: float = 0.0
    site: str = "plasma"
    pk_model: str | None = None
    update: float = 10.0


@dataclass(frozen=True)
class Phase:
    """A constant-rate piece of a step.

    It ends when ``volume`` [mL] has been delivered since the phase began, or
    ``duration`` [s] after it began (after the previous phase began when
    ``from_previous``), or never (both None).
    """

    rate: float
    volume: float | None = None
    duration: float | None = None
    label: str = ""
    from_previous: bool = False

    @property
    def nominal(self) -> float | None:
        """Nominal length [s] at ``rate`` (None when open-ended)."""
        if self.volume is not None:
            return self.volume / self.rate if self.rate > 0 else None
        return self.duration


def phases(step: Step) -> Iterator[Phase]:
    """The constant-rate phases of ``step`` in order (infinite for an open intermittent)."""
    if isinstance(step, LoadingStep):
        yield Phase(step.loading_rate, volume=step.loading_volume, label="loading")
        rest = step.vtbi - step.loading_volume if step.vtbi is not None else None
        yield Phase(step.rate, rest, step.duration, "maintenance")
    elif isinstance(step, IntermittentStep):
        k = 0
        while step.count is None or k < step.count:
            k += 1
            yield Phase(step.rate, volume=step.dose_volume, label=f"dose {k}")
            if step.count is None or k < step.count:
                yield Phase(0.0, duration=step.every, label="interval", from_previous=True)
    elif isinstance(step, TaperStep):
        for i, (length, rate) in enumerate(step.segments()):
            yield Phase(rate, duration=length, label=f"taper {i + 1}")
    else:
        yield Phase(step.rate, step.vtbi, step.duration, step.mode)


def dose_rate_to_flow(dose_rate: float, weight: float | None, concentration: float) -> float:
    """Volume rate [mL/s] for ``dose_rate`` [amount/s, or amount/kg/s with ``weight`` kg].

    >>> round(dose_rate_to_flow(0.1 / 60, 60.0, 40.0) * 3600, 9)  # 0.1 mcg/kg/min, 40 mcg/mL
    9.0
    """
    amount_rate = dose_rate * weight if weight is not None else dose_rate
    return amount_rate / concentration


def _conc(pump: Any) -> float:
    if pump.concentration is None:
        raise ValueError(f"pump {pump.id}: a dose needs the pump's concentration")
    return float(pump.concentration.value)


def to_volume(value: Any, pump: Any, weight: float | None) -> float:
    """A dose (an Amount, per kg or not) or a volume [mL] as a volume [mL] of ``pump``."""
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    amount = value.value * (weight or 0.0) if value.per_kg else value.value
    return amount / _conc(pump)


def to_flow(value: Any, pump: Any, weight: float | None) -> float:
    """A dose rate (an Amount) or a flow [mL/s] as a flow [mL/s] of ``pump``."""
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    return dose_rate_to_flow(value.value, weight if value.per_kg else None, _conc(pump))


def resolve_step(s: Any, pump: Any, weight: float | None, start: float | None) -> Step:
    """Resolve one scenario program step (see :mod:`pumpsim.scenario.schema`)."""
    mode = getattr(s, "mode", "continuous")
    rate = to_flow(getattr(s, "rate", None) or getattr(s, "dose_rate", None), pump, weight)
    vtbi, duration = getattr(s, "vtbi", None), getattr(s, "duration", None)
    if mode == "loading":
        volume = to_volume(s.loading_dose, pump, weight)
        return LoadingStep(start, rate, vtbi, duration, loading_volume=volume,
                           loading_rate=volume / s.loading_time)  # fmt: skip
    if mode == "intermittent":
        volume = to_volume(s.dose, pump, weight)
        dose_rate = volume / s.over if s.over is not None else rate
        return IntermittentStep(start, dose_rate, None, None, dose_volume=volume,
                                every=s.every, count=s.count, between=s.between)  # fmt: skip
    if mode == "pca":
        limit = s.limit
        return PcaStep(
            start, to_flow(s.basal, pump, weight), None, duration,
            demand=to_volume(s.demand_dose, pump, weight),
            lockout=s.lockout,
            limit_volume=to_volume(limit.dose, pump, weight) if limit is not None else None,
            limit_window=limit.window if limit is not None else None,
            max_demands=s.max_demands,
        )  # fmt: skip
    if mode == "taper":
        up, down = s.up or 0.0, s.down or 0.0
        if not rate:  # the plateau that delivers the VTBI in the duration (both validated)
            rate = (vtbi or 0.0) / ((duration or 0.0) - (up + down) / 2)
        return TaperStep(start, rate, vtbi, duration, up=up, down=down,
                         increments=s.increments)  # fmt: skip
    if mode == "secondary":
        return SecondaryStep(start, rate, vtbi, None)
    if mode == "tci":  # target in amount/mL as written -> amount/L, the PK unit
        return TciStep(start, 0.0, None, duration, target=s.target.value * 1000.0, site=s.site,
                       pk_model=s.pk_model or getattr(pump, "pk_model", None),
                       update=s.update)  # fmt: skip
    return Step(start, rate, vtbi, duration, mode)


def resolve_program(pump: Any, weight: float | None, program: Any = None) -> list[Step]:
    """Resolve a scenario pump's program (see :class:`pumpsim.scenario.schema.Pump`),
    or ``program`` (a list of scenario steps) for that pump."""
    steps = []
    first_primary = True
    for s in pump.program if program is None else program:
        if s.at is not None:
            start = s.at
        elif first_primary and getattr(s, "mode", "continuous") != "secondary":
            start = 0.0
        else:
            start = None
        if getattr(s, "mode", "continuous") != "secondary":
            first_primary = False
        steps.append(resolve_step(s, pump, weight, start))
    return steps
