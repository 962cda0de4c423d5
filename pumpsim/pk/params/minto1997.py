"""Remifentanil, Minto et al. 1997: covariate three-compartment model.

V1 = 5.1 − 0.0201·(AGE−40) + 0.072·(LBM−55), V2 = 9.82 − 0.0811·(AGE−40) +
0.108·(LBM−55), V3 5.42 [L]; CL1 = 2.6 − 0.0162·(AGE−40) + 0.0191·(LBM−55),
CL2 = 2.05 − 0.0301·(AGE−40), CL3 = 0.076 − 0.00113·(AGE−40) [L/min];
ke0 = 0.595 − 0.007·(AGE−40) [1/min]. LBM by James.

Inter-individual variability of the complex model (CV): V1 26 %, V2 29 %,
V3 66 %, CL1 14 %, CL2 36 %, CL3 41 %. Provenance: pumpsim's authors could
not open the paper's table; these are the values two independent public
implementations of the model (one Python, one R) both carry for it. They
differ on ke0 (60 % against 68 %), so ke0 is not varied here. The CVs enter
as log-normal ω = sqrt(ln(1 + CV²)), as for Schnider; reading the CV as ω
itself (the other common convention) would make ω at most 10 % larger
(V3: 0.66 against 0.60).

Minto CF, Schnider TW, Egan TD, et al. Influence of age and gender on the
pharmacokinetics and pharmacodynamics of remifentanil. I. Model development.
Anesthesiology 1997;86:10–23. doi:10.1097/00000542-199701000-00004
Minto CF, Schnider TW, Shafer SL. Pharmacokinetics and pharmacodynamics of
remifentanil. II. Model application. Anesthesiology 1997;86:24–33.
doi:10.1097/00000542-199701000-00005
"""

from __future__ import annotations

import numpy as np

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import Citation, Mammillary, ModelSpec
from pumpsim.pk.params.schnider1998 import check_lbm

CITATIONS = (
    Citation(
        "minto1997",
        "Minto CF, Schnider TW, Egan TD, et al. Influence of age and gender on the "
        "pharmacokinetics and pharmacodynamics of remifentanil. I. Model development. "
        "Anesthesiology 1997;86:10-23.",
        "10.1097/00000542-199701000-00004",
    ),
    Citation(
        "minto1997b",
        "Minto CF, Schnider TW, Shafer SL. Pharmacokinetics and pharmacodynamics of "
        "remifentanil. II. Model application. Anesthesiology 1997;86:24-33.",
        "10.1097/00000542-199701000-00005",
    ),
)


#: inter-individual variability, CV (module docstring: provenance)
CV = {"v1": 0.26, "v2": 0.29, "v3": 0.66, "cl1": 0.14, "cl2": 0.36, "cl3": 0.41}


def parameters(c: Covariates) -> Mammillary:
    lbm = c.lbm
    a = c.age - 40.0
    return Mammillary(
        v1=5.1 - 0.0201 * a + 0.072 * (lbm - 55.0),
        v2=9.82 - 0.0811 * a + 0.108 * (lbm - 55.0),
        v3=5.42,
        cl1=2.6 - 0.0162 * a + 0.0191 * (lbm - 55.0),
        cl2=2.05 - 0.0301 * a,
        cl3=0.076 - 0.00113 * a,
        ke0=0.595 - 0.007 * a,
    )


def check(c: Covariates) -> tuple[list[str], list[str]]:
    errors = check_lbm("minto1997", c)
    warnings = []
    if not 20 <= c.age <= 85:
        warnings.append(f"minto1997 was built on ages 20-85 y; this patient is {c.age:g} y")
    if not errors and c.age >= 40 + 0.076 / 0.00113:
        errors.append(f"minto1997 gives CL3 <= 0 at age {c.age:g} y")
    return errors, warnings


MODEL = ModelSpec(
    key="minto1997",
    drug="remifentanil",
    parameters=parameters,
    citations=CITATIONS,
    aliases=("minto",),
    check=check,
    variability={name: float(np.sqrt(np.log1p(cv**2))) for name, cv in CV.items()},
    description="remifentanil, Minto 1997",
)
