"""Fentanyl, Shafer et al. 1990: three-compartment model for computer-controlled infusion.

V1 6.09 L; k10 0.0827, k12 0.471, k13 0.225, k21 0.102, k31 0.006 [1/min]
(V2 = V1·k12/k21 ≈ 28.1 L, V3 = V1·k13/k31 ≈ 228 L, CL1 ≈ 0.50 L/min). Fixed
for every adult: the model has no covariates. The same constants are carried
by opentiva 1.1.2's ``fentanyl.Shafer`` (an independent implementation;
compared in ``tests/test_pk_opioids.py`` through its outputs only).

Effect site: ke0 0.147 /min (t½ke0 4.7 min) as tabulated by Shafer and Varvel
1991 for fentanyl. Context-sensitive decrement times in pumpsim are plasma
times and do not use ke0.

References: docs/references.md [Shafer1990], [ShaferVarvel1991].
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import Citation, Mammillary, ModelSpec

SHAFER = Citation(
    "shafer1990",
    "Shafer SL, Varvel JR, Aziz N, Scott JC. Pharmacokinetics of fentanyl administered by "
    "computer-controlled infusion pump. Anesthesiology 1990;73:1091-1102.",
    "10.1097/00000542-199012000-00005",
)
SHAFER_VARVEL = Citation(
    "shafervarvel1991",
    "Shafer SL, Varvel JR. Pharmacokinetics, pharmacodynamics, and rational opioid "
    "selection. Anesthesiology 1991;74:53-63.",
    "10.1097/00000542-199101000-00010",
)

V1 = 6.09
K10, K12, K13, K21, K31 = 0.0827, 0.471, 0.225, 0.102, 0.006
KE0 = 0.147


def _parameters(c: Covariates) -> Mammillary:
    return Mammillary.from_rate_constants(V1, K10, K12, K21, K13, K31, KE0)


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if c.age < 18:
        warnings.append(f"shafer1990 was fitted in adults; age {c.age:g} y is below 18 y")
    if not 40 <= c.weight <= 90:
        warnings.append(
            f"shafer1990 has no weight covariate; {c.weight:g} kg is outside the 40-90 kg "
            "of the patients it was fitted in"
        )
    return [], warnings


MODEL = ModelSpec(
    key="shafer1990",
    drug="fentanyl",
    parameters=_parameters,
    citations=(SHAFER, SHAFER_VARVEL),
    aliases=("shafer",),
    check=check,
    description="fentanyl, Shafer 1990 (fixed 3-compartment), ke0 0.147/min",
)
