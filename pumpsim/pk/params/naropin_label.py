"""Ropivacaine, IV and epidural: the Naropin label, completed from Burm 1987.

The US prescribing information (Clinical Pharmacology, Pharmacokinetics) gives,
after intravascular infusion: total plasma clearance 387 ± 107 mL/min,
steady-state volume 41 ± 7 L, terminal half-life 1.8 ± 0.7 h; and from the
epidural space "complete and biphasic absorption" with half-lives of 14 ± 7 min
and 4.2 ± 0.9 h (the slow phase limits elimination, hence a terminal half-life
of 4.2 h after epidural dosing). It gives neither the central volume nor how the
dose divides between the two phases, so two numbers are chosen here:

* fast fraction f = 0.28/(0.28 + 0.66) = 0.298, slow 0.702 (F = 1): the split
  of bupivacaine, ropivacaine's homologue, measured by the same stable-isotope
  method (Burm 1987). Doubling f raises C(5–10 h) of the 21-h infusions by 13 %
  and C(21 h) by 1 %; halving it lowers them by 7 % and 1 %.
* Vc = Vss·33/68 = 19.9 L: bupivacaine's Vc/Vss (Burm 1987). It shapes only the
  first minutes after an IV dose; epidural plateaus do not depend on it.

V2 and Q then follow from Vss, CL and t½β exactly as for Burm's drugs
(:func:`pumpsim.pk.params.burm1987.two_compartment_from_terminal`)::

    V1 19.9 L, V2 21.1 L, CL 0.387 L/min, Q 0.284 L/min
    epidural: 0.298 with t½ 14 min, 0.702 with t½ 252 min

Concentrations are total (bound + unbound) ropivacaine; 94 % is bound, mainly
to α1-acid glycoprotein, whose postoperative rise raises total (not unbound)
concentrations over days — not modelled. Amounts are ropivacaine base [mg];
label strengths are ropivacaine hydrochloride (× 0.883 for base, see
:mod:`pumpsim.pk.drugs`). Checked against the 21-h epidural infusions of
Emanuelsson 1995 in tests/test_pk_drugs.py.

NAROPIN (ropivacaine hydrochloride) injection, US prescribing information,
section 12.3 Pharmacokinetics. Fresenius Kabi USA.
Burm AG, et al. Clin Pharmacokinet 1987;13:191–203.
doi:10.2165/00003088-198713030-00004
"""

from __future__ import annotations

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, Absorption, Citation, ModelSpec, Pathway
from pumpsim.pk.params.burm1987 import CITATION as BURM
from pumpsim.pk.params.burm1987 import two_compartment_from_terminal

LABEL = Citation(
    "naropin_label",
    "NAROPIN (ropivacaine hydrochloride) injection. US prescribing information, section 12.3 "
    "Pharmacokinetics. Lake Zurich (IL): Fresenius Kabi USA.",
)

CL = 0.387  # [L/min]
VSS = 41.0  # [L]
T_HALF_BETA = 1.8 * 60.0  # [min]
VC = VSS * 33.0 / 68.0  # [L], bupivacaine's Vc/Vss (Burm 1987)
FAST = 0.28 / (0.28 + 0.66)  # bupivacaine's fast share (Burm 1987)

DISPOSITION = two_compartment_from_terminal(VC, VSS, CL, T_HALF_BETA)
EPIDURAL = Absorption(
    (Pathway.from_half_life(FAST, 14.0), Pathway.from_half_life(1.0 - FAST, 4.2 * 60.0)),
    citation=LABEL,
)


def check(c: Covariates) -> tuple[list[str], list[str]]:
    warnings = []
    if not 50 <= c.weight <= 100:
        warnings.append(
            f"naropin_label uses fixed adult volumes, not scaled to weight; "
            f"this patient weighs {c.weight:g} kg"
        )
    if c.age < 18:
        warnings.append(f"naropin_label describes adults; this patient is {c.age:g} y")
    return [], warnings


MODEL = ModelSpec(
    key="naropin_label",
    drug="ropivacaine",
    parameters=lambda c: DISPOSITION,
    citations=(LABEL, BURM),
    aliases=("naropin",),
    check=check,
    routes={"iv": IV, "epidural": EPIDURAL},
    description="ropivacaine, Naropin label (CL, Vss, t½; epidural 14 min / 4.2 h)",
)
