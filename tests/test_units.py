"""Units at the boundary: every quantity string becomes a canonical float once."""

from __future__ import annotations

import math

import pytest

from pumpsim import units
from pumpsim.errors import UnitError
from pumpsim.units import Amount, format_quantity, parse, parse_amount


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("2 mL/h", "flow", 2 / 3600),  # canonical mL/s
        ("0.5 mL/min", "flow", 0.5 / 60),
        ("30 min", "time", 1800.0),
        ("2 h", "time", 7200.0),
        ("30 s", "time", 30.0),
        ("200 uL", "volume", 0.2),
        ("200 µL", "volume", 0.2),
        ("1 L", "volume", 1000.0),
        ("70 kg", "weight", 70.0),
        ("1.7 m", "height", 170.0),
        ("40 y", "age", 40.0),
        ("6 months", "age", 0.5),
        ("300 mmHg", "pressure", 300.0),
        # 1 psi = 51.7149 mmHg (NIST SP 811 conversion factors)
        ("20 psi", "pressure", 20 * 51.71492520387195),
        ("2.5 uL/mmHg", "compliance", 2.5e-3),
    ],
)
def test_parse_to_canonical(text: str, kind: str, expected: float) -> None:
    assert parse(text, kind) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("0.1 mcg/kg/min", "dose_rate", Amount(0.1e-3 / 60, "mg", True)),
        ("10 mg/kg/h", "dose_rate", Amount(10 / 3600, "mg", True)),
        ("18 U/kg/h", "dose_rate", Amount(18 / 3600, "IU", True)),
        ("5000 units", "dose", Amount(5000.0, "IU", False)),
        ("2 mg/kg", "dose", Amount(2.0, "mg", True)),
        ("100 mcg", "dose", Amount(0.1, "mg", False)),
        ("40 mcg/mL", "concentration", Amount(0.04, "mg", False)),
        ("100 IU/mL", "concentration", Amount(100.0, "IU", False)),
    ],
)
def test_parse_amount(text: str, kind: str, expected: Amount) -> None:
    got = parse_amount(text, kind)
    assert got.unit == expected.unit and got.per_kg == expected.per_kg
    assert math.isclose(got.value, expected.value, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("text", "kind", "fragment"),
    [
        ("2 mL", "flow", "is not a flow"),
        ("5", "time", "has no unit"),
        ("abc", "time", "does not start with a number"),
        ("3 furlongs/h", "flow", "is not a flow"),
        ("3 blorp/h", "flow", "unknown unit"),
        ("3 foo", "volume", "unknown unit"),
    ],
)
def test_parse_errors_say_what_is_allowed(text: str, kind: str, fragment: str) -> None:
    with pytest.raises(UnitError, match=fragment):
        parse(text, kind)


def test_amount_errors() -> None:
    with pytest.raises(UnitError, match="not a dose rate"):
        parse_amount("2 mL/h", "dose_rate")
    with pytest.raises(UnitError, match="cannot be per kg"):
        parse_amount("1 mg/kg/mL", "concentration")
    with pytest.raises(UnitError):
        parse(3.0, "time")  # a bare number has no unit


def test_international_units_never_convert_to_mass() -> None:
    assert parse_amount("5 U", "dose") == Amount(5.0, "IU")
    with pytest.raises(UnitError):
        parse("5 U", "volume")
    with pytest.raises(UnitError, match="not a dose"):
        parse_amount("5 U/mL", "dose")


@pytest.mark.parametrize("kind", ["time", "volume", "flow", "pressure", "compliance", "weight"])
def test_format_round_trips(kind: str) -> None:
    value = 0.123456789
    assert parse(format_quantity(value, kind), kind) == pytest.approx(value, rel=1e-9)


# -- the fast path (no pint) must agree with pint on every unit it reads ---------------
def _by_pint(text: str, target: str) -> float:
    """The same text read by pint itself (the fast path's independent reference)."""
    q = units._registry().Quantity(units._clean(text))
    return float(q.to(units._registry()(target)).magnitude)


_KIND_OF_BASE = {"s": "time", "mL": "volume", "mmHg": "pressure", "cm": "height"}


@pytest.mark.parametrize("name", sorted(units._SIMPLE))
def test_every_fast_unit_agrees_with_pint(name: str) -> None:
    base = units._BASE[units._SIMPLE[name][1]]
    text = f"3.7 {name}"
    if base in ("mg", "IU"):  # amounts: as a dose, a dose rate and a concentration
        target = "milligram" if base == "mg" else "IU"
        assert parse_amount(text, "dose").value == pytest.approx(
            _by_pint(text, target), rel=1e-14)  # fmt: skip
        assert parse_amount(f"3.7 {name}/min", "dose_rate").value == pytest.approx(
            _by_pint(f"3.7 {name}/min", f"{target} / second"), rel=1e-14)  # fmt: skip
        assert parse_amount(f"3.7 {name}/dL", "concentration").value == pytest.approx(
            _by_pint(f"3.7 {name}/dL", f"{target} / milliliter"), rel=1e-14)  # fmt: skip
        return
    kind = _KIND_OF_BASE[base]
    assert units._fast(text) is not None
    assert parse(text, kind) == pytest.approx(_by_pint(text, units.KINDS[kind][0]), rel=1e-14)
    if base == "s":
        assert parse(text, "age") == pytest.approx(_by_pint(text, "year"), rel=1e-14)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("20 mL/h", "flow"), ("2.5 uL/mmHg", "compliance"), ("0.5 mmHg*s/mL", "resistance"),
     ("154 lb", "weight"), ("70 kg", "weight"), ("1.7 m", "height"), ("6 mo", "age"),
     ("1 mmHg/(mL/h)", "resistance"), ("40 kPa", "pressure"), ("21 degC", "temperature")],
)  # fmt: skip
def test_parse_agrees_with_pint_fast_or_not(text: str, kind: str) -> None:
    assert parse(text, kind) == pytest.approx(_by_pint(text, units.KINDS[kind][0]), rel=1e-14)


def test_fast_path_leaves_wrong_kinds_to_pint_errors() -> None:
    with pytest.raises(UnitError, match="is not a flow"):
        parse("20 mL", "flow")
    with pytest.raises(UnitError, match="not a dose rate"):
        parse_amount("5 mg", "dose_rate")
