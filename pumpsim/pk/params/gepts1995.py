"""Sufentanil, Gepts et al. 1995: three-compartment model from long sampling.

V1 14.3, V2 63.1, V3 261.6 [L]; CL1 0.92, CL2 1.55, CL3 0.33 [L/min] (the
paper's log-mean values, in its abstract), fixed for every adult. Effect
site: ke0 0.112 /min (t½ke0 6.2 min) as tabulated by Shafer and Varvel 1991.

opentiva 1.1.2's ``sufentanil.Gepts`` carries rate constants rounded from
slightly different volumes (k31 0.0014 against 0.33/261.6 = 0.00126 here).

References: docs/references.md [Gepts1995], [ShaferVarvel1991].
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import Citation, Mammillary, ModelSpec
from pumpsim.pk.params.shafer1990 import SHAFER_VARVEL

GEPTS = Citation(
    "gepts1995",
    "Gepts E, Shafer SL, Camu F, et al. Linearity of pharmacokinetics and model estimation "
    "of sufentanil. Anesthesiology 1995;83:1194-1204.",
    "10.1097/00000542-199512000-00010",
)

V1, V2, V3 = 14.3, 63.1, 261.6
CL1, CL2, CL3 = 0.92, 1.55, 0.33
KE0 = 0.112


def _parameters(c: Covariates) -> Mammillary:
    return Mammillary(v1=V1, cl1=CL1, v2=V2, cl2=CL2, v3=V3, cl3=CL3, ke0=KE0)


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if c.age < 14:
        warnings.append(f"gepts1995 was fitted at 14-68 y; age {c.age:g} y is below 14 y")
    return [], warnings


MODEL = ModelSpec(
    key="gepts1995",
    drug="sufentanil",
    parameters=_parameters,
    citations=(GEPTS, SHAFER_VARVEL),
    aliases=("gepts",),
    check=check,
    description="sufentanil, Gepts 1995 (fixed 3-compartment), ke0 0.112/min",
)
