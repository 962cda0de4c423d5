"""Morphine, Lötsch et al. 2002: three compartments, and the routes fitted to it.

Disposition (healthy young volunteers)::

    V1 = 0.25·WT [L];  k10 0.070506, k12 0.127341, k13 0.018258,
    k21 0.025964, k31 0.001633 [1/min]
    (70 kg: V1 17.5 L, CL 1.23 L/min, Vss 299 L)

Amounts are morphine base [mg] (10 mg sulfate pentahydrate = 7.52 mg base).
Each route is an :class:`~pumpsim.pk.model.Absorption` with its own source:

* ``sc`` — Stuart-Harris 2000 (10 mg sulfate per 70 kg, volunteers): SC Cmax
  74.8 ng/mL at 0.25 h (0.17–0.25), absorption t½ 0.08 h, F 114 ± 17 %.
* ``im`` — Stanski 1978 (10 mg sulfate): peak 51–62 ng/mL within 20 min,
  absorption t½ 7.7 min, F 100 %.
* ``epidural`` — 6 mg epidural in 5 patients: Cmax 66 ± 8 ng/mL (mean ± SEM)
  at 12 ± 3 min; "similar to intramuscular" (6 mg taken as base: the abstract
  names no salt).
* ``io`` — Von Hoff 2008 (5 mg sulfate, iliac IO port vs IV): bioequivalent,
  tmax 1.3 vs 1.4 min, Cmax 235 vs 289 ng/mL, AUC ratio 0.99.

Which absorption rates, and why. Paired with this disposition, the published
absorption half-lives over-predict the observed peaks: SC 4.8 min gives
130 ng/mL (1.7×), IM 7.7 min gives 99 ng/mL (1.6–1.9×). The same disposition
also puts the IV concentration at Stuart-Harris' first sample (5 min) at
154 ng/mL against 80.8 observed: its early phase is higher than in those
volunteers, and a fast absorption passes that on. A simulator's user reads
absolute concentrations, so the default routes use absorption rates fitted
here to the observed peaks *with this disposition* (70 kg, F = 1):

========  ===========  ================================  =====================
route     ka [1/min]   fitted to                         model peak
========  ===========  ================================  =====================
sc        0.058        Cmax 74.8 ng/mL (exact: 0.0584)   74.4 ng/mL, 9.3 min
im        0.039        middle of 51–62 ng/mL (0.0391)    56.4 ng/mL, 11.4 min
epidural  0.065        66 ± 8 ng/mL at 12 ± 3 min [1]    64.1 ng/mL, 8.8 min
io        4 (chain 2)  mean marrow transit 30 s [2]      —
========  ===========  ================================  =====================

[1] Weighted least squares on (Cmax, tmax) with weights 1/SEM², F fixed at 1.
Both numbers cannot be met at once: tmax 12 min needs ka 0.035, and then
Cmax 66 needs F = 1.58, impossible. Another study (Nordberg 1983: 2–6 mg
epidural, peaks 19–34 ng/mL within 15 min) found lower peaks.
[2] Two transit compartments, 15 s each, F = 1 (docs/references.md [VonHoff2008]: mean delay
10–60 s in a perfused patient). This reproduces Von Hoff's IO/IV Cmax ratio
(0.81 observed, 0.81 model for instant pushes). CPR and site (tibia vs
sternum) lower early delivery — not modelled.

``lotsch2002_published_absorption`` keeps the published half-lives for users
who want them (F = 1: SC F 114 % exceeds 1 only by its error).

Lötsch J, Skarke C, Schmidt H, Liefhold J, Geisslinger G. Pharmacokinetic
modeling to predict morphine and morphine-6-glucuronide plasma concentrations
in healthy young volunteers. Clin Pharmacol Ther 2002;72:151–162.
doi:10.1067/mcp.2002.126172
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, Absorption, Citation, Mammillary, ModelSpec, Pathway

LOTSCH = Citation(
    "lotsch2002",
    "Lotsch J, Skarke C, Schmidt H, Liefhold J, Geisslinger G. Pharmacokinetic modeling to "
    "predict morphine and morphine-6-glucuronide plasma concentrations in healthy young "
    "volunteers. Clin Pharmacol Ther 2002;72:151-162.",
    "10.1067/mcp.2002.126172",
)
STUART_HARRIS = Citation(
    "stuartharris2000",
    "Stuart-Harris R, Joel SP, McDonald P, Currow D, Slevin ML. The pharmacokinetics of morphine "
    "and morphine glucuronide metabolites after subcutaneous bolus injection and subcutaneous "
    "infusion of morphine. Br J Clin Pharmacol 2000;49:207-214.",
    "10.1046/j.1365-2125.2000.00141.x",
)
STANSKI = Citation(
    "stanski1978",
    "Stanski DR, Greenblatt DJ, Lowenstein E. Kinetics of intravenous and intramuscular "
    "morphine. Clin Pharmacol Ther 1978;24:52-59.",
)
EPIDURAL_SOURCE = Citation(
    "nordberg1984",
    "Nordberg G, Hedner T, Mellstrand T, Dahlstrom B. Pharmacokinetics of epidural morphine "
    "in man. Eur J Clin Pharmacol 1984;26:233-237 (5 patients, 6 mg; Cmax 66 +/- 8 ng/mL "
    "at 12 +/- 3 min).",
)
NORDBERG = Citation(
    "nordberg1983",
    "Nordberg G, Hedner T, Mellstrand T, Dahlstrom B. Pharmacokinetic aspects of epidural "
    "morphine analgesia. Anesthesiology 1983;58:545-551.",
    "10.1097/00000542-198306000-00012",
)
VON_HOFF = Citation(
    "vonhoff2008",
    "Von Hoff DD, Kuhn JG, Burris HA 3rd, Miller LJ. Does intraosseous equal intravenous? "
    "A pharmacokinetic study. Am J Emerg Med 2008;26:31-38.",
    "10.1016/j.ajem.2007.03.024",
)

K10, K12, K13, K21, K31 = 0.070506, 0.127341, 0.018258, 0.025964, 0.001633
V1_PER_KG = 0.25  # [L/kg]

#: fitted with this disposition to the observed peaks (table in the module docstring)
SC = Absorption((Pathway(1.0, 0.058),), citation=STUART_HARRIS)
IM = Absorption((Pathway(1.0, 0.039),), citation=STANSKI)
EPIDURAL = Absorption((Pathway(1.0, 0.065),), citation=EPIDURAL_SOURCE)
IO = Absorption((Pathway(1.0, 4.0, chain=2),), citation=VON_HOFF)
#: the published absorption half-lives: SC 0.08 h (Stuart-Harris), IM 7.7 min (Stanski)
SC_PUBLISHED = Absorption((Pathway.from_half_life(1.0, 0.08 * 60.0),), citation=STUART_HARRIS)
IM_PUBLISHED = Absorption((Pathway.from_half_life(1.0, 7.7),), citation=STANSKI)


def parameters(c: Covariates) -> Mammillary:
    return Mammillary.from_rate_constants(V1_PER_KG * c.weight, K10, K12, K21, K13, K31)


def volunteer_check(key: str, c: Covariates) -> tuple[list[str], list[str]]:
    """Warnings for a morphine model fitted in young adult volunteers, scaled by weight."""
    warnings = []
    if c.age < 18:
        warnings.append(f"{key} was built on young adults; this patient is {c.age:g} y")
    elif c.age > 65:
        warnings.append(
            f"{key} was built on young adults; this patient is {c.age:g} y and morphine "
            "clearance per kg is lower in the elderly (Stanski 1978: 12.4 vs 14.7 mL/min/kg)"
        )
    if c.bmi > 35:
        warnings.append(
            f"{key} scales its volumes and clearances with total body weight; BMI "
            f"{c.bmi:.1f} > 35 kg/m2 overestimates them"
        )
    return [], warnings


def check(c: Covariates) -> tuple[list[str], list[str]]:
    return volunteer_check("lotsch2002", c)


MODEL = ModelSpec(
    key="lotsch2002",
    drug="morphine",
    parameters=parameters,
    citations=(LOTSCH, STUART_HARRIS, STANSKI, EPIDURAL_SOURCE, NORDBERG, VON_HOFF),
    aliases=("lotsch",),
    check=check,
    routes={"iv": IV, "sc": SC, "im": IM, "epidural": EPIDURAL, "io": IO},
    description="morphine, Lotsch 2002; SC/IM/epidural absorption fitted to observed peaks",
)

def check_published_absorption(c: Covariates) -> tuple[list[str], list[str]]:
    return volunteer_check("lotsch2002_published_absorption", c)


MODEL_PUBLISHED_ABSORPTION = ModelSpec(
    key="lotsch2002_published_absorption",
    drug="morphine",
    parameters=parameters,
    citations=(LOTSCH, STUART_HARRIS, STANSKI, VON_HOFF),
    check=check_published_absorption,
    routes={"iv": IV, "sc": SC_PUBLISHED, "im": IM_PUBLISHED, "io": IO},
    description="morphine, Lotsch 2002 with the published SC/IM absorption half-lives",
)
