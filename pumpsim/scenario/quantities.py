"""Pydantic field types for quantities with units.

Each type reads a string such as ``"2 mL/h"`` once, at validation, and keeps
the canonical float (see :mod:`pumpsim.units`); serialising writes the value
back as a string with its unit, so a resolved scenario reads again as the same
scenario.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from pumpsim.units import (
    Amount,
    _example,
    format_amount,
    format_quantity,
    parse,
    parse_amount,
    parse_creatinine,
)

__all__ = [
    "Time",
    "Volume",
    "Flow",
    "Pressure",
    "Compliance",
    "Resistance",
    "Weight",
    "Height",
    "Age",
    "Temperature",
    "Frequency",
    "Dose",
    "DoseRate",
    "Concentration",
    "Creatinine",
    "Percent",
    "read_percent",
    "written_schema",
]


#: JSON Schema of a quantity as written in a file: a number, then a unit (docs/scenario.schema.json)
QUANTITY_PATTERN = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*[^\s\d.+-]"


def written_schema(kind: str, example: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": QUANTITY_PATTERN,
                           "description": f"a {kind} with its unit, e.g. {example}"})  # fmt: skip


def _quantity(kind: str) -> Any:
    def read(value: Any) -> float:
        return parse(value, kind)

    return Annotated[
        float,
        BeforeValidator(read),
        PlainSerializer(lambda v: format_quantity(v, kind), return_type=str),
        written_schema(kind.replace("_", " "), _example(kind)),
    ]


def _amount(kind: str) -> Any:
    def read(value: Any) -> Amount:
        if isinstance(value, Amount):
            return value
        return parse_amount(value, kind)

    return Annotated[
        Amount,
        BeforeValidator(read),
        PlainSerializer(lambda v: format_amount(v, kind), return_type=str),
        written_schema(kind.replace("_", " "), _example(kind)),
    ]


Time = _quantity("time")
Volume = _quantity("volume")
Flow = _quantity("flow")
Pressure = _quantity("pressure")
Compliance = _quantity("compliance")
Resistance = _quantity("resistance")
Weight = _quantity("weight")
Height = _quantity("height")
Age = _quantity("age")
Temperature = _quantity("temperature")
Frequency = _quantity("frequency")
Dose = _amount("dose")
DoseRate = _amount("dose_rate")
Concentration = _amount("concentration")
Creatinine = Annotated[
    float,
    BeforeValidator(parse_creatinine),
    PlainSerializer(lambda v: f"{v:.10g} mg/dL", return_type=str),
    written_schema("creatinine", "'1.0 mg/dL' or '88 umol/L'"),
]


def read_percent(value: Any) -> Any:
    """``"98 %"``, ``"98%"`` or a number -> the number [%]; other values pass to pydantic."""
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a percentage; write e.g. '90 %'") from None
        if not math.isfinite(number):
            raise ValueError(f"{value!r}: a percentage is a finite number, e.g. '90 %'")
        return number
    return value


Percent = Annotated[float, BeforeValidator(read_percent), WithJsonSchema(
    {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[-+]?[\d.eE+-]+\s*%?\s*$"}],
     "description": "a percentage, e.g. '90 %'"})]  # fmt: skip


def read_cv(value: Any) -> Any:
    """A coefficient of variation written with its % sign (``"30 %"``) -> 30.0.

    A bare number is refused: 0.3 could mean 0.3 % or 30 %.
    """
    if isinstance(value, str) and value.strip().endswith("%"):
        return read_percent(value)
    raise ValueError(f"{value!r}: write a CV with its % sign, e.g. '30 %'")


CV = Annotated[float, BeforeValidator(read_cv), WithJsonSchema(
    {"type": "string", "pattern": r"%\s*$", "description": "a CV with its % sign, e.g. '30 %'"})]
