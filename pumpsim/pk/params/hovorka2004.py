"""Insulin (rapid-acting analogue), Hovorka et al. 2004: SC two-compartment chain.

The insulin submodel of Hovorka's glucose controller (insulin lispro by pump,
type 1 diabetes)::

    dS1/dt = u − S1/tmax,I
    dS2/dt = (S1 − S2)/tmax,I
    dI/dt  = S2/(tmax,I·VI) − ke·I

    tmax,I 55 [min], ke 0.138 [1/min], VI 0.12·WT [L]

i.e. one pathway of two transit compartments with ka = 1/55 per minute and
F = 1 into a one-compartment plasma space with CL = ke·VI (70 kg: 8.4 L,
1.16 L/min). ``iv`` enters plasma directly. Amounts in IU; plasma insulin in
IU/L (×1000 for mU/L = µU/mL). Endogenous insulin is not modelled (type 1).

The model's plasma peak after an SC bolus is at 63 min; rapid analogues are
observed to peak at ≈ 44–47 min (Diabet Med 2018;35:306–316), so the model is
≈ 15 min late (checked in tests/test_pk_drugs.py).

Hovorka R, Canonico V, Chassin LJ, Haueter U, Massi-Benedetti M, Orsini Federici
M, Pieber TR, Schaller HC, Schaupp L, Vering T, Wilinska ME. Nonlinear model
predictive control of glucose concentration in subjects with type 1 diabetes.
Physiol Meas 2004;25:905–920. doi:10.1088/0967-3334/25/4/010
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, Absorption, Citation, Mammillary, ModelSpec, Pathway

CITATION = Citation(
    "hovorka2004",
    "Hovorka R, Canonico V, Chassin LJ, Haueter U, Massi-Benedetti M, Orsini Federici M, "
    "Pieber TR, Schaller HC, Schaupp L, Vering T, Wilinska ME. Nonlinear model predictive "
    "control of glucose concentration in subjects with type 1 diabetes. Physiol Meas "
    "2004;25:905-920.",
    "10.1088/0967-3334/25/4/010",
)

TMAX_I = 55.0  # [min]
KE = 0.138  # [1/min]
VI_PER_KG = 0.12  # [L/kg]

SC = Absorption((Pathway(1.0, 1.0 / TMAX_I, chain=2),), citation=CITATION)


def parameters(c: Covariates) -> Mammillary:
    vi = VI_PER_KG * c.weight
    return Mammillary(v1=vi, cl1=KE * vi)


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if c.age < 18:
        warnings.append(f"hovorka2004 was identified in adults; this patient is {c.age:g} y")
    return [], warnings


MODEL = ModelSpec(
    key="hovorka2004",
    drug="insulin",
    parameters=parameters,
    citations=(CITATION,),
    aliases=("hovorka",),
    check=check,
    routes={"iv": IV, "sc": SC},
    description="insulin lispro, Hovorka 2004: SC 2-compartment chain (tmax 55 min)",
)
