"""Propofol, Schnider et al. 1998/1999: covariate three-compartment model.

V1 4.27, V2 = 18.9 − 0.391·(AGE−53), V3 238 [L];
CL1 = 1.89 + 0.0456·(WT−77) − 0.0681·(LBM−59) + 0.0264·(HT−177),
CL2 = 1.29 − 0.024·(AGE−53), CL3 0.836 [L/min]; ke0 0.456 [1/min]
(Schnider 1999). LBM by James (see :func:`pumpsim.pk.covariates.lbm_james`).
Inter-individual variability (CV): V1 4 %, V3 14 %, CL1 10 %, CL3 12 %.

Schnider TW, Minto CF, Gambus PL, et al. The influence of method of
administration and covariates on the pharmacokinetics of propofol in adult
volunteers. Anesthesiology 1998;88:1170–1182. doi:10.1097/00000542-199805000-00006
Schnider TW, Minto CF, Shafer SL, et al. The influence of age on propofol
pharmacodynamics. Anesthesiology 1999;90:1502–1516.
doi:10.1097/00000542-199906000-00003
"""

from __future__ import annotations

import numpy as np

from pumpsim.pk.covariates import Covariates, lbm_james_peak_bmi
from pumpsim.pk.model import Citation, Mammillary, ModelSpec

CITATIONS = (
    Citation(
        "schnider1998",
        "Schnider TW, Minto CF, Gambus PL, et al. The influence of method of administration "
        "and covariates on the pharmacokinetics of propofol in adult volunteers. "
        "Anesthesiology 1998;88:1170-1182.",
        "10.1097/00000542-199805000-00006",
    ),
    Citation(
        "schnider1999",
        "Schnider TW, Minto CF, Shafer SL, et al. The influence of age on propofol "
        "pharmacodynamics. Anesthesiology 1999;90:1502-1516.",
        "10.1097/00000542-199906000-00003",
    ),
)


def parameters(c: Covariates) -> Mammillary:
    lbm = c.lbm
    return Mammillary(
        v1=4.27,
        v2=18.9 - 0.391 * (c.age - 53.0),
        v3=238.0,
        cl1=1.89 + 0.0456 * (c.weight - 77.0) - 0.0681 * (lbm - 59.0) + 0.0264 * (c.height - 177.0),
        cl2=1.29 - 0.024 * (c.age - 53.0),
        cl3=0.836,
        ke0=0.456,
    )


def check_lbm(key: str, c: Covariates) -> list[str]:
    """Errors where James' lean body mass is past its maximum for this patient."""
    peak = lbm_james_peak_bmi(c.male)
    if c.lean_body_mass is None and c.bmi > peak:
        return [
            f"{key} uses James lean body mass, which falls with weight above BMI {peak:.1f} "
            f"for a {c.sex} patient; this patient's BMI is {c.bmi:.1f}: use eleveld2018"
        ]
    return []


def check(c: Covariates) -> tuple[list[str], list[str]]:
    errors = check_lbm("schnider1998", c)
    warnings = []
    if not 25 <= c.age <= 81:
        warnings.append(f"schnider1998 was built on ages 25-81 y; this patient is {c.age:g} y")
    if not errors and float(parameters(c).v2) <= 0:
        errors.append(f"schnider1998 gives V2 <= 0 at age {c.age:g} y")
    return errors, warnings


MODEL = ModelSpec(
    key="schnider1998",
    drug="propofol",
    parameters=parameters,
    citations=CITATIONS,
    aliases=("schnider",),
    check=check,
    variability={
        "v1": float(np.sqrt(np.log1p(0.04**2))),
        "v3": float(np.sqrt(np.log1p(0.14**2))),
        "cl1": float(np.sqrt(np.log1p(0.10**2))),
        "cl3": float(np.sqrt(np.log1p(0.12**2))),
    },
    description="propofol, Schnider 1998 (PK) / 1999 (ke0 0.456/min)",
)
