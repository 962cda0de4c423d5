"""Vital signs as functions of effect-site concentrations and reactions (pure numpy).

Heart rate (HR), mean arterial pressure (MAP), respiratory rate (RR) and SpO2
of a patient, vectorised over time (last axis) and over virtual patients
(leading axes)::

    RR   = RR0 · (1 − I_rr(Ce opioids))              + ΔRR(reactions)
    HR   = HR0 · (1 − I_hr(Ce)) + ΔHR(reactions) + ΔHR_hypoxia(SpO2)            (5)
    MAP  = MAP0 · (1 − I_map(Ce_map)) · (1 − ΔMAP%(reactions))
    v    = max(1 − I_vent(Ce opioids, Ce propofol), v_min)       alveolar ventilation / baseline
    PaO2 target = PaO2_0 − (PaCO2_0/R)·(1/v − 1) − ΔPaO2(reactions)           (3)
    PaO2 = first-order lag of the target, time constant τ_O2
    SpO2 = Severinghaus(PaO2)                                                   (4)

The ``I`` are the fractional effects of :mod:`pumpsim.patient.pd`. (3) is the
alveolar gas equation ``PAO2 = FiO2·(Pb − 47) − PaCO2/R`` with the
steady-state PaCO2 of the alveolar ventilation equation ``PaCO2 = PaCO2_0/v``
and a constant alveolar–arterial difference (back-computed from the baseline
SpO2, or 9 mmHg, a normal young adult's, when no SpO2 is given); (4) is
Severinghaus' oxyhaemoglobin dissociation curve
``S = 100/(23400/(P³ + 150·P) + 1)`` [1]. τ_O2 = 2.5 min and v_min = 0.05
are ILLUSTRATIVE (they give a desaturation below 90 % about a minute after
apnoea in a healthy adult on air; oxygen stores are not modelled in detail).
Supplemental oxygen (``fio2``) raises the whole PaO2 curve, so a hypoventilating
patient desaturates later — the reason SpO2 is a late sign of opioid toxicity.

Cardiovascular response to hypoxaemia (5): in conscious adults, heart rate rises
linearly as arterial saturation falls, 0.98 ± 0.06 (range 0.62–1.46) beats/min for
each 1 % fall in SaO2 at constant PCO2 [3]; pumpsim applies the mean slope from
the baseline saturation down to 75 % (:data:`HYPOXIC_HR_LOWEST_SPO2`,
ILLUSTRATIVE: about the lowest saturation such studies reach) and holds it there.

Bounds (every vital stays inside physiology): SpO2 ∈ [0, 100] % through the
dissociation curve of a PaO2 state ≥ 0 mmHg; RR ≥ 0; MAP ≥ 0 (the reaction
fall is capped at 95 %); 0 ≤ HR ≤ the age-predicted maximum 208 − 0.7·age [4].

NOT modelled, said here so that no one reads it as a prediction: the late
phase of profound hypoxaemia (bradycardia, hypotension, hypoxic cardiac
arrest), the blood-pressure response to hypoxaemia, CO2 stores (PaCO2 is the
steady state of the current ventilation) and oxygen stores beyond the lag τ_O2.
Below an SpO2 of :data:`HYPOXIC_HR_LOWEST_SPO2` the run therefore adds a
warning that HR and MAP there are not predictions
(:mod:`pumpsim.engine.physiology`).

Baselines (:func:`baseline_for`): adults HR 72/min, MAP 90 mmHg, RR 14/min
(ILLUSTRATIVE typical resting values inside the normal adult ranges), SpO2 from
the alveolar gas equation (≈ 97 % on air). Children: medians of Fleming 2011
[2] (HR 127/min at birth, 145 at 1 month, 113 at 2 y; RR 44/min at birth,
26 at 2 y), linearly interpolated to the adult values at 18 y (the
interpolation between 2 and 18 y is illustrative). Each value can be given in
the scenario (``patient: {vitals: {hr: 72/min, map: 90 mmHg, rr: 14/min,
spo2: 98 %}}``).

References
----------
[1] Severinghaus JW. Simple, accurate equations for human blood O2
    dissociation computations. J Appl Physiol 1979;46:599-602.
[2] Fleming S, Thompson M, Stevens R, et al. Normal ranges of heart rate and
    respiratory rate in children from birth to 18 years of age: a systematic
    review of observational studies. Lancet 2011;377:1011-1018.
    doi:10.1016/S0140-6736(10)62226-X
[3] Slutsky AS, Rebuck AS. Heart rate response to isocapnic hypoxia in
    conscious man. Am J Physiol 1978;234:H129-H132.
    doi:10.1152/ajpheart.1978.234.2.H129
[4] Tanaka H, Monahan KD, Seals DR. Age-predicted maximal heart rate revisited.
    J Am Coll Cardiol 2001;37:153-156. doi:10.1016/S0735-1097(00)01054-8

All in docs/references.md: [Severinghaus1979] [Fleming2011] [SlutskyRebuck1978]
[Tanaka2001].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pumpsim.patient.pd import (
    Endpoint,
    endpoint,
    first_order_lag,
    kazama_ke0_map,
)
from pumpsim.patient.reactions import Reaction, reaction_deltas
from pumpsim.pk.model import Citation

__all__ = [
    "Baseline",
    "baseline_for",
    "VitalsModel",
    "severinghaus",
    "inverse_severinghaus",
    "hypoxic_tachycardia",
    "max_heart_rate",
    "first_crossing",
    "VITALS",
    "UNITS",
]

SEVERINGHAUS1979 = Citation(
    "severinghaus1979",
    "Severinghaus JW. Simple, accurate equations for human blood O2 dissociation "
    "computations. J Appl Physiol 1979;46:599-602.",
    "10.1152/jappl.1979.46.3.599",
)
SLUTSKYREBUCK1978 = Citation(
    "slutskyrebuck1978",
    "Slutsky AS, Rebuck AS. Heart rate response to isocapnic hypoxia in conscious man. "
    "Am J Physiol 1978;234:H129-H132.",
    "10.1152/ajpheart.1978.234.2.H129",
)
TANAKA2001 = Citation(
    "tanaka2001",
    "Tanaka H, Monahan KD, Seals DR. Age-predicted maximal heart rate revisited. "
    "J Am Coll Cardiol 2001;37:153-156.",
    "10.1016/S0735-1097(00)01054-8",
)
FLEMING2011 = Citation(
    "fleming2011",
    "Fleming S, Thompson M, Stevens R, et al. Normal ranges of heart rate and respiratory rate "
    "in children from birth to 18 years of age: a systematic review of observational studies. "
    "Lancet 2011;377:1011-1018.",
    "10.1016/S0140-6736(10)62226-X",
)

#: the vital signs, in column order, and the unit of each column
VITALS: tuple[str, ...] = ("hr", "map", "rr", "spo2")
UNITS: dict[str, str] = {"hr": "1/min", "map": "mmHg", "rr": "1/min", "spo2": "%"}

BAROMETRIC_MMHG = 760.0
WATER_VAPOUR_MMHG = 47.0
PACO2_MMHG = 40.0  # normal arterial PCO2
RESPIRATORY_QUOTIENT = 0.8
AA_GRADIENT_MMHG = 9.0  # normal young adult (illustrative default)
TAU_O2_S = 150.0  # ILLUSTRATIVE
V_MIN = 0.05  # ILLUSTRATIVE: "apnoea" floor of the alveolar ventilation ratio
#: heart-rate rise per 1 % fall in SaO2 [1/min per %], mean of Slutsky & Rebuck 1978
HYPOXIC_HR_SLOPE = 0.98
#: SpO2 [%] below which the tachycardia is held and the run warns (ILLUSTRATIVE)
HYPOXIC_HR_LOWEST_SPO2 = 75.0

ADULT = {"hr": 72.0, "map": 90.0, "rr": 14.0}
# Fleming 2011 medians (abstract): age [y] -> value
_FLEMING_HR = ((0.0, 127.0), (1.0 / 12.0, 145.0), (2.0, 113.0), (18.0, ADULT["hr"]))
_FLEMING_RR = ((0.0, 44.0), (2.0, 26.0), (18.0, ADULT["rr"]))


def severinghaus(po2: Any) -> np.ndarray:
    """Haemoglobin O2 saturation [%] at PO2 [mmHg] (Severinghaus 1979); 0 at PO2 <= 0."""
    p = np.clip(np.asarray(po2, dtype=float), 0.0, None)
    x = p**3 + 150.0 * p
    with np.errstate(divide="ignore"):
        return np.where(x > 0, 100.0 / (23400.0 / np.where(x > 0, x, 1.0) + 1.0), 0.0)


def inverse_severinghaus(spo2: Any) -> np.ndarray:
    """PO2 [mmHg] at saturation ``spo2`` [%]: the real root of P³ + 150·P = 23400·S/(1 − S)."""
    s = np.clip(np.asarray(spo2, dtype=float) / 100.0, 0.0, 1.0 - 1e-12)
    q = 23400.0 * s / (1.0 - s)
    d = np.sqrt(q * q / 4.0 + 150.0**3 / 27.0)
    return np.cbrt(q / 2.0 + d) + np.cbrt(q / 2.0 - d)


def hypoxic_tachycardia(spo2: Any, baseline_spo2: float) -> np.ndarray:
    """Heart rate added by hypoxaemia [1/min] at saturation ``spo2`` [%].

    ``HYPOXIC_HR_SLOPE · (baseline − max(spo2, HYPOXIC_HR_LOWEST_SPO2))``, never
    negative (Slutsky & Rebuck 1978: linear in SaO2, 0.98 beats/min per %).
    """
    s = np.maximum(np.asarray(spo2, dtype=float), HYPOXIC_HR_LOWEST_SPO2)
    return HYPOXIC_HR_SLOPE * np.clip(baseline_spo2 - s, 0.0, None)


def max_heart_rate(age: float) -> float:
    """Age-predicted maximal heart rate [1/min], ``208 − 0.7·age`` (Tanaka 2001).

    Tanaka's meta-analysis covers adults; for children the formula's ~200/min is
    used as a ceiling too (above the 99th centiles of Fleming 2011 after infancy).
    """
    return 208.0 - 0.7 * float(age)


def _interp_age(table: tuple[tuple[float, float], ...], age: float) -> float:
    ages, values = zip(*table, strict=True)
    return float(np.interp(age, ages, values))


@dataclass(frozen=True)
class Baseline:
    """Resting vital signs without drugs: HR, RR [1/min], MAP [mmHg], SpO2 [%], FiO2 [-]."""

    hr: float = ADULT["hr"]
    map: float = ADULT["map"]
    rr: float = ADULT["rr"]
    spo2: float | None = None  # None: from the alveolar gas equation and a normal gradient
    fio2: float = 0.21

    @property
    def pio2(self) -> float:
        """Inspired PO2 [mmHg]."""
        return self.fio2 * (BAROMETRIC_MMHG - WATER_VAPOUR_MMHG)

    @property
    def pao2(self) -> float:
        """Baseline arterial PO2 [mmHg]."""
        if self.spo2 is not None:
            return float(inverse_severinghaus(self.spo2))
        return self.pio2 - PACO2_MMHG / RESPIRATORY_QUOTIENT - AA_GRADIENT_MMHG

    @property
    def spo2_value(self) -> float:
        return float(self.spo2) if self.spo2 is not None else float(severinghaus(self.pao2))

    def as_dict(self) -> dict[str, float]:
        return {"hr": self.hr, "map": self.map, "rr": self.rr, "spo2": self.spo2_value,
                "fio2": self.fio2, "pao2": self.pao2}  # fmt: skip


def baseline_for(age: float | None = None, **given: float | None) -> Baseline:
    """Baseline vitals for a patient of ``age`` [y]; values in ``given`` (hr, map, rr in
    1/min and mmHg, spo2 in %, fio2 as a fraction) replace the defaults."""
    values: dict[str, Any] = {}
    if age is not None and age < 18.0:
        values["hr"] = _interp_age(_FLEMING_HR, age)
        values["rr"] = _interp_age(_FLEMING_RR, age)
    values.update({k: v for k, v in given.items() if v is not None})
    return Baseline(**values)


@dataclass
class VitalsModel:
    """Vital signs of one patient (or a population) from effect-site concentrations.

    Parameters
    ----------
    baseline : Baseline
    profile : str
        Ventilation PD profile (:data:`pumpsim.patient.pd.PROFILES`).
    age : float
        For the age-dependent propofol blood-pressure biophase (Kazama 1999).
    reactions : list of Reaction
        Adverse reactions (added to at run time).
    tau_o2 : float
        PaO2 lag [s] (illustrative).
    """

    baseline: Baseline = field(default_factory=Baseline)
    profile: str = "resting"
    age: float = 40.0
    reactions: list[Reaction] = field(default_factory=list)
    tau_o2: float = TAU_O2_S

    def __post_init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {
            name: endpoint(name, self.profile)
            for name in ("respiratory_rate", "ventilation", "map", "hr")
        }
        # the endpoints whose biophase differs from the PK model's effect site
        self.own_ke0: dict[str, dict[str, float]] = {"map": {"propofol": kazama_ke0_map(self.age)}}

    # -- what the model needs ------------------------------------------------------------------
    @property
    def drugs(self) -> set[str]:
        """Drugs with a PD term in any endpoint."""
        return {d for e in self.endpoints.values() for d in e.effects}

    def effect_site_ke0(self) -> dict[str, float]:
        """ke0 [1/min] of each drug's own biophase (it replaces the PK model's effect site)."""
        out: dict[str, float] = {}
        for e in self.endpoints.values():
            for d, eff in e.effects.items():
                if eff.ke0 is not None:
                    out.setdefault(d, eff.ke0)
        return out

    @property
    def citations(self) -> list[Citation]:
        out: list[Citation] = []
        for e in self.endpoints.values():
            out += [c for c in e.citations if c not in out]
        return out + [SEVERINGHAUS1979, FLEMING2011, SLUTSKYREBUCK1978, TANAKA2001]

    def parameters(self) -> list[dict[str, Any]]:
        """Every PD term as a flat record (endpoint, drug, c50, gamma, imax, status, note)."""
        rows = []
        for name, e in self.endpoints.items():
            for d, eff in e.effects.items():
                rows.append({"endpoint": name, "drug": d, "c50": eff.c50, "gamma": eff.gamma,
                             "imax": eff.imax, "status": eff.status, "note": eff.note,
                             "sources": [c.key for c in eff.sources]})  # fmt: skip
        return rows

    # -- instantaneous parts (algebraic in Ce and t) --------------------------------------------
    def _deltas(self, t: Any) -> dict[str, np.ndarray]:
        return reaction_deltas(self.reactions, t)

    def rr(self, ce: Mapping[str, Any], t: Any) -> np.ndarray:
        """Respiratory rate [1/min] from opioid effect-site concentrations at times ``t`` [s]."""
        i = self.endpoints["respiratory_rate"](ce)
        return np.clip(self.baseline.rr * (1.0 - i) + self._deltas(t)["rr"], 0.0, None)

    def hr(self, ce: Mapping[str, Any], t: Any, spo2: Any = None) -> np.ndarray:
        """Heart rate [1/min] (5); ``spo2`` [%] adds the hypoxic tachycardia when given."""
        i = self.endpoints["hr"](ce)
        hr = self.baseline.hr * (1.0 - i) + self._deltas(t)["hr"]
        if spo2 is not None:
            hr = hr + hypoxic_tachycardia(spo2, self.baseline.spo2_value)
        return np.clip(hr, 0.0, max_heart_rate(self.age))

    def map(self, ce_map: Mapping[str, Any], t: Any) -> np.ndarray:
        """MAP [mmHg]; ``ce_map`` holds propofol's blood-pressure biophase concentration."""
        i = self.endpoints["map"](ce_map)
        drop = np.clip(self._deltas(t)["map_fraction"], 0.0, 0.95)
        return self.baseline.map * (1.0 - i) * (1.0 - drop)

    def ventilation(self, ce: Mapping[str, Any]) -> np.ndarray:
        """Alveolar ventilation relative to baseline, ``v`` (floored at v_min)."""
        return np.clip(1.0 - self.endpoints["ventilation"](ce), V_MIN, None)

    def pao2_target(self, ce: Mapping[str, Any], t: Any) -> np.ndarray:
        """Steady-state arterial PO2 [mmHg] for the current ventilation and reactions (3)."""
        v = self.ventilation(ce)
        drop = PACO2_MMHG / RESPIRATORY_QUOTIENT * (1.0 / v - 1.0)
        target = self.baseline.pao2 - drop - self._deltas(t)["pao2"]
        return np.clip(target, 0.0, None)

    # -- on a grid -----------------------------------------------------------------------------
    def compute(
        self,
        t: np.ndarray,
        effect: Mapping[str, np.ndarray],
        plasma: Mapping[str, np.ndarray] | None = None,
        pao2_0: Any = None,
    ) -> dict[str, np.ndarray]:
        """Vitals on a uniform grid ``t`` [s] (last axis of the concentration arrays).

        ``effect``: drug -> effect-site concentration; ``plasma``: drug -> plasma
        concentration (for endpoints with their own biophase, filtered here
        exactly for plasma linear between grid points). ``pao2_0``: the PaO2 at
        ``t[0]`` (default: steady state). Returns hr, map, rr, spo2 and pao2.
        """
        t = np.asarray(t, dtype=float)
        dt = float(t[1] - t[0]) if t.size > 1 else 1.0
        ce_map = dict(effect)
        for drug, ke0 in self.own_ke0["map"].items():
            if plasma is not None and drug in plasma:
                ce_map[drug] = first_order_lag(plasma[drug], dt, 60.0 / ke0, 0.0)
        shape = np.broadcast_shapes(t.shape, *(np.shape(v) for v in effect.values()))
        target = np.broadcast_to(self.pao2_target(effect, t), shape)
        pao2 = np.clip(first_order_lag(target, dt, self.tau_o2, pao2_0), 0.0, None)
        spo2 = severinghaus(pao2)
        out = {
            "hr": self.hr(effect, t, spo2),
            "map": self.map(ce_map, t),
            "rr": self.rr(effect, t),
            "spo2": spo2,
            "pao2": pao2,
        }
        return {k: np.broadcast_to(v, shape).copy() for k, v in out.items()}

    def rr_threshold_concentration(self, drug: str, rr_level: float) -> float:
        """Effect-site concentration of ``drug`` alone (no reaction) below which RR stays
        above ``rr_level`` [1/min]: RR < level ⇔ Ce > this (inf if never)."""
        eff = self.endpoints["respiratory_rate"].effects.get(drug)
        if eff is None:
            return math.inf
        return eff.concentration_for(1.0 - rr_level / self.baseline.rr)


def first_crossing(
    f: Callable[[np.ndarray], np.ndarray],
    t0: float,
    t1: float,
    level: float,
    step: float,
    below: bool = True,
    f_scalar: Callable[[float], float] | None = None,
) -> float | None:
    """First time in (t0, t1] at which ``f`` goes below (``below``) or above ``level``.

    ``f`` is evaluated on a grid of spacing <= ``step`` [s] (vectorised), the
    first bracketing interval is refined by :func:`scipy.optimize.brentq` on
    ``f_scalar`` (default ``f`` at one point) to 1e-6 s. Returns ``t0`` if the
    condition already holds at ``t0``, None if it never holds by ``t1``. A
    crossing and re-crossing within one step can be missed.
    """
    if t1 <= t0:
        return None
    n = max(2, int(math.ceil((t1 - t0) / step)) + 1)
    grid = np.linspace(t0, t1, n)
    g = np.asarray(f(grid), dtype=float) - level
    sign = -1.0 if below else 1.0
    hit = np.flatnonzero(sign * g > 0)
    if hit.size == 0:
        return None
    k = int(hit[0])
    if k == 0:
        return float(t0)
    one = f_scalar or (lambda s: float(np.asarray(f(np.array([s])))[0]))
    a, b = float(grid[k - 1]), float(grid[k])
    ga, gb = one(a) - level, one(b) - level
    if ga * gb > 0:  # rounding at the bracket ends: keep the grid answer
        return b
    from scipy.optimize import brentq

    return float(brentq(lambda s: one(s) - level, a, b, xtol=1e-6))
