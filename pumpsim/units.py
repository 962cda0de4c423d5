"""Quantities with units, read once at the boundary.

A user writes every quantity as a string with its unit ("2 mL/h",
"0.1 mcg/kg/min", "30 min", "70 kg"); :func:`parse` turns it into a plain
float in pumpsim's canonical unit for that kind of quantity, and everything
inside works with floats. Canonical units (see DESIGN.md):

============  =====================  ==================================
kind          canonical unit         examples a user may write
============  =====================  ==================================
time          s                      "30 s", "15 min", "2 h", "1 day"
volume        mL                     "50 mL", "200 uL", "1 L"
flow          mL/s                   "2 mL/h", "0.5 mL/min"
pressure      mmHg                   "300 mmHg", "10 psi", "40 kPa"
compliance    mL/mmHg                "2.5 uL/mmHg", "15 uL/kPa"
resistance    mmHg·s/mL              "0.5 mmHg/(mL/h)"
weight        kg                     "70 kg", "154 lb"
height        cm                     "170 cm", "1.7 m"
age           year                   "40 y", "6 months"
amount        mg or IU               "5 mg", "200 mcg", "5000 U"
============  =====================  ==================================

Drug amounts are either a mass (canonical mg) or international units (IU;
"U", "IU" and "units" are the same). Doses and dose rates may be per kg of
body weight ("2 mg/kg", "0.1 mcg/kg/min"): :func:`parse_amount` reports
that separately, because pint would otherwise cancel mg/kg to a pure number.

pint is imported and its registry built on first use only, so importing
pumpsim stays fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pumpsim.errors import UnitError

__all__ = [
    "AmountUnit",
    "Amount",
    "parse",
    "parse_amount",
    "format_quantity",
    "KINDS",
    "AMOUNT_KINDS",
]

AmountUnit = Literal["mg", "IU"]

#: kind -> (canonical unit understood by pint, human label of the canonical unit)
KINDS: dict[str, tuple[str, str]] = {
    "time": ("second", "s"),
    "volume": ("milliliter", "mL"),
    "flow": ("milliliter / second", "mL/s"),
    "pressure": ("millimeter_Hg", "mmHg"),
    "compliance": ("milliliter / millimeter_Hg", "mL/mmHg"),
    "resistance": ("millimeter_Hg * second / milliliter", "mmHg*s/mL"),
    "weight": ("kilogram", "kg"),
    "height": ("centimeter", "cm"),
    "age": ("year", "y"),
    "temperature": ("degC", "degC"),
    "frequency": ("1 / second", "1/s"),
    "length": ("meter", "m"),
    "speed": ("meter / second", "m/s"),
}

#: amount-bearing kinds -> the dimension of what follows the amount
AMOUNT_KINDS: dict[str, str] = {
    "dose": "",  # amount
    "dose_rate": "/ second",  # amount per second
    "concentration": "/ milliliter",  # amount per mL
}

_TOKEN_FIXES = [
    (re.compile(r"(?<![A-Za-z_])(?:IU|iu|U|units?|Units?)(?![A-Za-z_])"), "IU"),
    (re.compile(r"(?<![A-Za-z_])(?:y|yr|yrs|years?)(?![A-Za-z_])"), "year"),
    (re.compile(r"(?<![A-Za-z_])mo(?![A-Za-z_])"), "month"),
    (re.compile(r"(?<![A-Za-z_])wk(?![A-Za-z_])"), "week"),
    (re.compile(r"(?<![A-Za-z_])cc(?![A-Za-z_])"), "mL"),
    (re.compile(r"µ|μ"), "u"),
    (re.compile(r"°C"), "degC"),
]
_PER_KG = re.compile(r"/\s*kg(?![A-Za-z_])")
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


@lru_cache(maxsize=1)
def _registry() -> Any:
    """The one pint registry pumpsim uses (built lazily, never mutated after)."""
    import pint

    ureg: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    # International units of biological activity (heparin, insulin) are their own
    # dimension: they never convert to a mass.
    ureg.define("international_unit = [drug_activity] = IU")
    return ureg


def _clean(text: str) -> str:
    for pattern, repl in _TOKEN_FIXES:
        text = pattern.sub(repl, text)
    return text.strip()


def _quantity(text: str) -> Any:
    if not isinstance(text, str):
        raise UnitError(f"expected a string with a unit, such as '30 min', got {text!r}")
    if not _NUMBER.match(text):
        raise UnitError(f"{text!r} does not start with a number")
    ureg = _registry()
    import pint

    try:
        q = ureg.Quantity(_clean(text))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(f"{text!r}: unknown unit ({exc})") from None
    except Exception as exc:  # pint raises several kinds for unparseable text
        raise UnitError(f"{text!r} is not a quantity pumpsim can read ({exc})") from None
    if not hasattr(q, "magnitude"):
        raise UnitError(f"{text!r} has no unit")
    return q


def parse(text: str | float | int, kind: str) -> float:
    """Read ``text`` as a quantity of ``kind`` and return it in the canonical unit.

    Parameters
    ----------
    text : str
        A number followed by a unit, e.g. ``"2 mL/h"``.
    kind : str
        One of :data:`KINDS`.

    Raises
    ------
    UnitError
        If the text is not a quantity, has no unit, or has another dimension.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        target, label = KINDS[kind]
        raise UnitError(f"expected a {kind} with a unit (canonical {label}), got {text!r}")
    return _parse_cached(text, kind)


@lru_cache(maxsize=4096)
def _parse_cached(text: str, kind: str) -> float:
    # a pure function of its arguments: caching only saves pint's parsing time
    target, label = KINDS[kind]
    q = _quantity(text)
    if q.dimensionless and kind != "frequency":
        raise UnitError(f"{text!r} has no unit; write a {kind} such as {_example(kind)}")
    ureg = _registry()
    import pint

    try:
        return (
            float(q.to(ureg(target)).magnitude)
            if kind != "temperature"
            else float(q.to(ureg.degC).magnitude)
        )
    except pint.errors.DimensionalityError:
        raise UnitError(
            f"{text!r} is not a {kind}; write a {kind} such as {_example(kind)}"
        ) from None


def _example(kind: str) -> str:
    return {
        "time": "'30 min'",
        "volume": "'50 mL'",
        "flow": "'2 mL/h'",
        "pressure": "'300 mmHg'",
        "compliance": "'2.5 uL/mmHg'",
        "resistance": "'0.5 mmHg/(mL/h)'",
        "weight": "'70 kg'",
        "height": "'170 cm'",
        "age": "'40 y'",
        "temperature": "'21 degC'",
        "frequency": "'1/min'",
        "length": "'5 m'",
        "speed": "'1.2 m/s'",
        "dose": "'2 mg/kg' or '100 mcg'",
        "dose_rate": "'0.1 mcg/kg/min' or '5 mg/h'",
        "concentration": "'10 mg/mL' or '100 U/mL'",
    }.get(kind, "a number and a unit")


@dataclass(frozen=True)
class Amount:
    """A drug amount (or amount rate, or concentration) in canonical units.

    ``value`` is in mg (or IU) for a dose, mg/s (or IU/s) for a dose rate and
    mg/mL (or IU/mL) for a concentration; ``per_kg`` says the user wrote it per
    kilogram of body weight, to be multiplied by the patient's weight.
    """

    value: float
    unit: AmountUnit
    per_kg: bool = False

    def for_weight(self, weight_kg: float) -> float:
        """The absolute amount for a patient of ``weight_kg`` [kg]."""
        return self.value * weight_kg if self.per_kg else self.value


def parse_amount(text: str, kind: str) -> Amount:
    """Read a dose, dose rate or concentration; see :data:`AMOUNT_KINDS`.

    ``"0.1 mcg/kg/min"`` as ``dose_rate`` gives ``Amount(1.667e-6, "mg", True)``
    (mg per kg per second).
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise UnitError(f"expected a {kind} with a unit such as {_example(kind)}, got {text!r}")
    return _parse_amount_cached(text, kind)


@lru_cache(maxsize=4096)
def _parse_amount_cached(text: str, kind: str) -> Amount:
    rest = AMOUNT_KINDS[kind]
    per_kg = bool(_PER_KG.search(text))
    body = _PER_KG.sub("", text, count=1) if per_kg else text
    if kind == "concentration" and per_kg:
        raise UnitError(f"{text!r}: a concentration cannot be per kg")
    q = _quantity(body)
    ureg = _registry()
    import pint

    for unit in ("mg", "IU"):
        try:
            value = float(q.to(ureg(f"{'milligram' if unit == 'mg' else 'IU'} {rest}")).magnitude)
        except pint.errors.DimensionalityError:
            continue
        return Amount(value, unit, per_kg)  # type: ignore[arg-type]
    raise UnitError(
        f"{text!r} is not a {kind.replace('_', ' ')}; write one such as {_example(kind)}"
    )


_DISPLAY = {
    "time": (1.0, "s"),
    "volume": (1.0, "mL"),
    "flow": (3600.0, "mL/h"),
    "pressure": (1.0, "mmHg"),
    "compliance": (1000.0, "uL/mmHg"),
    "resistance": (1.0 / 3600.0, "mmHg/(mL/h)"),
    "weight": (1.0, "kg"),
    "height": (1.0, "cm"),
    "age": (1.0, "y"),
    "temperature": (1.0, "degC"),
    "frequency": (60.0, "1/min"),
    "length": (1.0, "m"),
    "speed": (1.0, "m/s"),
}


def format_quantity(value: float, kind: str) -> str:
    """The canonical ``value`` of ``kind`` written back as a string pumpsim reads."""
    factor, label = _DISPLAY[kind]
    return f"{value * factor:.10g} {label}"


def format_amount(amount: Amount, kind: str) -> str:
    """An :class:`Amount` written back as a string :func:`parse_amount` reads."""
    per = "/kg" if amount.per_kg else ""
    if kind == "dose":
        return f"{amount.value:.10g} {amount.unit}{per}"
    if kind == "dose_rate":
        return f"{amount.value * 3600:.10g} {amount.unit}{per}/h"
    return f"{amount.value:.10g} {amount.unit}/mL"


#: molar mass of creatinine [g/mol] (C4H7N3O; IUPAC atomic weights): 1 mg/dL = 88.4 umol/L
CREATININE_MOLAR_MASS = 113.12


def parse_creatinine(text: str) -> float:
    """Serum creatinine [mg/dL] from a mass ("1.1 mg/dL") or molar ("97 umol/L") concentration."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise UnitError(f"expected a creatinine such as '1.0 mg/dL' or '88 umol/L', got {text!r}")
    q = _quantity(text)
    ureg = _registry()
    import pint

    try:
        return float(q.to(ureg("mg/dL")).magnitude)
    except pint.errors.DimensionalityError:
        pass
    try:
        return float(q.to(ureg("umol/L")).magnitude) * CREATININE_MOLAR_MASS / 1e4
    except pint.errors.DimensionalityError:
        raise UnitError(
            f"{text!r} is not a concentration; write e.g. '1.0 mg/dL' or '88 umol/L'"
        ) from None
