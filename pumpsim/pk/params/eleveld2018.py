"""Propofol, Eleveld et al. 2018: general-purpose PK model for all ages.

With f_sig(x, E50, γ) = x^γ/(x^γ + E50^γ), f_age(x) = exp(x·(AGE−35)),
PMA = 52·AGE + 40 [weeks], f_central(W) = f_sig(W, θ12, 1),
f_CLmat = f_sig(PMA, θ8, θ9), f_Q3mat = f_sig(PMA, θ14, 1),
f_opioid(x) = exp(x·AGE) with opioids, else 1::

    V1  = θ1·f_central(WT)/f_central(70)                              [L]
    V2  = θ2·(WT/70)·f_age(θ10)                                       [L]
    V3  = θ3·(FFM/FFM_ref)·f_opioid(θ13)                              [L]
    CL  = (θ4 male | θ15 female)·(WT/70)^0.75·f_CLmat/f_CLmat,ref·f_opioid(θ11)  [L/min]
    Q2  = θ5·(V2/θ2)^0.75·(1 + θ16·(1 − f_Q3mat))                     [L/min]
    Q3  = θ6·(V3/θ3)^0.75·f_Q3mat/f_Q3mat,ref                         [L/min]
    ke0 = 0.146·(WT/70)^−0.25  (arterial samples)                     [1/min]

FFM by Al-Sallami; FFM_ref is that of the reference individual (male, 35 y,
70 kg, 170 cm). Q2 is NOT divided by a reference maturation; Q3 uses the
opioid-reduced V3 (both as published; some implementations differ).

Eleveld DJ, Colin P, Absalom AR, Struys MMRF. Pharmacokinetic-pharmacodynamic
model for propofol for broad application in anaesthesia and sedation. Br J
Anaesth 2018;120:942–959. doi:10.1016/j.bja.2018.01.018
"""

from __future__ import annotations

import numpy as np

from pumpsim.pk.covariates import Covariates, ffm_al_sallami
from pumpsim.pk.model import Citation, Mammillary, ModelSpec

CITATION = Citation(
    "eleveld2018",
    "Eleveld DJ, Colin P, Absalom AR, Struys MMRF. Pharmacokinetic-pharmacodynamic model "
    "for propofol for broad application in anaesthesia and sedation. Br J Anaesth "
    "2018;120:942-959.",
    "10.1016/j.bja.2018.01.018",
)

THETA = {
    1: 6.28, 2: 25.5, 3: 273.0, 4: 1.79, 5: 1.75, 6: 1.11, 8: 42.3, 9: 9.06, 10: -0.0156,
    11: -0.00286, 12: 33.6, 13: -0.0138, 14: 68.3, 15: 2.10, 16: 1.30,
}  # fmt: skip
#: inter-individual variance ω² (log scale), Eleveld 2018 table 2
OMEGA2 = {"v1": 0.610, "v2": 0.565, "v3": 0.597, "cl1": 0.265, "cl2": 0.346, "cl3": 0.209,
          "ke0": 0.702}  # fmt: skip

REF_AGE, REF_WEIGHT, REF_HEIGHT = 35.0, 70.0, 170.0


def _sig(x, e50, gamma):
    return x**gamma / (x**gamma + e50**gamma)


def parameters(c: Covariates) -> Mammillary:
    t = THETA
    pma = 52.0 * c.age + 40.0
    pma_ref = 52.0 * REF_AGE + 40.0

    def f_central(w):
        return _sig(w, t[12], 1.0)

    def f_opioid(x):
        return np.exp(x * c.age) if c.opioids else 1.0

    ffm = ffm_al_sallami(c.weight, c.height, c.age, c.male)
    ffm_ref = ffm_al_sallami(REF_WEIGHT, REF_HEIGHT, REF_AGE, True)
    f_q3mat = _sig(pma, t[14], 1.0)
    v1 = t[1] * f_central(c.weight) / f_central(REF_WEIGHT)
    v2 = t[2] * (c.weight / REF_WEIGHT) * np.exp(t[10] * (c.age - REF_AGE))
    v3 = t[3] * (ffm / ffm_ref) * f_opioid(t[13])
    cl = (
        (t[4] if c.male else t[15])
        * (c.weight / REF_WEIGHT) ** 0.75
        * _sig(pma, t[8], t[9])
        / _sig(pma_ref, t[8], t[9])
        * f_opioid(t[11])
    )
    q2 = t[5] * (v2 / t[2]) ** 0.75 * (1.0 + t[16] * (1.0 - f_q3mat))
    q3 = t[6] * (v3 / t[3]) ** 0.75 * f_q3mat / _sig(pma_ref, t[14], 1.0)
    ke0 = 0.146 * (c.weight / REF_WEIGHT) ** -0.25
    return Mammillary(v1=v1, v2=v2, v3=v3, cl1=cl, cl2=q2, cl3=q3, ke0=ke0)


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if not 0.68 <= c.weight <= 160:
        warnings.append(f"eleveld2018 was built on weights 0.68-160 kg; patient is {c.weight:g} kg")
    if c.age > 88:
        warnings.append(f"eleveld2018 was built on ages up to 88 y; patient is {c.age:g} y")
    return [], warnings


MODEL = ModelSpec(
    key="eleveld2018",
    drug="propofol",
    parameters=parameters,
    citations=(CITATION,),
    aliases=("eleveld",),
    check=check,
    variability={k: float(np.sqrt(v)) for k, v in OMEGA2.items()},
    description="propofol, Eleveld 2018 (all ages; opioid co-administration covariate)",
)
