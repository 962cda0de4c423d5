"""Propofol, Marsh et al. 1991: weight-proportional three-compartment model.

V1 = 0.228·WT [L]; k10 0.119, k12 0.112, k13 0.0419, k21 0.055, k31 0.0033
[1/min]. Effect site: ke0 0.26 /min in the original (as used by the
Diprifusor), or 1.2 /min in the "modified Marsh" of Struys et al. 2000
(``marsh1991_modified``).

Marsh B, White M, Morton N, Kenny GN. Pharmacokinetic model driven infusion of
propofol in children. Br J Anaesth 1991;67:41–48. doi:10.1093/bja/67.1.41
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import Citation, Mammillary, ModelSpec

MARSH = Citation(
    "marsh1991",
    "Marsh B, White M, Morton N, Kenny GN. Pharmacokinetic model driven infusion of "
    "propofol in children. Br J Anaesth 1991;67:41-48.",
    "10.1093/bja/67.1.41",
)
STRUYS = Citation(
    "struys2000",
    "Struys MM, De Smet T, Depoorter B, et al. Comparison of plasma compartment versus two "
    "methods for effect compartment-controlled target-controlled infusion for propofol. "
    "Anesthesiology 2000;92:399-406.",
    "10.1097/00000542-200002000-00021",
)

K10, K12, K13, K21, K31 = 0.119, 0.112, 0.0419, 0.055, 0.0033
KE0_ORIGINAL = 0.26
KE0_MODIFIED = 1.2


def _parameters(c: Covariates, ke0: float) -> Mammillary:
    return Mammillary.from_rate_constants(0.228 * c.weight, K10, K12, K21, K13, K31, ke0)


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if c.age < 16:
        warnings.append(f"marsh1991 is used in adults here; age {c.age:g} y is below 16 y")
    if c.bmi > 35:
        warnings.append(
            f"marsh1991 scales V1 with total body weight; BMI {c.bmi:.1f} > 35 kg/m2 "
            "overestimates the dose it needs"
        )
    return [], warnings


MODEL = ModelSpec(
    key="marsh1991",
    drug="propofol",
    parameters=lambda c: _parameters(c, KE0_ORIGINAL),
    citations=(MARSH,),
    aliases=("marsh",),
    check=check,
    description="propofol, Marsh 1991, ke0 0.26/min (original)",
)

MODEL_MODIFIED = ModelSpec(
    key="marsh1991_modified",
    drug="propofol",
    parameters=lambda c: _parameters(c, KE0_MODIFIED),
    citations=(MARSH, STRUYS),
    aliases=("marsh_modified", "modified_marsh"),
    check=check,
    description="propofol, Marsh 1991 with ke0 1.2/min (Struys 2000, 'modified Marsh')",
)
