"""Pharmacodynamics: concentration → effect, one endpoint at a time (pure numpy).

A drug's effect on a vital sign is a fractional change given by a sigmoid Emax
(Hill) model of its effect-site concentration ``C`` [the drug's plasma unit]::

    I(C) = Imax · C^γ / (C50^γ + C^γ)                                   (1)

(γ = 1: the hyperbolic Emax model). Several drugs acting on one endpoint
combine through the response surface of Minto et al. 2000 [1] in potency
units ``U_i = C_i / C50_i``::

    U = Σ U_i,   θ_i = U_i / U,   γ(θ) = Σ θ_i·γ_i,   Imax(θ) = Σ θ_i·Imax_i
    U50(θ) = 1 − β·Σ_{i<j} θ_i·θ_j                                      (2)
    I = Imax(θ) · (U/U50)^γ(θ) / (1 + (U/U50)^γ(θ))

With β = 0 this is Loewe additivity (each drug replaces an equipotent amount
of another); β > 0 is synergy. For a single drug (2) reduces to (1). pumpsim
uses β = 0 throughout: Nieuwenhuijs 2003 [4] found the remifentanil–propofol
interaction additive for blood pressure and heart rate, and synergistic for
ventilation without a coefficient we could verify, so the additive surface
UNDER-estimates combined respiratory depression (a documented limitation).

Endpoints and parameter sets are data (:data:`ENDPOINTS`, one
:class:`DrugEffect` per drug and endpoint, with its source and a status:
``published`` [read in the source], ``derived`` [computed here from published
numbers, the derivation in ``note``] or ``illustrative`` [chosen to give
plausible behaviour; not from a fit]). Where sources measure different things
the endpoint has a profile per source (``ventilation``: ``resting`` and
``drive``), never one silent truth.

References
----------
[1] Minto CF, Schnider TW, Short TG, et al. Response surface model for
    anesthetic drug interactions. Anesthesiology 2000;92:1603-1616.
[2] Bouillon T, Bruhn J, Radu-Radulescu L, et al. A model of the ventilatory
    depressant potency of remifentanil in the non-steady state. Anesthesiology
    2003;99:779-787.
[3] Dahan A, Romberg R, Teppema L, et al. Simultaneous measurement and
    integrated analysis of analgesia and respiration after an intravenous
    morphine infusion. Anesthesiology 2004;101:1201-1209.
[4] Nieuwenhuijs DJ, Olofsen E, Romberg RR, et al. Response surface modeling
    of remifentanil-propofol interaction on cardiorespiratory control and
    bispectral index. Anesthesiology 2003;98:312-322.
[5] Kazama T, Ikeda K, Morita K, et al. Comparison of the effect-site k(eO)s of
    propofol for blood pressure and EEG bispectral index in elderly and younger
    patients. Anesthesiology 1999;90:1517-1527.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pumpsim.pk.model import Citation

__all__ = [
    "DrugEffect",
    "Endpoint",
    "ENDPOINTS",
    "PROFILES",
    "sigmoid_emax",
    "inverse_sigmoid_emax",
    "combined_effect",
    "first_order_lag",
    "lag_within_step",
    "kazama_ke0_map",
    "endpoint",
]

MINTO2000 = Citation(
    "minto2000",
    "Minto CF, Schnider TW, Short TG, et al. Response surface model for anesthetic drug "
    "interactions. Anesthesiology 2000;92:1603-1616.",
)
BOUILLON2003 = Citation(
    "bouillon2003",
    "Bouillon T, Bruhn J, Radu-Radulescu L, et al. A model of the ventilatory depressant "
    "potency of remifentanil in the non-steady state. Anesthesiology 2003;99:779-787.",
)
DAHAN2004 = Citation(
    "dahan2004",
    "Dahan A, Romberg R, Teppema L, et al. Simultaneous measurement and integrated analysis of "
    "analgesia and respiration after an intravenous morphine infusion. Anesthesiology "
    "2004;101:1201-1209.",
)
NIEUWENHUIJS2003 = Citation(
    "nieuwenhuijs2003",
    "Nieuwenhuijs DJ, Olofsen E, Romberg RR, et al. Response surface modeling of "
    "remifentanil-propofol interaction on cardiorespiratory control and bispectral index. "
    "Anesthesiology 2003;98:312-322.",
)
KAZAMA1999 = Citation(
    "kazama1999",
    "Kazama T, Ikeda K, Morita K, et al. Comparison of the effect-site k(eO)s of propofol for "
    "blood pressure and EEG bispectral index in elderly and younger patients. Anesthesiology "
    "1999;90:1517-1527.",
)

#: morphine base molar mass [g/mol] (C17H19NO3; as in :mod:`pumpsim.pk.drugs`)
MORPHINE_G_PER_MOL = 285.34


@dataclass(frozen=True)
class DrugEffect:
    """One drug's sigmoid Emax term for one endpoint (equation 1).

    Attributes
    ----------
    drug : str
    c50 : float
        Effect-site concentration of half the maximal effect [the drug's
        plasma unit: ng/mL for opioids, ug/mL for propofol].
    gamma : float
        Hill coefficient [-].
    imax : float
        Maximal fractional change of the vital sign, 0 < imax <= 1 [-].
    ke0 : float or None
        Plasma–biophase equilibration rate [1/min] when the endpoint has its
        own biophase; None means the effect site of the drug's PK model.
    status : {"published", "derived", "illustrative"}
    sources : tuple of Citation
    note : str
        Where each number comes from (and the derivation, if derived).
    """

    drug: str
    c50: float
    gamma: float = 1.0
    imax: float = 1.0
    ke0: float | None = None
    status: str = "illustrative"
    sources: tuple[Citation, ...] = ()
    note: str = ""

    def __call__(self, c: Any) -> np.ndarray:
        return sigmoid_emax(c, self.c50, self.gamma, self.imax)

    def concentration_for(self, fraction: float) -> float:
        """Effect-site concentration giving the fractional change ``fraction`` (inf if never)."""
        return inverse_sigmoid_emax(fraction, self.c50, self.gamma, self.imax)


@dataclass(frozen=True)
class Endpoint:
    """A vital-sign effect: each drug's term and how they combine (equation 2)."""

    name: str
    effects: dict[str, DrugEffect]
    beta: float = 0.0  # Minto interaction coefficient; 0 = additive (Loewe)
    description: str = ""
    interaction_sources: tuple[Citation, ...] = (MINTO2000,)

    def __call__(self, concentrations: Mapping[str, Any]) -> np.ndarray:
        return combined_effect(concentrations, self.effects, self.beta)

    @property
    def citations(self) -> list[Citation]:
        out: list[Citation] = list(self.interaction_sources)
        for e in self.effects.values():
            out += [c for c in e.sources if c not in out]
        return out


def sigmoid_emax(
    c: Any, c50: float, gamma: float = 1.0, emax: float = 1.0, e0: float = 0.0
) -> np.ndarray:
    """``E0 + Emax·C^γ/(C50^γ + C^γ)`` (equation 1); negative C (rounding) counts as 0."""
    c = np.clip(np.asarray(c, dtype=float), 0.0, None)
    r = (c / c50) ** gamma
    return e0 + emax * r / (1.0 + r)


def inverse_sigmoid_emax(
    effect: float, c50: float, gamma: float = 1.0, emax: float = 1.0
) -> float:
    """The concentration at which :func:`sigmoid_emax` (E0 = 0) equals ``effect``.

    0 for ``effect <= 0``; ``inf`` when ``effect >= emax`` (never reached).
    """
    if effect <= 0.0:
        return 0.0
    if effect >= emax:
        return math.inf
    return float(c50 * (effect / (emax - effect)) ** (1.0 / gamma))


def combined_effect(
    concentrations: Mapping[str, Any], effects: Mapping[str, DrugEffect], beta: float = 0.0
) -> np.ndarray:
    """Fractional effect of several drugs on one endpoint (Minto 2000, equation 2).

    ``concentrations`` maps drug -> effect-site concentration (arrays broadcast
    together); drugs without an entry in ``effects`` are ignored. Returns 0
    where no drug is present.
    """
    present = [d for d in concentrations if d in effects]
    if not present:
        return np.zeros(())
    units = {d: np.clip(np.asarray(concentrations[d], float), 0.0, None) / effects[d].c50
             for d in present}  # fmt: skip
    u = sum(units.values())
    u = np.asarray(u, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        theta = {d: np.where(u > 0, units[d] / np.where(u > 0, u, 1.0), 1.0 / len(present))
                 for d in present}  # fmt: skip
    gamma = sum(theta[d] * effects[d].gamma for d in present)
    imax = sum(theta[d] * effects[d].imax for d in present)
    u50: Any = 1.0
    if beta:
        pairs = sum(theta[a] * theta[b] for i, a in enumerate(present) for b in present[i + 1 :])
        u50 = 1.0 - beta * pairs
    r = (u / u50) ** gamma
    return np.asarray(imax * r / (1.0 + r), dtype=float)


def first_order_lag(u: np.ndarray, dt: float, tau: float, y0: Any = None) -> np.ndarray:
    """Exact response of ``dy/dt = (u − y)/τ`` to ``u`` linear between grid points.

    ``u`` is sampled on a uniform grid of step ``dt`` along its last axis;
    ``y0`` is the state at the first point (default ``u[..., 0]``, steady
    state). Within a step with slope m = Δu/dt the solution is
    ``y(s) = u(s) − m·τ + (y_k − u_k + m·τ)·e^(−s/τ)``, so with a = e^(−dt/τ)
    and c = τ(1 − a)/dt::

        y[k+1] = a·y[k] + (1 − c)·u[k+1] + (c − a)·u[k]

    evaluated for all points at once by :func:`scipy.signal.lfilter`.
    """
    u = np.asarray(u, dtype=float)
    if u.shape[-1] == 0:
        return u.copy()
    y0 = u[..., 0] if y0 is None else np.broadcast_to(np.asarray(y0, float), u.shape[:-1])
    if tau <= 0:
        out = u.copy()
        out[..., 0] = y0
        return out
    a = math.exp(-dt / tau)
    c = tau * (1.0 - a) / dt
    b = [1.0 - c, c - a]
    zi = (np.asarray(y0, float) - b[0] * u[..., 0])[..., None]
    from scipy.signal import lfilter

    y, _ = lfilter(b, [1.0, -a], u, axis=-1, zi=zi)
    return y


def lag_within_step(s: Any, y_k: float, u_k: float, u_k1: float, dt: float, tau: float) -> Any:
    """The lag state ``s`` [s] into a step from ``(y_k, u_k)`` towards ``u_k1`` (0 <= s <= dt)."""
    m = (u_k1 - u_k) / dt
    return u_k + m * s - m * tau + (y_k - u_k + m * tau) * np.exp(-np.asarray(s) / tau)


def kazama_ke0_map(age: float) -> float:
    """Propofol plasma–blood-pressure equilibration rate ke0 [1/min] by age (Kazama 1999).

    Half-times for systolic pressure 5.68, 5.92, 8.87 and 10.22 min in patients
    aged 20–39, 40–59, 60–69 and 70–85 y [5]; ages below 20 use the youngest
    group (not studied).
    """
    half = 5.68 if age < 40 else 5.92 if age < 60 else 8.87 if age < 70 else 10.22
    return math.log(2.0) / half


# -- parameter sets -------------------------------------------------------------------------

def _c50_from_point(fraction: float, conc: float, gamma: float, imax: float = 1.0) -> float:
    """C50 such that I(conc) = fraction with the given γ and Imax (a one-point derivation)."""
    return conc * ((imax - fraction) / fraction) ** (1.0 / gamma)


# Nieuwenhuijs 2003 [4] abstract: at 1 ug/mL propofol / 1 ng/mL remifentanil, resting
# ventilation fell 12.6 % / 27.7 %, ventilation at a fixed PETCO2 of 55 mmHg 44.3 % / 57.7 %,
# blood pressure 9.9 % / 3.7 %.
_REMI_GAMMA = 1.25  # Bouillon 2003 [2]
_REMI_RESTING_C50 = _c50_from_point(0.277, 1.0, _REMI_GAMMA)  # 2.15 ng/mL
_REMI_ISOCAPNIC_C50 = _c50_from_point(0.577, 1.0, _REMI_GAMMA)  # 0.78 ng/mL
_MORPHINE_DRIVE_C50 = 32e-9 * MORPHINE_G_PER_MOL * 1e6  # 32 nM [3] -> 9.13 ng/mL

_VENTILATION: dict[str, dict[str, DrugEffect]] = {
    "resting": {
        "remifentanil": DrugEffect(
            "remifentanil", _REMI_RESTING_C50, _REMI_GAMMA, 1.0, None, "derived",
            (NIEUWENHUIJS2003, BOUILLON2003),
            "gamma 1.25 from Bouillon 2003; C50 2.15 ng/mL chosen so that 1 ng/mL gives the "
            "27.7 % resting-ventilation depression of Nieuwenhuijs 2003",
        ),
        "propofol": DrugEffect(
            "propofol", _c50_from_point(0.126, 1.0, 1.0), 1.0, 1.0, None, "derived",
            (NIEUWENHUIJS2003,),
            "C50 6.94 ug/mL from the 12.6 % resting-ventilation depression at 1 ug/mL "
            "(Nieuwenhuijs 2003) with gamma 1 and Imax 1 (illustrative shape)",
        ),
        "morphine": DrugEffect(
            "morphine", _MORPHINE_DRIVE_C50 * _REMI_RESTING_C50 / _REMI_ISOCAPNIC_C50, 1.0, 1.0,
            math.log(2.0) / (4.4 * 60.0), "illustrative", (DAHAN2004, NIEUWENHUIJS2003),
            "Dahan 2004 isohypercapnic C50 32 nM (9.13 ng/mL), gamma 1, t1/2ke0 4.4 h, scaled "
            "by remifentanil's resting/isohypercapnic C50 ratio in Nieuwenhuijs 2003 (2.76) to "
            "25.2 ng/mL: no published resting-ventilation C50 for morphine was found",
        ),
    },
    "drive": {
        "remifentanil": DrugEffect(
            "remifentanil", 0.92, _REMI_GAMMA, 1.0, None, "published", (BOUILLON2003,),
            "C50 0.92 ng/mL, Hill 1.25: depression of ventilatory drive in Bouillon's indirect "
            "PaCO2-response model (no CO2 feedback applied here)",
        ),
        "propofol": DrugEffect(
            "propofol", _c50_from_point(0.443, 1.0, 1.0), 1.0, 1.0, None, "derived",
            (NIEUWENHUIJS2003,),
            "C50 1.26 ug/mL from the 44.3 % depression of ventilation at fixed PETCO2 55 mmHg "
            "at 1 ug/mL (Nieuwenhuijs 2003), gamma 1",
        ),
        "morphine": DrugEffect(
            "morphine", _MORPHINE_DRIVE_C50, 1.0, 1.0, math.log(2.0) / (4.4 * 60.0),
            "published", (DAHAN2004,),
            "potency 32 nM (9.13 ng/mL), gamma 1, blood-effect-site t1/2 4.4 h (ke0 0.00263 "
            "/min): ventilation at a fixed PETCO2 of 50 mmHg (Dahan 2004)",
        ),
    },
}

_MAP = {
    "propofol": DrugEffect(
        "propofol", _c50_from_point(0.099, 1.0, 1.0, 0.5), 1.0, 0.5, None, "derived",
        (NIEUWENHUIJS2003, KAZAMA1999),
        "Imax 0.5 and gamma 1 illustrative; C50 4.05 ug/mL so that 1 ug/mL gives the 9.9 % "
        "blood-pressure fall of Nieuwenhuijs 2003; biophase ke0 by age from Kazama 1999 "
        "(systolic pressure), applied to MAP",
    ),
    "remifentanil": DrugEffect(
        "remifentanil", _c50_from_point(0.037, 1.0, 1.0, 0.3), 1.0, 0.3, None, "derived",
        (NIEUWENHUIJS2003,),
        "Imax 0.3 and gamma 1 illustrative; C50 7.1 ng/mL so that 1 ng/mL gives the 3.7 % "
        "blood-pressure fall of Nieuwenhuijs 2003",
    ),
}

_HR = {
    "propofol": DrugEffect(
        "propofol", 4.0, 1.0, 0.2, None, "illustrative", (NIEUWENHUIJS2003,),
        "illustrative (Imax 0.2, C50 4 ug/mL): Nieuwenhuijs 2003 reports only 'modest' effects",
    ),
    "remifentanil": DrugEffect(
        "remifentanil", 4.0, 1.0, 0.3, None, "illustrative", (NIEUWENHUIJS2003,),
        "illustrative (Imax 0.3, C50 4 ng/mL): opioid bradycardia; Nieuwenhuijs 2003 reports "
        "only 'modest' effects",
    ),
}

#: the profiles of the ventilation endpoint
PROFILES: tuple[str, ...] = tuple(_VENTILATION)

_DESCRIPTIONS = {
    "ventilation": "fractional depression of resting minute ventilation (opioids and propofol)",
    "respiratory_rate": "fractional fall of respiratory rate (opioids only)",
    "map": "fractional fall of mean arterial pressure",
    "hr": "fractional fall of heart rate",
}
_OPIOIDS = ("remifentanil", "morphine")


def endpoint(name: str, profile: str = "resting") -> Endpoint:
    """The parameters of endpoint ``name``: ventilation, respiratory_rate, map or hr.

    ``respiratory_rate`` uses the opioids' ventilation terms only: opioids slow
    the rate (they prolong expiration), while propofol mainly lowers tidal
    volume, so it does not enter the rate. Applying a ventilation potency to
    the rate (tidal volume preserved) is an illustrative mapping.
    """
    if profile not in _VENTILATION:
        raise ValueError(f"unknown PD profile {profile!r}; allowed: {', '.join(PROFILES)}")
    vent = _VENTILATION[profile]
    table = {
        "ventilation": vent,
        "respiratory_rate": {d: e for d, e in vent.items() if d in _OPIOIDS},
        "map": _MAP,
        "hr": _HR,
    }
    if name not in table:
        raise ValueError(f"unknown endpoint {name!r}; allowed: {', '.join(table)}")
    interaction = (MINTO2000, NIEUWENHUIJS2003)
    return Endpoint(name, dict(table[name]), 0.0, _DESCRIPTIONS[name], interaction)


#: endpoint name -> profile -> Endpoint, for listings and reports
ENDPOINTS: dict[str, dict[str, Endpoint]] = {
    name: {p: endpoint(name, p) for p in PROFILES}
    for name in ("ventilation", "respiratory_rate", "map", "hr")
}
