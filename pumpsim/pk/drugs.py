"""The drugs pumpsim knows, as data: amount unit, display unit, default model, salts."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Drug", "DRUGS"]


@dataclass(frozen=True)
class Drug:
    """A drug pumpsim knows.

    Attributes
    ----------
    name : str
    amount_unit : {"mg", "IU"}
        Unit of amounts inside pumpsim (doses are converted to it).
    plasma_unit : str
        Unit in which users read its concentrations, e.g. ``"ug/mL"``.
    plasma_factor : float
        Multiply amount/L (mg/L or IU/L) by this to get ``plasma_unit``.
    default_model : str or None
        Key of the default PK model; None for a drug without PK (``fluid``).
    salts : dict of str to float
        Salt form -> mass of base per mass of salt.
    """

    name: str
    amount_unit: str
    plasma_unit: str
    plasma_factor: float
    default_model: str | None
    salts: dict[str, float] = field(default_factory=dict)
    description: str = ""


# Salt factors = molar mass of base / molar mass of salt (IUPAC atomic masses: C 12.011,
# H 1.008, N 14.007, O 15.999, S 32.06, Cl 35.453). Morphine C17H19NO3 285.34; sulfate
# pentahydrate (C17H19NO3)2·H2SO4·5H2O 758.83; hydrochloride trihydrate (Ph. Eur.)
# C17H19NO3·HCl·3H2O 375.85. Local anaesthetic strengths are stated as the anhydrous
# hydrochloride: lidocaine C14H22N2O 234.34 / 270.80, bupivacaine C18H28N2O 288.43 /
# 324.89, ropivacaine C17H26N2O 274.41 / 310.87.
MORPHINE_SALTS = {"sulfate": 2 * 285.34 / 758.83, "hydrochloride": 285.34 / 375.85}

DRUGS: dict[str, Drug] = {
    d.name: d
    for d in (
        Drug("propofol", "mg", "ug/mL", 1.0, "schnider1998", description="hypnotic"),
        Drug("remifentanil", "mg", "ng/mL", 1000.0, "minto1997", description="opioid"),
        Drug("morphine", "mg", "ng/mL", 1000.0, "sarton2000", MORPHINE_SALTS, "opioid"),
        # IU/L x 1000 = mU/L (= uU/mL)
        Drug("insulin", "IU", "mU/L", 1000.0, "hovorka2004", description="rapid-acting insulin"),
        # IU/L / 1000 = U/mL (anti-Xa activity)
        Drug("heparin", "IU", "U/mL", 1.0 / 1000.0, "heparin_mm", description="anticoagulant"),
        Drug("vancomycin", "mg", "mg/L", 1.0, "goti2018", description="glycopeptide antibiotic"),
        Drug("lidocaine", "mg", "ug/mL", 1.0, "burm1987_lidocaine",
             {"hydrochloride": 234.34 / 270.80}, "local anaesthetic"),
        Drug("bupivacaine", "mg", "ug/mL", 1.0, "burm1987_bupivacaine",
             {"hydrochloride": 288.43 / 324.89}, "local anaesthetic"),
        Drug("ropivacaine", "mg", "ug/mL", 1.0, "naropin_label",
             {"hydrochloride": 274.41 / 310.87}, "local anaesthetic"),
        Drug("ceftriaxone", "mg", "ug/mL", 1.0, "sanzcodina2023", description="cephalosporin"),
        Drug("fentanyl", "mg", "ng/mL", 1000.0, "shafer1990", description="opioid"),
        Drug("alfentanil", "mg", "ng/mL", 1000.0, "maitre1987", description="opioid"),
        Drug("sufentanil", "mg", "ng/mL", 1000.0, "gepts1995", description="opioid"),
        Drug("fluid", "mg", "", 1.0, None, description="plain fluid, no PK"),
    )
}  # fmt: skip
