"""Quantities with units, read once at the boundary.

A user writes every quantity as a string with its unit ("2 mL/h",
"0.1 mcg/kg/min", "30 min", "70 kg"); :func:`parse` turns it into a plain
float in pumpsim's canonical unit for that kind of quantity, and everything
inside works with floats. Canonical units (see docs/design.md):

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

import math
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


#: a quantity is a plain number and a unit, nothing else: no arithmetic reaches pint
_NUMBER_TEXT = r"[-+]?(?:\d{1,30}(?:\.\d{0,30})?|\.\d{1,30})(?:[eE][-+]?\d{1,4})?"
_FACTOR = r"[A-Za-z_]{1,24}(?:\s*(?:\*\*|\^)\s*-?[1-4])?"
_GROUP = rf"(?:{_FACTOR}|\(\s*{_FACTOR}(?:\s*[*/]\s*{_FACTOR}){{0,3}}\s*\))"
_UNIT_TEXT = rf"(?:1\s*)?/?\s*{_GROUP}(?:(?:\s*[*/]\s*|\s+){_GROUP}){{0,5}}"
_GRAMMAR = re.compile(rf"\s*({_NUMBER_TEXT})\s*({_UNIT_TEXT})?\s*")
#: longest quantity text read (the longest pumpsim's own examples use is ~20 characters)
MAX_QUANTITY_LENGTH = 80


def _quantity(text: str) -> Any:
    """A pint Quantity from ``text``: a number and a unit, checked by a strict grammar.

    Only the unit (names, ``*``, ``/``, one level of parentheses, small integer
    powers) is handed to pint; the number is read by ``float``. Arithmetic such
    as ``9**9**9 mL/h`` never reaches an evaluator.
    """
    if not isinstance(text, str):
        raise UnitError(f"expected a string with a unit, such as '30 min', got {text!r}")
    shown = text if len(text) <= MAX_QUANTITY_LENGTH else text[:MAX_QUANTITY_LENGTH] + "..."
    if len(text) > MAX_QUANTITY_LENGTH:
        raise UnitError(f"{shown!r} is too long for a quantity: write a number and a unit")
    if not _NUMBER.match(text):
        raise UnitError(f"{text!r} does not start with a number")
    m = _GRAMMAR.fullmatch(_clean(text).replace("·", "*"))
    if m is None:
        raise UnitError(
            f"{text!r}: write one number and a unit, such as '2 mL/h' (no arithmetic)"
        )
    magnitude = float(m[1])
    if not math.isfinite(magnitude):
        raise UnitError(f"{text!r}: the number must be finite")
    unit = (m[2] or "").strip()
    if unit.startswith("/"):
        unit = "1" + unit
    ureg = _registry()
    import pint

    try:
        q = ureg.Quantity(magnitude, unit) if unit else ureg.Quantity(magnitude)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(f"{text!r}: unknown unit ({exc})") from None
    except Exception as exc:  # pint raises several kinds for unparseable text
        raise UnitError(f"{text!r} is not a quantity pumpsim can read ({exc})") from None
    if not hasattr(q, "magnitude"):
        raise UnitError(f"{text!r} has no unit")
    return q


def _finite(value: float, text: str) -> float:
    """``value`` (a quantity converted to pumpsim's unit) when finite, else a UnitError."""
    if not math.isfinite(value):
        raise UnitError(f"{text!r} is too large: pumpsim reads finite quantities only")
    return value


# -- fast path -----------------------------------------------------------------------
# The common spellings ("30 min", "2 mL/h", "10 mg/kg/h", "70 kg") are read without pint,
# so validating a scenario does not import pint and build its registry (about 1 s). Each
# unit below is a plain factor in a base of s, mL, mg, IU, mmHg and cm; anything else
# (parentheses, products, powers, offsets, other units, errors) goes to pint as before.
# tests/test_units.py checks every entry against pint.
_BASE = ("s", "mL", "mg", "IU", "mmHg", "cm")
_SIMPLE: dict[str, tuple[float, int]] = {
    name: (factor, _BASE.index(base))
    for names, factor, base in (
        (("s", "sec", "second", "seconds"), 1.0, "s"),
        (("min", "minute", "minutes"), 60.0, "s"),
        (("h", "hr", "hour", "hours"), 3600.0, "s"),
        (("day", "days"), 86400.0, "s"),
        (("week", "weeks"), 604800.0, "s"),
        (("month", "months"), 2629800.0, "s"),  # pint: a twelfth of a year
        (("year",), 31557600.0, "s"),  # pint: a Julian year, 365.25 days
        (("mL", "ml", "milliliter"), 1.0, "mL"),
        (("uL",), 1e-3, "mL"),
        (("dL",), 100.0, "mL"),
        (("L",), 1000.0, "mL"),
        (("mg",), 1.0, "mg"),
        (("ug", "mcg"), 1e-3, "mg"),
        (("ng",), 1e-6, "mg"),
        (("g",), 1000.0, "mg"),
        (("kg",), 1e6, "mg"),
        (("IU",), 1.0, "IU"),
        (("mmHg",), 1.0, "mmHg"),
        (("mm",), 0.1, "cm"),
        (("cm",), 1.0, "cm"),
        (("m",), 100.0, "cm"),
    )
    for name in names
}


def _dims(**powers: int) -> tuple[int, ...]:
    return tuple(powers.get(b, 0) for b in _BASE)


#: kind -> (dimensions, size of its canonical unit in the base) for the fast path
_FAST_KINDS: dict[str, tuple[tuple[int, ...], float]] = {
    "time": (_dims(s=1), 1.0),
    "volume": (_dims(mL=1), 1.0),
    "flow": (_dims(mL=1, s=-1), 1.0),
    "pressure": (_dims(mmHg=1), 1.0),
    "compliance": (_dims(mL=1, mmHg=-1), 1.0),
    "resistance": (_dims(mmHg=1, s=1, mL=-1), 1.0),
    "weight": (_dims(mg=1), 1e6),
    "height": (_dims(cm=1), 1.0),
    "age": (_dims(s=1), 31557600.0),
}
_FAST_AMOUNT_REST = {"dose": _dims(), "dose_rate": _dims(s=-1), "concentration": _dims(mL=-1)}
_FAST_UNIT = re.compile(r"[A-Za-z]+(?:\s*/\s*[A-Za-z]+)*")


def _fast(text: str) -> tuple[float, float, float, tuple[int, ...]] | None:
    """``(number, numerator factor, denominator factor, dimensions)`` of a ``"<number>
    <unit>[/<unit>...]"`` text made of :data:`_SIMPLE` units only, else None."""
    if len(text) > MAX_QUANTITY_LENGTH:
        return None  # the strict reader below refuses it with the reason
    m = _NUMBER.match(text)
    if m is None:
        return None
    unit = _clean(text[m.end() :])
    if not _FAST_UNIT.fullmatch(unit):
        return None
    dims = [0] * len(_BASE)
    num = den = 1.0
    for i, name in enumerate(unit.split("/")):
        entry = _SIMPLE.get(name.strip())
        if entry is None:
            return None
        factor, base = entry
        if i == 0:
            num *= factor
            dims[base] += 1
        else:
            den *= factor
            dims[base] -= 1
    number = float(m.group(0))
    if not math.isfinite(number):
        raise UnitError(f"{text!r}: the number must be finite")
    return number, num, den, tuple(dims)


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
    fast, wanted = _fast(text), _FAST_KINDS.get(kind)
    if fast is not None and wanted is not None and fast[3] == wanted[0]:
        return _finite(fast[0] * (fast[1] / wanted[1]) / fast[2], text)
    target, label = KINDS[kind]
    q = _quantity(text)
    if q.dimensionless and kind != "frequency":
        raise UnitError(f"{text!r} has no unit; write a {kind} such as {_example(kind)}")
    ureg = _registry()
    import pint

    try:
        return _finite(
            float(q.to(ureg(target)).magnitude)
            if kind != "temperature"
            else float(q.to(ureg.degC).magnitude),
            text,
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
    fast = _fast(body)
    if fast is not None:
        for unit in ("mg", "IU"):
            if fast[3] == tuple(a + b for a, b in zip(_dims(**{unit: 1}),
                                                      _FAST_AMOUNT_REST[kind], strict=True)):
                value = _finite(fast[0] * fast[1] / fast[2], text)
                return Amount(value, unit, per_kg)  # type: ignore[arg-type]
    q = _quantity(body)
    ureg = _registry()
    import pint

    for unit in ("mg", "IU"):
        try:
            value = float(q.to(ureg(f"{'milligram' if unit == 'mg' else 'IU'} {rest}")).magnitude)
        except pint.errors.DimensionalityError:
            continue
        return Amount(_finite(value, text), unit, per_kg)  # type: ignore[arg-type]
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
        return _finite(float(q.to(ureg("mg/dL")).magnitude), text)
    except pint.errors.DimensionalityError:
        pass
    try:
        value = float(q.to(ureg("umol/L")).magnitude) * CREATININE_MOLAR_MASS / 1e4
        return _finite(value, text)
    except pint.errors.DimensionalityError:
        raise UnitError(
            f"{text!r} is not a concentration; write e.g. '1.0 mg/dL' or '88 umol/L'"
        ) from None
