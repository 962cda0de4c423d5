"""The administration line: compliance, resistance, dead volume, occlusion, air.

Pure closed forms and small state classes; :mod:`pumpsim.engine` schedules
them in time. Canonical units: volume [mL], flow [mL/s], pressure [mmHg]
(gauge, relative to the patient's end at zero back-pressure), compliance
[mL/mmHg], resistance [mmHg·s/mL], time [s].

Model (docs/references.md [Snijder2015] [Lovich2005] [ECRI]):

* The line is a **compliant chamber** at the pump end (syringe or cassette plus
  the set, total compliance ``C``) feeding a **rigid tube** of dead volume
  ``V`` in plug flow, through a resistance ``R`` to a back-pressure ``P_v``
  (venous pressure, head height).
* Pressure and stored volume are linked by ``ΔP = ΔV/C``. With the outlet fully
  occluded the pressure rises linearly, so the time to an alarm at ``P_alarm``
  from a baseline ``P0`` is ``t = C·(P_alarm − P0)/Q`` (:func:`time_to_pressure`),
  and clearing releases ``≈ C·ΔP`` (:func:`release_bolus`).
* Between events every flow is constant, so a first-order response (time
  constant ``τ = R·C``) is represented by its **equal-area linear form**: after a
  change, the outflow keeps the value ``(P − P_v)/R`` it has at the change for
  one ``τ`` while the pressure moves linearly to its new equilibrium
  ``P_v + R·Q`` (:func:`chamber_segment`). The volume stored and released is the
  exact exponential's; only the shape within ``τ`` (seconds for a normal set)
  differs. A full occlusion (``R = ∞``) is exact.
* Partial occlusion of severity ``s`` multiplies the resistance by ``1/(1 − s)``
  (``s = 1``: full) (:func:`occluded_resistance`).
* **Dead volume** delays a change of what enters the tube by ``V/Q``
  (:func:`transport_delay`); several pumps joining at a manifold share the
  common tube, so a carrier shortens the delay to ``V/ΣQ`` (Lovich 2005/2013).
* What the fluid carries is a :data:`Composition` — per mL: the volume fraction
  of air (``"air"``), of each source's liquid (``"vol:<source>"``) and the amount
  of each drug (``"<drug>"``). :class:`PlugFlowTube` moves compositions exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "AIR",
    "Composition",
    "LineSpec",
    "PlugFlowTube",
    "Segment",
    "chamber_segment",
    "drug_amounts",
    "equilibrium_pressure",
    "free_flow_rate",
    "is_drug",
    "liquid_fraction",
    "mix",
    "occluded_resistance",
    "release_bolus",
    "same_composition",
    "time_to_pressure",
    "transport_delay",
    "DEFAULT_SET_COMPLIANCE",
    "DEFAULT_SET_RESISTANCE",
]

#: the composition key of air (its value is the volume fraction of air)
AIR = "air"
Composition = Mapping[str, float]

#: compliance of a standard extension set [mL/mmHg] (0.5 uL/mmHg) — illustrative [I],
#: small against syringe compliance (1.2–2.8 uL/mmHg, Snijder 2015 review).
DEFAULT_SET_COMPLIANCE = 0.5e-3
#: resistance of a 150 cm x 1.0 mm extension plus a 22 G x 25 mm cannula [mmHg·s/mL]:
#: Hagen–Poiseuille R = 8·μ·L/(π·r⁴) with water at 20 °C (μ 1.0 mPa·s) gives
#: 0.13 + 0.075 ≈ 0.2 mmHg per mL/h [D]; τ = R·C is then about 2 s.
DEFAULT_SET_RESISTANCE = 0.2 * 3600.0

_VOLUME_TOL = 1e-12  # mL: slugs thinner than this are merged away


# -- closed forms -----------------------------------------------------------------
def equilibrium_pressure(flow: float, resistance: float, back_pressure: float = 0.0) -> float:
    """Steady line pressure ``P_v + R·Q`` [mmHg] for flow [mL/s] and resistance [mmHg·s/mL]."""
    if math.isinf(resistance):
        return math.inf if flow > 0 else back_pressure
    return back_pressure + resistance * flow


def time_to_pressure(compliance: float, p_from: float, p_to: float, flow: float) -> float:
    """Time [s] for a fully occluded line to rise from ``p_from`` to ``p_to`` [mmHg].

    ``t = C·(p_to − p_from)/Q`` (docs/references.md [Snijder2015]: ΔP = ΔV/C) with compliance
    ``C`` [mL/mmHg] and the flow ``Q`` [mL/s] the pump keeps pushing. Example:
    C = 2.5 uL/mmHg, from 10 to 300 mmHg at 1 mL/h gives 2.5e-3·290/(1/3600) s =
    43.5 min. Returns 0 if already there and ``inf`` without flow.
    """
    if p_to <= p_from:
        return 0.0
    if flow <= 0:
        return math.inf
    return compliance * (p_to - p_from) / flow


def release_bolus(compliance: float, pressure: float, equilibrium: float = 0.0) -> float:
    """Volume [mL] a line at ``pressure`` releases on clearing: ``C·(P − P_eq)``."""
    return max(0.0, compliance * (pressure - equilibrium))


def transport_delay(dead_volume: float, flow: float) -> float:
    """Plug-flow delay [s] for a change to cross ``dead_volume`` [mL] at ``flow`` [mL/s].

    Lovich et al. 2005/2013 (docs/references.md [Lovich2005] [Lovich2013] [D]): 1 mL at
    3 mL/h drug alone is
    20 min; with a 10 mL/h carrier the total flow is 13 mL/h, so 4.6 min.
    """
    if dead_volume <= 0:
        return 0.0
    return dead_volume / flow if flow > 0 else math.inf


def occluded_resistance(resistance: float, severity: float) -> float:
    """Resistance [mmHg·s/mL] of a line occluded with ``severity`` in [0, 1] (1: full)."""
    if not 0.0 <= severity <= 1.0:
        raise ValueError(f"severity must be in [0, 1], got {severity!r}")
    if severity >= 1.0:
        return math.inf
    return resistance / (1.0 - severity)


def free_flow_rate(head_pressure: float, resistance: float, back_pressure: float = 0.0) -> float:
    """Gravity flow [mL/s] of a set out of its pump: ``(P_head − P_v)/R`` (Poiseuille)."""
    if resistance <= 0:
        raise ValueError("free flow needs a line resistance > 0")
    return max(0.0, head_pressure - back_pressure) / resistance


@dataclass(frozen=True)
class Segment:
    """One piece of the chamber's linear response: constant outflow, linear pressure.

    ``outflow`` [mL/s] into the tube, ``slope`` dP/dt [mmHg/s], ``duration`` [s]
    until the equilibrium ``target`` [mmHg] is reached (``inf``: holds).
    """

    outflow: float
    slope: float
    duration: float
    target: float


def chamber_segment(
    pressure: float, inflow: float, resistance: float, back_pressure: float, compliance: float
) -> Segment:
    """The chamber's response from ``pressure`` [mmHg] with ``inflow`` [mL/s].

    Equal-area linear form of ``C·dP/dt = Q_in − (P − P_v)/R``: the outflow is
    ``(P − P_v)/R`` for ``τ = R·C``, while the pressure moves linearly to
    ``P_v + R·Q_in``; the stored volume ``C·ΔP`` moves exactly as in the
    exponential. ``R = ∞`` (full occlusion): no outflow, ``dP/dt = Q_in/C``
    forever (exact). ``C = 0`` or ``R = 0``: instantaneous equilibrium.
    """
    if math.isinf(resistance):
        if compliance <= 0:
            return Segment(0.0, 0.0, math.inf, pressure)
        return Segment(0.0, inflow / compliance, math.inf, math.inf if inflow > 0 else pressure)
    target = back_pressure + resistance * inflow
    tau = resistance * compliance
    if tau <= 0 or abs(pressure - target) <= 1e-9 * max(1.0, abs(target)):
        return Segment(inflow, 0.0, math.inf, target)
    outflow = max(0.0, (pressure - back_pressure) / resistance)
    return Segment(outflow, (target - pressure) / tau, tau, target)


@dataclass(frozen=True)
class LineSpec:
    """One pump's line (canonical units).

    ``compliance`` of the set [mL/mmHg] (the mechanism adds its own),
    ``resistance`` [mmHg·s/mL], ``back_pressure`` at the patient [mmHg],
    ``dead_volume`` [mL] from the pump to the patient (or the manifold), and the
    ``prime`` it is filled with at the start (None: the pump's own fluid).
    """

    compliance: float = 0.0
    resistance: float = 0.0
    back_pressure: float = 0.0
    dead_volume: float = 0.0
    prime: Composition | None = None

    def __post_init__(self) -> None:
        for name in ("compliance", "resistance", "dead_volume"):
            value = getattr(self, name)
            if not (value >= 0 and not math.isnan(value)):
                raise ValueError(f"line {name} must be >= 0, got {value!r}")


# -- compositions ------------------------------------------------------------------
def is_drug(key: str) -> bool:
    """True for a drug-amount key (not air, not a liquid-volume ``vol:`` key)."""
    return key != AIR and not key.startswith("vol:")


def liquid_fraction(comp: Composition) -> float:
    """Volume fraction of liquid (1 − air)."""
    return 1.0 - comp.get(AIR, 0.0)


def drug_amounts(comp: Composition, volume: float) -> dict[str, float]:
    """Drug amounts carried by ``volume`` [mL] of ``comp``."""
    return {k: v * volume for k, v in comp.items() if is_drug(k)}


def same_composition(a: Composition, b: Composition, rtol: float = 1e-9) -> bool:
    """Equal compositions (to ``rtol``), keys with zero values ignored."""
    if a == b:  # the usual case, decided without a loop
        return True
    keys = {k for k, v in a.items() if v} | {k for k, v in b.items() if v}
    return all(
        math.isclose(a.get(k, 0.0), b.get(k, 0.0), rel_tol=rtol, abs_tol=1e-15) for k in keys
    )


def mix(streams: Iterable[tuple[float, Composition]]) -> dict[str, float]:
    """Flow-weighted mixture of ``(flow, composition)`` streams (empty if no flow)."""
    total = 0.0
    out: dict[str, float] = {}
    for flow, comp in streams:
        if flow <= 0:
            continue
        total += flow
        for k, v in comp.items():
            out[k] = out.get(k, 0.0) + flow * v
    return {k: v / total for k, v in out.items()} if total > 0 else {}


@dataclass
class _Slug:
    volume: float
    comp: Composition


@dataclass
class PlugFlowTube:
    """A rigid tube of ``volume`` [mL] in plug flow (no mixing along it).

    Content is a list of slugs, outlet first. :meth:`push` moves fluid in at the
    inlet and returns what leaves at the outlet; :meth:`volume_to_change` says
    how much more inflow it takes for the composition at a position to change,
    so the engine can schedule that as an event. A zero-volume tube passes
    fluid straight through.
    """

    volume: float
    fill: Composition
    slugs: list[_Slug] = field(init=False)

    def __post_init__(self) -> None:
        if self.volume < 0:
            raise ValueError("tube volume must be >= 0")
        self.slugs = [_Slug(self.volume, dict(self.fill))] if self.volume > 0 else []
        self._through: Composition = dict(self.fill)

    @classmethod
    def from_slugs(cls, slugs: Iterable[tuple[float, Composition]]) -> PlugFlowTube:
        """A tube filled with ``(volume, composition)`` slugs listed *inlet first*."""
        items = [(v, c) for v, c in slugs if v > 0]
        tube = cls(sum(v for v, _ in items), items[-1][1] if items else {})
        tube.slugs = []
        for v, c in reversed(items):  # outlet first
            tube._append_outlet_side(v, c)
        return tube

    def _append_outlet_side(self, volume: float, comp: Composition) -> None:
        if self.slugs and same_composition(self.slugs[-1].comp, comp):
            self.slugs[-1].volume += volume
        else:
            self.slugs.append(_Slug(volume, dict(comp)))

    # -- reading -------------------------------------------------------------------
    @property
    def outlet(self) -> Composition:
        """Composition leaving the outlet now."""
        return self.slugs[0].comp if self.slugs else self._through

    def composition_at(self, x: float) -> Composition:
        """Composition at ``x`` [mL] from the inlet (the slug covering ``(x−ε, x]``)."""
        if not self.slugs or x <= 0:
            return self._through if not self.slugs else self.slugs[-1].comp
        cum = 0.0
        for slug in reversed(self.slugs):
            cum += slug.volume
            if cum >= x - _VOLUME_TOL:
                return slug.comp
        return self.slugs[0].comp

    def content(self, key: str) -> float:
        """Amount of ``key`` in the tube (volume of air or liquid [mL], or drug amount)."""
        return sum(s.volume * s.comp.get(key, 0.0) for s in self.slugs)

    def liquid(self) -> float:
        """Volume of liquid in the tube [mL]."""
        return sum(s.volume * liquid_fraction(s.comp) for s in self.slugs)

    def volume_to_change(self, x: float, inflow: Composition) -> float:
        """Inflow volume [mL] until the composition at ``x`` (from the inlet) changes.

        ``inf`` if it never changes while ``inflow`` keeps entering.
        """
        if not self.slugs or x <= 0:
            return math.inf
        cum = 0.0
        upstream: Composition = inflow
        for slug in reversed(self.slugs):  # inlet first
            if cum + slug.volume >= x - _VOLUME_TOL:
                if cum <= _VOLUME_TOL and same_composition(slug.comp, upstream):
                    return math.inf
                if cum <= _VOLUME_TOL:
                    return x  # the new inflow is the next front
                return max(0.0, x - cum)
            cum += slug.volume
            upstream = slug.comp
        return math.inf

    # -- moving --------------------------------------------------------------------
    def push(self, volume: float, comp: Composition) -> list[tuple[float, Composition]]:
        """Push ``volume`` [mL] of ``comp`` in; return what leaves, ``(volume, comp)``, in order."""
        if volume <= 0:
            return []
        self._through = dict(comp)
        if self.volume <= 0:
            return [(volume, dict(comp))]
        if same_composition(self.slugs[-1].comp, comp):
            self.slugs[-1].volume += volume
        else:
            self.slugs.append(_Slug(volume, dict(comp)))
        out: list[tuple[float, Composition]] = []
        excess = volume
        while excess > 0 and self.slugs:
            head = self.slugs[0]
            if head.volume <= excess + _VOLUME_TOL:  # leaves whole (a rounding sliver too)
                out.append((head.volume, head.comp))
                excess -= head.volume
                self.slugs.pop(0)
            else:
                out.append((excess, head.comp))
                head.volume -= excess
                excess = 0.0
        if not self.slugs:  # rounding drained it: refill with the inflow
            self.slugs = [_Slug(self.volume, dict(comp))]
        else:
            drift = sum(s.volume for s in self.slugs) - self.volume
            self.slugs[-1].volume -= drift  # keep the volume exact
        return out
