"""Alfentanil, Maitre et al. 1987: population three-compartment model.

V1 = 0.111·WT [L], × 1.15 in women; CL = 0.356 L/min up to 40 y, then
0.356 − 0.00269·(AGE − 40); k12 0.104, k13 0.017, k21 0.0673 [1/min];
k31 = 0.0126 up to 40 y, then 0.0126 − 0.000113·(AGE − 40) [1/min];
k10 = CL / V1. Effect site: ke0 0.77 /min (t½ke0 0.9 min) as tabulated by
Shafer and Varvel 1991.

opentiva 1.1.2's ``alfentanil.Maitre`` writes V1 as 0.11·WT, 1 % below the
paper's 0.111 L/kg; the paper decides.

References: docs/references.md [Maitre1987], [ShaferVarvel1991].
"""

from __future__ import annotations

import numpy as np

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import Citation, Mammillary, ModelSpec
from pumpsim.pk.params.shafer1990 import SHAFER_VARVEL

MAITRE = Citation(
    "maitre1987",
    "Maitre PO, Vozeh S, Heykants J, Thomson DA, Stanski DR. Population pharmacokinetics "
    "of alfentanil: the average dose-plasma concentration relationship and interindividual "
    "variability in patients. Anesthesiology 1987;66:3-12.",
    "10.1097/00000542-198701000-00002",
)

K12, K13, K21 = 0.104, 0.017, 0.0673
KE0 = 0.77


def _parameters(c: Covariates) -> Mammillary:
    v1 = 0.111 * np.asarray(c.weight, dtype=float) * np.where(c.male, 1.0, 1.15)
    over40 = np.maximum(np.asarray(c.age, dtype=float) - 40.0, 0.0)
    cl = 0.356 - 0.00269 * over40
    k31 = 0.0126 - 0.000113 * over40
    return Mammillary(
        v1=v1, cl1=cl, v2=v1 * K12 / K21, cl2=K12 * v1, v3=v1 * K13 / k31, cl3=K13 * v1, ke0=KE0
    )


def check(c: Covariates) -> tuple[list[str], list[str]]:
    errors = []
    if np.any(np.asarray(c.age) >= 150):
        errors.append("maitre1987: age must be below 150 y (k31 turns negative)")
    warnings = []
    if np.any(np.asarray(c.age) < 18):
        warnings.append(f"maitre1987 was fitted in adults; age {np.min(c.age):g} y is below 18 y")
    return errors, warnings


MODEL = ModelSpec(
    key="maitre1987",
    drug="alfentanil",
    parameters=_parameters,
    citations=(MAITRE, SHAFER_VARVEL),
    aliases=("maitre",),
    check=check,
    description="alfentanil, Maitre 1987 (weight, age, sex), ke0 0.77/min",
)
