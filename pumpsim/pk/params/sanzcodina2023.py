"""Ceftriaxone IV and IM: Sanz-Codina et al. 2023 disposition, label IM absorption.

Six healthy men received 2 g over 30 min; total plasma concentrations were
fitted with two compartments::

    CL 1.21 L/h, Vc 5.76 L, Q 2.92 L/h, Vp 2.97 L
    (t½α 0.44 h, t½β 5.3 h; the label gives 5.8–8.7 h over 0.15–3 g)

Binding to albumin is saturable (95 % bound below 25 mg/L, 85 % at 300 mg/L),
so total clearance rises with concentration; this linear fit describes total
concentrations near the 1–2 g doses it was built on and runs low late after
smaller doses (tests/test_pk_drugs.py compares it with the label's 1 g table).

IM: the label states complete absorption and tabulates mean concentrations
after 1 g IM (0.5–12 h: 40, 68, 76, 68, 56, 44, 29 mg/L). A first-order
absorption with F = 1 fitted here to that table (least squares on log
concentration, this disposition) gives ka = 0.0111 /min (t½ 62 min); the model
peak is then 77 mg/L at 2.4 h, as the table shows (peak sample at 2 h). It does
not reproduce a tmax of 1.3–1.9 h quoted elsewhere (docs/references.md [CeftriaxoneLabel]):
an absorption fast enough for tmax 1.6 h (ka 0.018 /min) over-predicts the
0.5–2 h concentrations of the table by 15–50 %.

Concentration-dependent binding: ``sanzcodina2023_binding``. Total plasma
concentrations are not proportional to dose (label, 30-min IV: 82, 151 and
257 mg/L at 0.5 h after 0.5, 1 and 2 g), because albumin binding saturates:
95 % bound below 25 mg/L, 85 % at 300 mg/L (label). One saturable site
through those two points [D]: C_b = Bmax·C_u/(Kd + C_u) with Bmax 353.3 mg/L
(637 µmol/L, about one site per albumin molecule) and Kd 17.34 mg/L. In that
model the central volume is Sanz-Codina's Vc 5.76 L and every flux out of it
carries the unbound concentration (:mod:`pumpsim.pk.nonlinear`); the unbound
clearance 18.38 L/h, unbound distribution clearance 41.0 L/h and unbound
peripheral volume 52.5 L are a fit made for pumpsim (least squares on log
concentration) to the label's 1 g IV row only [D]. It then predicts the 0.5 g
and 2 g rows within 8 % (the linear model, proportional to dose, is 17 %
high at 2 g) and a terminal half-life of 6.9 h (8–24 h, label 5.8–8.7 h).
IV only (the IM absorption above was fitted on the linear disposition).

Amounts and concentrations are ceftriaxone (label strengths are ceftriaxone
equivalents of the sodium salt) [mg], [mg/L] = [µg/mL].

Sanz-Codina M, et al. J Antimicrob Chemother 2023;78:380–388 (total and unbound
ceftriaxone in plasma of six healthy volunteers). doi:10.1093/jac/dkac400
Ceftriaxone for injection (Rocephin), US prescribing information, section 12.3
Pharmacokinetics, table of average plasma concentrations after single doses.
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, Absorption, Citation, Mammillary, ModelSpec, Pathway
from pumpsim.pk.nonlinear import MichaelisMenten, NonlinearSpec

SANZ_CODINA = Citation(
    "sanzcodina2023",
    "Sanz-Codina M, et al. [Ceftriaxone total and unbound plasma pharmacokinetics in six "
    "healthy volunteers.] J Antimicrob Chemother 2023;78:380-388.",
    "10.1093/jac/dkac400",
)
LABEL = Citation(
    "ceftriaxone_label",
    "Ceftriaxone for injection (ROCEPHIN), US prescribing information, section 12.3 "
    "Pharmacokinetics: average plasma concentrations after single IV and IM doses.",
)

DISPOSITION = Mammillary(v1=5.76, cl1=1.21 / 60.0, v2=2.97, cl2=2.92 / 60.0)
IM = Absorption((Pathway(1.0, 0.0111),), citation=LABEL)


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if not 50 <= c.weight <= 100:
        warnings.append(
            f"sanzcodina2023 uses the fixed volumes of six healthy men; this patient weighs "
            f"{c.weight:g} kg"
        )
    if c.age < 18:
        warnings.append(f"sanzcodina2023 describes adults; this patient is {c.age:g} y")
    return [], warnings


MODEL = ModelSpec(
    key="sanzcodina2023",
    drug="ceftriaxone",
    parameters=lambda c: DISPOSITION,
    citations=(SANZ_CODINA, LABEL),
    aliases=("sanzcodina",),
    check=check,
    routes={"iv": IV, "im": IM},
    description="ceftriaxone, Sanz-Codina 2023 (total plasma, healthy men); IM from label table",
)


#: one saturable albumin site through the label's 95 % bound at 25 mg/L and 85 % at
#: 300 mg/L (total) [D]: [mg/L]
BINDING_BMAX = 353.28
BINDING_KD = 17.344
#: unbound disposition fitted to the label's 1 g IV row with Vc fixed at 5.76 L [D]
UNBOUND = Mammillary(v1=5.76, cl1=18.38 / 60.0, v2=52.5, cl2=41.0 / 60.0)

BINDING_MODEL = NonlinearSpec(
    key="sanzcodina2023_binding",
    drug="ceftriaxone",
    parameters=lambda c: MichaelisMenten(UNBOUND, 0.0, 1.0, BINDING_BMAX, BINDING_KD),
    citations=(SANZ_CODINA, LABEL),
    aliases=("ceftriaxone_binding",),
    check=check,
    description="ceftriaxone IV with saturable albumin binding (total not proportional to "
    "dose); Vc from Sanz-Codina 2023, binding and unbound disposition from the label",
)
