"""Adverse reactions as time courses that modify the vital signs (pure numpy).

A :class:`Reaction` has an onset time, a peak :class:`ReactionEffect` (changes
of heart rate, mean arterial pressure, respiratory rate and arterial PO2) and
an intensity that rises from 0 at the onset as ``1 − exp(−(t − onset)/rise)``
and, if the reaction ends, decays as ``exp(−(t − end)/fall)``. Intensities of
several reactions add. Nothing changes before an onset.

Three reactions, three mechanisms:

* **Anaphylaxis** is an *event* (a scenario says when and how severe).
  Severity follows the grading of Brown 2004 [1]: *mild* — skin and mucosa
  only; *moderate* — respiratory, cardiovascular or gastrointestinal features
  without the severe criteria; *severe* — hypoxia (SpO2 <= 92 %), hypotension
  (systolic < 90 mmHg in adults) or neurological compromise. Blood-pressure
  falls follow the anaesthesia grading derived from Ring & Messmer (Mertes
  2011 [2]: grade II a fall > 30 % with unexplained tachycardia, grade III a
  fall > 50 %). The numbers in :data:`ANAPHYLAXIS` are ILLUSTRATIVE: chosen
  to land each grade inside its published definition, not fitted to data.
  Untreated reactions persist (treatment is not modelled).
* **Vancomycin infusion reaction ("flushing", "red man syndrome")** is a
  *rule*: the label limits the rate to 10 mg/min (docs/references.md [VancomycinLabel]).
  :class:`RateRule` watches the amount of drug given per unit time,
  averaged over a sliding window (default 5 min, illustrative: it treats a
  push as the rate it is and ignores pump pulsatility), and the reaction lasts
  while the average stays above the limit. Its effect on vital signs is
  ILLUSTRATIVE (flushing with mild hypotension and tachycardia).
* **Propofol hypotension** is not a reaction here: it emerges from the PD
  model (:mod:`pumpsim.patient.pd`, endpoint ``map``).

References
----------
[1] Brown SGA. Clinical features and severity grading of anaphylaxis.
    J Allergy Clin Immunol 2004;114:371-376. doi:10.1016/j.jaci.2004.04.029
[2] Mertes PM, Malinovsky JM, Jouffroy L, et al. Reducing the risk of
    anaphylaxis during anesthesia: 2011 updated guidelines for clinical
    practice. J Investig Allergol Clin Immunol 2011;21:442-453 (grading after
    Ring J, Messmer K. Lancet 1977;1:466-469).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pumpsim.pk.model import Citation

__all__ = [
    "ReactionEffect",
    "Reaction",
    "ANAPHYLAXIS",
    "VANCOMYCIN_FLUSHING",
    "anaphylaxis",
    "reaction_deltas",
    "RateRule",
    "RateHistory",
    "VANCOMYCIN_RATE_RULE",
]

BROWN2004 = Citation(
    "brown2004",
    "Brown SGA. Clinical features and severity grading of anaphylaxis. J Allergy Clin Immunol "
    "2004;114:371-376.",
    "10.1016/j.jaci.2004.04.029",
)
MERTES2011 = Citation(
    "mertes2011",
    "Mertes PM, Malinovsky JM, Jouffroy L, et al. Reducing the risk of anaphylaxis during "
    "anesthesia: 2011 updated guidelines for clinical practice. J Investig Allergol Clin "
    "Immunol 2011;21:442-453 (grades after Ring J, Messmer K. Lancet 1977;1:466-469).",
)
VANCOMYCIN_LABEL = Citation(
    "vancomycin_label",
    "Vancomycin hydrochloride for injection, prescribing information: infuse over at least "
    "60 min, at no more than 10 mg/min, to avoid infusion reactions.",
)


@dataclass(frozen=True)
class ReactionEffect:
    """The peak change a reaction makes to the vital signs.

    Attributes
    ----------
    hr : float
        Heart rate added [1/min].
    map_fraction : float
        Fraction of mean arterial pressure lost [-].
    rr : float
        Respiratory rate added [1/min].
    pao2 : float
        Arterial PO2 lost [mmHg] (bronchospasm, oedema, shunt); SpO2 follows
        through the oxyhaemoglobin curve.
    """

    hr: float = 0.0
    map_fraction: float = 0.0
    rr: float = 0.0
    pao2: float = 0.0


#: ILLUSTRATIVE peak effects per Brown 2004 grade (see the module docstring).
#: mild: skin only (tachycardia of anxiety); moderate: MAP -25 %, SpO2 ~92.6 % on air
#: (above Brown's 92 %); severe: MAP -50 % (Mertes grade III), SpO2 ~87 % (< 92 %).
ANAPHYLAXIS: dict[str, ReactionEffect] = {
    "mild": ReactionEffect(hr=15.0, map_fraction=0.05),
    "moderate": ReactionEffect(hr=30.0, map_fraction=0.25, rr=6.0, pao2=25.0),
    "severe": ReactionEffect(hr=50.0, map_fraction=0.50, rr=10.0, pao2=38.0),
}
#: ILLUSTRATIVE: time constant of the rise of a drug-induced anaphylaxis [s]; IV drugs
#: act within minutes
ANAPHYLAXIS_RISE_S = 120.0

#: ILLUSTRATIVE: flushing with mild hypotension and tachycardia
VANCOMYCIN_FLUSHING = ReactionEffect(hr=10.0, map_fraction=0.10)


@dataclass(frozen=True)
class Reaction:
    """One adverse reaction: what it does and when.

    Attributes
    ----------
    name : str
    onset : float
        Time it starts [s].
    effect : ReactionEffect
    rise : float
        Time constant of the rise [s].
    end : float or None
        Time it starts to resolve [s] (None: it persists).
    fall : float
        Time constant of the resolution [s].
    severity : str
    details : dict
        Anything to report (rule, rate, sources).
    """

    name: str
    onset: float
    effect: ReactionEffect
    rise: float = ANAPHYLAXIS_RISE_S
    end: float | None = None
    fall: float = 900.0
    severity: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def intensity(self, t: Any) -> np.ndarray:
        """0 before the onset, rising to 1, decaying after ``end`` (vectorised over ``t``)."""
        t = np.asarray(t, dtype=float)
        since = np.clip(t - self.onset, 0.0, None)
        up = 1.0 - np.exp(-since / self.rise) if self.rise > 0 else (t >= self.onset) * 1.0
        up = np.where(t >= self.onset, up, 0.0)
        if self.end is None:
            return up
        at_end = 1.0 - math.exp(-max(self.end - self.onset, 0.0) / self.rise)
        after = at_end * np.exp(-np.clip(t - self.end, 0.0, None) / self.fall)
        return np.where(t >= self.end, after, up)

    def ended(self, t: float) -> Reaction:
        """A copy that starts resolving at ``t`` [s]."""
        return Reaction(self.name, self.onset, self.effect, self.rise, t, self.fall,
                        self.severity, dict(self.details))  # fmt: skip


def anaphylaxis(onset: float, severity: str = "moderate") -> Reaction:
    """An anaphylactic reaction of Brown 2004 grade ``severity`` starting at ``onset`` [s]."""
    if severity not in ANAPHYLAXIS:
        raise ValueError(f"severity {severity!r}: allowed {', '.join(ANAPHYLAXIS)}")
    return Reaction("anaphylaxis", float(onset), ANAPHYLAXIS[severity], ANAPHYLAXIS_RISE_S,
                    severity=severity,
                    details={"grading": "Brown 2004", "effects": "illustrative"})  # fmt: skip


def reaction_deltas(reactions: list[Reaction], t: Any) -> dict[str, np.ndarray]:
    """Summed changes ``hr``, ``map_fraction``, ``rr``, ``pao2`` of all reactions at ``t``."""
    t = np.asarray(t, dtype=float)
    out = {k: np.zeros_like(t) for k in ("hr", "map_fraction", "rr", "pao2")}
    for r in reactions:
        w = r.intensity(t)
        for k in out:
            value = getattr(r.effect, k)
            if value:
                out[k] = out[k] + value * w
    return out


# -- rate rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRule:
    """A labelled rate limit: the reaction runs while the windowed mean rate exceeds it.

    Attributes
    ----------
    drug : str
    limit : float
        Rate limit [amount/s] (10 mg/min = 1/6 mg/s for vancomycin).
    window : float
        Averaging window [s].
    reaction : str
    effect : ReactionEffect
    rise, fall : float
        Time constants of the reaction's rise and resolution [s].
    """

    drug: str
    limit: float
    window: float = 300.0
    reaction: str = "rate_reaction"
    effect: ReactionEffect = ReactionEffect()
    rise: float = 180.0
    fall: float = 900.0
    sources: tuple[Citation, ...] = ()

    @property
    def limit_per_min(self) -> float:
        return self.limit * 60.0


#: vancomycin: at most 10 mg/min (label); 5-min window and vital-sign effects illustrative
VANCOMYCIN_RATE_RULE = RateRule("vancomycin", 10.0 / 60.0, 300.0, "vancomycin_flushing",
                                VANCOMYCIN_FLUSHING, 180.0, 900.0,
                                (VANCOMYCIN_LABEL,))  # fmt: skip


class RateHistory:
    """Amounts given over time: piecewise-constant rates plus instantaneous doses.

    ``cumulative(t)`` is the amount given by ``t`` (doses at ``t`` included,
    the last rate continuing into the future), so the windowed mean rate
    ``(G(t) − G(t − W))/W`` is piecewise linear between known knots and its
    crossing of a limit is found exactly (:meth:`next_crossing`). With a
    ``window``, history older than one window before the latest change is
    dropped (it can no longer matter), so a pulsatile pump's thousands of rate
    changes stay cheap; ``cumulative`` is then valid from one window back.
    """

    def __init__(self, window: float | None = None) -> None:
        self.window = window
        self.times: list[float] = [0.0]
        self.rates: list[float] = [0.0]
        self.given: list[float] = [0.0]  # infused amount at each rate change
        self.dose_times: list[float] = []
        self.dose_sums: list[float] = []  # cumulative dose amounts
        self._dose_base = 0.0  # the doses dropped from the history

    def set_rate(self, t: float, rate: float) -> None:
        """From ``t`` [s] on, the rate is ``rate`` [amount/s] (``t`` never decreases)."""
        g = self._infused(t)
        if t == self.times[-1]:
            self.rates[-1] = rate
            self.given[-1] = g
        else:
            self.times.append(t)
            self.rates.append(rate)
            self.given.append(g)
        self._prune(t)

    def dose(self, t: float, amount: float) -> None:
        """An instantaneous dose of ``amount`` at ``t`` [s] (``t`` never decreases)."""
        self.dose_times.append(t)
        self.dose_sums.append((self.dose_sums[-1] if self.dose_sums else self._dose_base) + amount)
        self._prune(t)

    def _prune(self, now: float) -> None:
        if self.window is None:
            return
        old = now - self.window
        i = bisect.bisect_right(self.times, old) - 1  # the entry in force one window back
        if i > 64:
            del self.times[:i], self.rates[:i], self.given[:i]
        j = bisect.bisect_left(self.dose_times, old)
        if j > 64:
            self._dose_base = self.dose_sums[j - 1]
            del self.dose_times[:j], self.dose_sums[:j]

    def _infused(self, t: Any) -> Any:
        times = np.asarray(self.times)
        i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, None)
        since = np.clip(np.subtract(t, times[i]), 0.0, None)  # nothing before the history
        return np.asarray(self.given)[i] + np.asarray(self.rates)[i] * since

    def cumulative(self, t: Any, left: bool = False) -> Any:
        """Amount given by ``t`` [s] (scalar or array); ``left``: without doses at ``t``."""
        j = np.searchsorted(np.asarray(self.dose_times), t, side="left" if left else "right")
        sums = np.concatenate(([self._dose_base], self.dose_sums))
        out = self._infused(t) + sums[j]
        return float(out) if np.ndim(out) == 0 else out

    def mean_rate(self, t: Any, window: float, left: bool = False) -> Any:
        """Mean rate over ``(t − window, t]`` [amount/s]."""
        return (self.cumulative(t, left) - self.cumulative(np.subtract(t, window), left)) / window

    def next_crossing(
        self, now: float, limit: float, window: float, above: bool, margin: float = 0.0
    ) -> float:
        """First ``t >= now`` [s] at which the windowed mean rate goes above ``limit + margin``
        (``above``) or below ``limit − margin``, the current rate continuing; ``inf`` if never.

        The mean is linear between the knots ``now``, ``now + window`` and each
        change or dose time inside the last window plus ``window``, so each
        piece is solved exactly (all pieces evaluated at once).
        """
        target = limit + margin if above else limit - margin
        # fast path: a mean never leaves the range of the rates it averages
        k = max(bisect.bisect_right(self.times, now - window) - 1, 0)
        recent = self.rates[k:]
        no_doses = bisect.bisect_right(self.dose_times, now - window) == len(self.dose_times)
        if above and no_doses and max(recent) <= target:
            return math.inf
        if not above and min(recent) > target:
            return math.inf
        knots = {now, now + window}
        for seq in (self.times, self.dose_times):  # only changes still inside the window
            knots.update(b + window for b in seq[bisect.bisect_right(seq, now - window):])
        ks = np.array(sorted(knots))
        va = self.mean_rate(ks, window)  # value at each knot (right-continuous)
        vb = self.mean_rate(ks[1:], window, left=True)  # value just before the next knot
        sign = 1.0 if above else -1.0
        hold_a = sign * (va - target) > 0
        hold_b = np.append(sign * (vb - target) > 0, False)  # constant after the last knot
        hit = np.flatnonzero(hold_a | hold_b)
        if hit.size == 0:
            return math.inf
        i = int(hit[0])
        if hold_a[i]:
            return float(ks[i])
        return float(ks[i] + (target - va[i]) / (vb[i] - va[i]) * (ks[i + 1] - ks[i]))
