"""Morphine, Sarton et al. 2000: three compartments and a sex-specific effect site.

Twenty young volunteers (10 men, 10 women) received IV morphine (0.1 mg/kg
bolus, then 0.030 mg/kg/h for 1 h) with electrical pain tests::

    V1 = 0.075·WT [L];  k10 0.3, k12 0.183, k13 0.29, k21 0.087, k31 0.013 [1/min]
    ke0 (pain tolerance) 0.0073 /min in men, 0.0024 /min in women
    (t½ke0 95 and 289 min: the effect of morphine comes and goes slower in women)

The disposition has a very fast initial phase (70 kg: V1 5.25 L, but
CL1 1.58 L/min and CL3 1.52 L/min): the published SC and IM absorption
half-lives paired with it give peaks of 187 and 130 ng/mL at 3 min, far from
the observed 75 and 51–62 ng/mL at 10–20 min. So only ``iv`` and ``io`` (a
short marrow transit, disposition-independent; see :mod:`.lotsch2002`) are
offered; use ``lotsch2002`` for SC, IM and epidural morphine.

Sarton E, Olofsen E, Romberg R, den Hartigh J, Kest B, Nieuwenhuijs D, Burm A,
Teppema L, Dahan A. Sex differences in morphine analgesia: an experimental
study in healthy volunteers. Anesthesiology 2000;93:1245–1254.
doi:10.1097/00000542-200011000-00018
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, Citation, Mammillary, ModelSpec
from pumpsim.pk.params.lotsch2002 import IO, VON_HOFF

CITATION = Citation(
    "sarton2000",
    "Sarton E, Olofsen E, Romberg R, den Hartigh J, Kest B, Nieuwenhuijs D, Burm A, Teppema L, "
    "Dahan A. Sex differences in morphine analgesia: an experimental study in healthy "
    "volunteers. Anesthesiology 2000;93:1245-1254.",
    "10.1097/00000542-200011000-00018",
)

K10, K12, K13, K21, K31 = 0.3, 0.183, 0.29, 0.087, 0.013
V1_PER_KG = 0.075  # [L/kg]
KE0 = {"male": 0.0073, "female": 0.0024}  # [1/min], pain tolerance


def parameters(c: Covariates) -> Mammillary:
    return Mammillary.from_rate_constants(
        V1_PER_KG * c.weight, K10, K12, K21, K13, K31, ke0=KE0[c.sex]
    )


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if not 18 <= c.age <= 40:
        warnings.append(f"sarton2000 was built on young adult volunteers; patient is {c.age:g} y")
    return [], warnings


MODEL = ModelSpec(
    key="sarton2000",
    drug="morphine",
    parameters=parameters,
    citations=(CITATION, VON_HOFF),
    aliases=("sarton",),
    check=check,
    routes={"iv": IV, "io": IO},
    description="morphine, Sarton 2000, with effect site (ke0 0.0073 men / 0.0024 women)",
)
