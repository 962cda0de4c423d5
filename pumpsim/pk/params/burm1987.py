"""Lidocaine and bupivacaine, epidural and IV: Burm et al. 1987 (stable isotopes).

Twelve surgical patients received the drug epidurally and, shortly after, a
deuterium-labelled dose IV, so absorption and disposition were measured in the
same patients. Both drugs fit a 2-compartment disposition fed by two parallel
first-order absorption processes from the epidural space:

============  ==================  ==================  =====  =====  ==========  =====
drug          fast fraction, t½   slow fraction, t½   Vc     Vss    CL          t½β
============  ==================  ==================  =====  =====  ==========  =====
lidocaine     0.38, 9.3 min       0.58, 82 min        43 L   99 L   0.95 L/min  100 min
bupivacaine   0.28, 7.0 min       0.66, 362 min       33 L   68 L   0.52 L/min  143 min
============  ==================  ==================  =====  =====  ==========  =====

(ka = ln 2/t½ [1/min]; the fractions add to 0.96 and 0.94, "complete
absorption" within error; the rest is booked as not absorbed.)

The paper reports Vc, Vss, CL and t½β, not V2 and Q; they follow from the
two-compartment identities (:func:`two_compartment_from_terminal`)::

    V2 = Vss − Vc
    k10 = CL/Vc, k12 = Q/Vc, k21 = Q/V2, and β = ln 2/t½β is the smaller root of
    λ² − (k10 + k12 + k21)·λ + k10·k21 = 0. Putting λ = β and solving for Q:
    β² − β·k10 = Q·(β/Vc + β/V2 − k10/V2)
    Q = β·(β − k10)·Vc·V2 / (β·V2 + β·Vc − k10·Vc)        (needs β < CL/Vss)

    lidocaine:   V2 56 L, Q 0.959 L/min
    bupivacaine: V2 35 L, Q 0.321 L/min

Check: the other root α gives distribution half-lives of 12.7 and 23.3 min,
against the published 12 and 22 min. Volumes are the patients' mean values
[L], not scaled to weight.

Burm AG, Vermeulen NP, van Kleef JW, de Boer AG, Spierdijk J, Breimer DD.
Pharmacokinetics of lignocaine and bupivacaine in surgical patients following
epidural administration. Simultaneous investigation of absorption and
disposition kinetics using stable isotopes. Clin Pharmacokinet
1987;13:191–203. doi:10.2165/00003088-198713030-00004
"""

from __future__ import annotations

import numpy as np

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, Absorption, Citation, Mammillary, ModelSpec, Pathway

CITATION = Citation(
    "burm1987",
    "Burm AG, Vermeulen NP, van Kleef JW, de Boer AG, Spierdijk J, Breimer DD. Pharmacokinetics "
    "of lignocaine and bupivacaine in surgical patients following epidural administration. "
    "Simultaneous investigation of absorption and disposition kinetics using stable isotopes. "
    "Clin Pharmacokinet 1987;13:191-203.",
    "10.2165/00003088-198713030-00004",
)


def two_compartment_from_terminal(
    vc: float, vss: float, cl: float, t_half_beta: float
) -> Mammillary:
    """2-compartment disposition from Vc, Vss [L], CL [L/min] and terminal t½β [min].

    V2 = Vss − Vc and Q = β(β − k10)·Vc·V2/(β·V2 + β·Vc − k10·Vc), k10 = CL/Vc,
    β = ln 2/t½β (derivation in the module docstring).
    """
    beta = np.log(2.0) / t_half_beta
    v2 = vss - vc
    k10 = cl / vc
    if not 0 < beta < cl / vss:
        raise ValueError(
            f"no 2-compartment model has t½β {t_half_beta} min with CL/Vss {cl / vss:.4g}/min"
        )
    q = beta * (beta - k10) * vc * v2 / (beta * v2 + beta * vc - k10 * vc)
    return Mammillary(v1=vc, cl1=cl, v2=v2, cl2=float(q))


LIDOCAINE = two_compartment_from_terminal(vc=43.0, vss=99.0, cl=0.95, t_half_beta=100.0)
BUPIVACAINE = two_compartment_from_terminal(vc=33.0, vss=68.0, cl=0.52, t_half_beta=143.0)

EPIDURAL_LIDOCAINE = Absorption(
    (Pathway.from_half_life(0.38, 9.3), Pathway.from_half_life(0.58, 82.0)), citation=CITATION
)
EPIDURAL_BUPIVACAINE = Absorption(
    (Pathway.from_half_life(0.28, 7.0), Pathway.from_half_life(0.66, 362.0)), citation=CITATION
)


def _check(key: str):
    def check(c: Covariates) -> tuple[list[str], list[str]]:
        warnings = []
        if not 50 <= c.weight <= 100:
            warnings.append(
                f"{key} uses the mean volumes of 12 surgical adults, not scaled to weight; "
                f"this patient weighs {c.weight:g} kg"
            )
        if c.age < 18:
            warnings.append(f"{key} was measured in adults; this patient is {c.age:g} y")
        return [], warnings

    return check


MODEL_LIDOCAINE = ModelSpec(
    key="burm1987_lidocaine",
    drug="lidocaine",
    parameters=lambda c: LIDOCAINE,
    citations=(CITATION,),
    aliases=("burm_lidocaine",),
    check=_check("burm1987_lidocaine"),
    routes={"iv": IV, "epidural": EPIDURAL_LIDOCAINE},
    description="lidocaine, Burm 1987: 2-compartment, epidural biphasic absorption",
)

MODEL_BUPIVACAINE = ModelSpec(
    key="burm1987_bupivacaine",
    drug="bupivacaine",
    parameters=lambda c: BUPIVACAINE,
    citations=(CITATION,),
    aliases=("burm_bupivacaine",),
    check=_check("burm1987_bupivacaine"),
    routes={"iv": IV, "epidural": EPIDURAL_BUPIVACAINE},
    description="bupivacaine, Burm 1987: 2-compartment, epidural biphasic absorption",
)
