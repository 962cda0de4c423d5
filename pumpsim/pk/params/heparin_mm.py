"""Unfractionated heparin IV: one compartment, saturable + linear elimination.

de Swart et al. (1982) found that heparin activity after an IV bolus fits
neither first- nor zero-order decay, and proposed a saturable plus a linear
clearance. The ACCP guideline (Garcia 2012) summarises the consequence: the
apparent half-life grows with the dose, ≈ 30, 60 and 150 min after 25, 100
and 400 U/kg. With V = 0.07 L/kg::

    dA/dt = input − V·(k_lin·C + Vmax·C/(Km + C)),   C = A/V

    V     0.07·WT          [L]
    k_lin 0.00147          [1/min]     (CL_lin = k_lin·V [L/min])
    Vmax  0.0104 U/mL/min = 10.4  [IU/(L·min)]
    Km    0.328  U/mL     = 328   [IU/L]

Vmax, Km and k_lin are a fit made for pumpsim (docs/references.md [Garcia2012]
[deSwart1982], tag [D]) of the three ACCP half-lives *as they are measured*:
from serial samples, by a log-linear fit. The protocol simulated for the fit:
a sample every 5 min from 15 min after the bolus (after the rapid initial loss
de Swart describes) while activity stays above a quarter of the first sample
(about two half-lives), the half-life being ln 2 over the fitted slope. It gives
30.1, 60.3 and 149.1 min, and predicts 48.8 min after 70 U/kg, inside the
63 ± 15 min (mean ± SD) measured from serial samples after 70 U/kg in 20
patients (Hirsh 1976, docs/references.md [Hirsh1976]). (An earlier fit to the
time from C0 = dose/V to C0/2 gave serially sampled half-lives 16–21 % short:
25.1, 47.4, 121.5 min.)

They describe anti-Xa activity in adults; a weight-based regimen for them is
80 U/kg then 18 U/kg/h (Raschke 1993). Amounts in IU, plasma activity in IU/L
(÷1000 for U/mL).

Limitation (checked in tests/test_pk_nonlinear.py): at steady state the fit's
clearance is higher than clinical experience suggests; Raschke's 18 U/kg/h
levels off at ≈ 0.20 U/mL, below the anti-Xa range 0.3–0.7 U/mL that the ACCP
guideline uses. The fit reproduces the dose-dependent decay of boluses, not
infusion requirements.

de Swart CA, Nijmeyer B, Roelofs JM, Sixma JJ. Kinetics of intravenously
administered heparin in normal humans. Blood 1982;60:1251–1258.
doi:10.1182/blood.V60.6.1251.1251
Garcia DA, Baglin TP, Weitz JI, Samama MM. Parenteral anticoagulants:
Antithrombotic Therapy and Prevention of Thrombosis, 9th ed: American College
of Chest Physicians Evidence-Based Clinical Practice Guidelines. Chest
2012;141(2 Suppl):e24S–e43S. doi:10.1378/chest.11-2291
Hirsh J, van Aken WG, Gallus AS, Dollery CT, Cade JF, Yung WL. Heparin kinetics
in venous thrombosis and pulmonary embolism. Circulation 1976;53:691–695.
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
        "hirsh1976",
        "Hirsh J, van Aken WG, Gallus AS, Dollery CT, Cade JF, Yung WL. Heparin kinetics in "
        "venous thrombosis and pulmonary embolism. Circulation 1976;53:691-695.",
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
K_LIN = 0.00147  # [1/min]
VMAX = 10.4  # [IU/(L·min)] = 0.0104 U/mL/min
KM = 328.0  # [IU/L] = 0.328 U/mL


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
