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


DRUGS: dict[str, Drug] = {
    d.name: d
    for d in (
        Drug("propofol", "mg", "ug/mL", 1.0, "schnider1998", description="hypnotic"),
        Drug("remifentanil", "mg", "ng/mL", 1000.0, "minto1997", description="opioid"),
        Drug("fluid", "mg", "", 1.0, None, description="plain fluid, no PK"),
    )
}
