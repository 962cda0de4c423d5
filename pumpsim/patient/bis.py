"""Bispectral index (BIS) from propofol and remifentanil effect-site concentrations.

Bouillon et al. 2004 (docs/references.md [Bouillon2004]) fitted BIS during combined
propofol-remifentanil administration with a response surface in potency units
``U = Ce_P/C50_P + Ce_R/C50_R`` (the interaction term of the surface is zero for BIS,
i.e. Loewe additivity)::

    BIS = E0 − Emax · U^γ / (1 + U^γ)                                       (1)

with E0 = Emax = 97.4, C50_P = 4.47 ug/mL, C50_R = 19.3 ng/mL, γ = 1.43. These are
the values reported for the paper and used alike by two independent public
implementations (python-anesthesia-simulator, and a simulator of its users); they
were not checked here against the paper's table (provenance stated, not hidden).
At U = 1 (Ce_P = C50_P alone, Ce_R = C50_R alone, or any mix on the isobole)
BIS = E0/2 = 48.7.

The effect-site concentrations are those of the patient's PK models (Schnider's
ke0 0.456 /min for propofol, Minto's for remifentanil), as the python-anesthesia-
simulator also does; Bouillon's own biophase estimates are not used.

A BIS monitor reports a value every few seconds, with processing delay and
measurement noise: :func:`measured_bis` adds both, from the run's seeded generator
(see :mod:`pumpsim.engine.bismonitor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BisParameters", "BOUILLON2004", "bis_bouillon", "measured_bis", "BIS_MODELS"]


@dataclass(frozen=True)
class BisParameters:
    """Response-surface parameters: E0, Emax [BIS units], C50_P [ug/mL], C50_R [ng/mL],
    γ [1], β (interaction; 0 = additive)."""

    e0: float
    emax: float
    c50p: float
    c50r: float
    gamma: float
    beta: float = 0.0
    citation: str = ""


BOUILLON2004 = BisParameters(
    e0=97.4, emax=97.4, c50p=4.47, c50r=19.3, gamma=1.43, beta=0.0,
    citation="Bouillon TW, Bruhn J, Radulescu L, et al. Pharmacodynamic interaction between "
    "propofol and remifentanil regarding hypnosis, tolerance of laryngoscopy, bispectral "
    "index, and electroencephalographic approximate entropy. Anesthesiology "
    "2004;100:1353-1372. doi:10.1097/00000542-200406000-00006",
)  # fmt: skip

#: BIS models by scenario name
BIS_MODELS: dict[str, BisParameters] = {"bouillon2004": BOUILLON2004}


def bis_bouillon(ce_propofol: Any, ce_remifentanil: Any = 0.0,
                 params: BisParameters = BOUILLON2004) -> Any:  # fmt: skip
    """BIS [0-100] for effect-site propofol [ug/mL] and remifentanil [ng/mL] (arrays
    broadcast), equation (1) of the module docstring; with β ≠ 0 the potency at half
    effect is U50(θ) = 1 − β·θ + β·θ² (Minto 2000's surface)."""
    up = np.asarray(ce_propofol, dtype=float) / params.c50p
    ur = np.asarray(ce_remifentanil, dtype=float) / params.c50r
    u = up + ur
    with np.errstate(invalid="ignore", divide="ignore"):
        theta = np.where(u > 0, up / np.where(u > 0, u, 1.0), 0.0)
    u50 = 1.0 - params.beta * theta + params.beta * theta**2
    x = (u / u50) ** params.gamma
    return params.e0 - params.emax * x / (1.0 + x)


def measured_bis(true: float, noise_sd: float, rng: np.random.Generator | None) -> float:
    """A monitor reading: ``true`` plus Gaussian noise of SD ``noise_sd`` [BIS units],
    clipped to the index's range 0-100."""
    value = true + (rng.normal(0.0, noise_sd) if (noise_sd > 0 and rng is not None) else 0.0)
    return float(min(100.0, max(0.0, value)))
