"""Unfractionated heparin IV: one compartment, saturable + linear elimination.

de Swart et al. (1982) found that heparin activity after an IV bolus fits
neither first- nor zero-order decay, and proposed a saturable plus a linear
clearance. The ACCP guideline (Garcia 2012) summarises the consequence: the
apparent half-life grows with the dose, ≈ 30, 60 and 150 min after 25, 100
and 400 U/kg. With V = 0.07 L/kg::

    dA/dt = input − V·(k_lin·C + Vmax·C/(Km + C)),   C = A/V

    V     0.07·WT          [L]
    k_lin 0.00133          [1/min]     (CL_lin = k_lin·V [L/min])
    Vmax  0.0148 U/mL/min = 14.8  [IU/(L·min)]
    Km    0.424  U/mL     = 424   [IU/L]

Vmax, Km and k_lin are a fit made for pumpsim (docs/references.md [Garcia2012]
[deSwart1982], tag [D]) of
the three ACCP half-lives (time from C0 = dose/V to C0/2): 30.1, 60.1 and
150.1 min. They describe anti-Xa activity in adults; a weight-based regimen
for them is 80 U/kg then 18 U/kg/h (Raschke 1993). Amounts in IU, plasma
activity in IU/L (÷1000 for U/mL).

Limitation (checked in tests/test_pk_nonlinear.py): at steady state the fit's
clearance is higher than clinical experience suggests; Raschke's 18 U/kg/h
levels off at ≈ 0.16 U/mL, below the anti-Xa range 0.3–0.7 U/mL that the ACCP
guideline uses. The fit reproduces the dose-dependent decay of boluses, not
infusion requirements.

de Swart CA, Nijmeyer B, Roelofs JM, Sixma JJ. Kinetics of intravenously
administered heparin in normal humans. Blood 1982;60:1251–1258.
doi:10.1182/blood.V60.6.1251.1251
Garcia DA, Baglin TP, Weitz JI, Samama MM. Parenteral anticoagulants:
Antithrombotic Therapy and Prevention of Thrombosis, 9th ed: American College
of Chest Physicians Evidence-Based Clinical Practice Guidelines. Chest
2012;141(2 Suppl):e24S–e43S. doi:10.1378/chest.11-2291
Raschke RA, Reilly BM, Guidry JR, Fontana JR, Srinivas S. The weight-based
heparin dosing nomogram compared with a "standard care" nomogram. Ann Intern
Med 1993;119:874–881. doi:10.7326/0003-4819-119-9-199311010-00002
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import Citation, Mammillary
from pumpsim.pk.nonlinear import MichaelisMenten, NonlinearSpec

CITATIONS = (
    Citation(
        "deswart1982",
        "de Swart CA, Nijmeyer B, Roelofs JM, Sixma JJ. Kinetics of intravenously administered "
        "heparin in normal humans. Blood 1982;60:1251-1258.",
        "10.1182/blood.V60.6.1251.1251",
    ),
    Citation(
        "garcia2012",
        "Garcia DA, Baglin TP, Weitz JI, Samama MM. Parenteral anticoagulants: Antithrombotic "
        "Therapy and Prevention of Thrombosis, 9th ed: American College of Chest Physicians "
        "Evidence-Based Clinical Practice Guidelines. Chest 2012;141(2 Suppl):e24S-e43S.",
        "10.1378/chest.11-2291",
    ),
    Citation(
        "raschke1993",
        "Raschke RA, Reilly BM, Guidry JR, Fontana JR, Srinivas S. The weight-based heparin dosing "
        'nomogram compared with a "standard care" nomogram. A randomized controlled trial. '
        "Ann Intern Med 1993;119:874-881.",
        "10.7326/0003-4819-119-9-199311010-00002",
    ),
)

V_PER_KG = 0.07  # [L/kg]
K_LIN = 0.00133  # [1/min]
VMAX = 14.8  # [IU/(L·min)] = 0.0148 U/mL/min
KM = 424.0  # [IU/L] = 0.424 U/mL


def parameters(c: Covariates) -> MichaelisMenten:
    v = V_PER_KG * c.weight
    return MichaelisMenten(Mammillary(v1=v, cl1=K_LIN * v), vmax=VMAX, km=KM)


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if c.age < 18:
        warnings.append(f"heparin_mm is fitted to adult half-lives; this patient is {c.age:g} y")
    return [], warnings


MODEL = NonlinearSpec(
    key="heparin_mm",
    drug="heparin",
    parameters=parameters,
    citations=CITATIONS,
    aliases=("heparin_michaelis_menten",),
    check=check,
    description="heparin IV, 1 compartment, saturable + linear elimination (dose-dependent t½)",
)
