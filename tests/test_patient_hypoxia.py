"""Physiology stays physiological: the oxyhaemoglobin curve, hypoxic tachycardia, bounds.

Expected values: Severinghaus 1979's standard human curve (P50 26.8 mmHg; 75 % at
40 mmHg, about 90 % at 60 mmHg, 97.5 % at 100 mmHg — the textbook points his equation
was fitted to within about 0.5 %, docs/references.md [Severinghaus1979]); the heart-rate
slope 0.98 beats/min per 1 % fall in SaO2 (docs/references.md [SlutskyRebuck1978]);
the age-predicted maximum heart rate 208 − 0.7·age (docs/references.md [Tanaka2001]).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pumpsim import simulate
from pumpsim.patient.reactions import ANAPHYLAXIS, Reaction, ReactionEffect
from pumpsim.patient.vitals import (
    HYPOXIC_HR_LOWEST_SPO2,
    HYPOXIC_HR_SLOPE,
    VitalsModel,
    baseline_for,
    hypoxic_tachycardia,
    max_heart_rate,
    severinghaus,
)
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("po2", "so2", "tol"),
    [(26.8, 50.0, 0.5), (40.0, 75.0, 0.5), (60.0, 90.0, 1.0), (100.0, 97.5, 0.5)],
)
def test_severinghaus_standard_curve_points(po2: float, so2: float, tol: float) -> None:
    """Standard human curve (pH 7.40, 37 °C): the points Severinghaus fitted (±0.5 %; the
    60 mmHg point is quoted as 89–91 % across tables, so ±1 %)."""
    assert float(severinghaus(po2)) == pytest.approx(so2, abs=tol)


def test_severinghaus_is_monotone_and_bounded() -> None:
    p = np.linspace(-10.0, 700.0, 20001)
    s = severinghaus(p)
    assert np.all((s >= 0.0) & (s < 100.0))
    assert np.all(np.diff(s[p > 0]) > 0)  # strictly increasing where PO2 > 0
    assert float(severinghaus(0.0)) == 0.0


def test_hypoxic_tachycardia_slope_and_hold() -> None:
    """0.98 beats/min per % below baseline, zero above it, held below 75 %."""
    assert HYPOXIC_HR_SLOPE == 0.98
    base = 97.0
    assert float(hypoxic_tachycardia(base, base)) == 0.0
    assert float(hypoxic_tachycardia(99.0, base)) == 0.0
    assert float(hypoxic_tachycardia(87.0, base)) == pytest.approx(9.8, abs=1e-12)
    held = 0.98 * (base - HYPOXIC_HR_LOWEST_SPO2)
    assert float(hypoxic_tachycardia(40.0, base)) == pytest.approx(held, abs=1e-12)
    assert float(hypoxic_tachycardia(0.0, base)) == pytest.approx(held, abs=1e-12)


def test_max_heart_rate_tanaka() -> None:
    """Tanaka 2001: 208 − 0.7·age, e.g. 180/min at 40 y and 166/min at 60 y."""
    assert max_heart_rate(40.0) == pytest.approx(180.0)
    assert max_heart_rate(60.0) == pytest.approx(166.0)


def test_hypoventilation_raises_heart_rate_by_the_published_slope() -> None:
    """A morphine effect-site concentration that depresses ventilation: the heart rate with
    hypoxaemia minus the heart rate without it equals the closed form 0.98·(S0 − S)."""
    t = np.arange(0.0, 1800.0, 10.0)
    ce = {"morphine": np.full_like(t, 60.0)}
    model = VitalsModel(baseline_for(40), age=40.0)
    out = model.compute(t, ce)
    no_hypoxia = model.hr(ce, t)
    s0 = model.baseline.spo2_value
    expected = HYPOXIC_HR_SLOPE * (s0 - np.maximum(out["spo2"], HYPOXIC_HR_LOWEST_SPO2))
    assert out["spo2"][-1] < 95.0  # the dose does desaturate
    assert np.allclose(out["hr"] - no_hypoxia, expected, atol=1e-9)


def test_heart_rate_never_exceeds_the_age_maximum() -> None:
    """Severe anaphylaxis on top of a large hypoxic drive stays under 208 − 0.7·age."""
    t = np.arange(0.0, 1200.0, 10.0)
    age = 70.0
    big = Reaction("anaphylaxis", 0.0, ReactionEffect(hr=200.0, pao2=80.0),
                   30.0, None, 60.0, "severe", {})  # fmt: skip
    model = VitalsModel(baseline_for(age), age=age, reactions=[big])
    out = model.compute(t, {"remifentanil": np.full_like(t, 5.0)})
    assert out["hr"].max() == pytest.approx(max_heart_rate(age))


@settings(max_examples=40, deadline=None)
@given(
    remi=st.floats(0.0, 100.0), morphine=st.floats(0.0, 500.0), propofol=st.floats(0.0, 20.0),
    severity=st.sampled_from(["none", "mild", "moderate", "severe"]),
    age=st.floats(0.0, 90.0), fio2=st.floats(0.21, 1.0),
)
def test_every_vital_stays_inside_its_physiological_range(remi, morphine, propofol, severity,
                                                         age, fio2) -> None:  # fmt: skip
    t = np.arange(0.0, 1200.0, 20.0)
    reactions = [] if severity == "none" else [
        Reaction("anaphylaxis", 60.0, ANAPHYLAXIS[severity], 120.0, None, 600.0, severity, {})
    ]  # fmt: skip
    model = VitalsModel(baseline_for(age, fio2=fio2), age=age, reactions=reactions)
    ce = {"remifentanil": np.full_like(t, remi), "morphine": np.full_like(t, morphine),
          "propofol": np.full_like(t, propofol)}  # fmt: skip
    out = model.compute(t, ce, ce)
    assert np.all(np.isfinite(np.stack([out[k] for k in ("hr", "map", "rr", "spo2", "pao2")])))
    assert np.all((out["spo2"] >= 0.0) & (out["spo2"] <= 100.0))
    assert np.all(out["pao2"] >= 0.0)
    assert np.all((out["hr"] >= 0.0) & (out["hr"] <= max_heart_rate(age) + 1e-9))
    assert np.all((out["map"] >= 0.0) & (out["map"] <= model.baseline.map + 1e-9))
    assert np.all(out["rr"] >= 0.0)
    # the saturation is the curve of the PaO2 state, point by point
    assert np.allclose(out["spo2"], severinghaus(out["pao2"]), atol=1e-12)


def test_profound_hypoxaemia_is_said_not_modelled() -> None:
    """The tenfold remifentanil error desaturates below 75 %: the run says that HR and MAP
    there are not predictions, and the heart rate rose with the desaturation."""
    res = simulate(ROOT / "scenarios" / "opioid_respiratory_depression.yaml")
    spo2 = res.timeseries["patient.vitals.spo2[%]"]
    assert spo2.min() < HYPOXIC_HR_LOWEST_SPO2
    assert any("not modelled" in w and "SpO2 falls below 75 %" in w for w in res.warnings)
    calm = simulate({"duration": "10 min", "output": {"interval": "30 s"},
                     "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm",
                                 "sex": "male", "vitals": {}}})  # fmt: skip
    assert not any("not modelled" in w for w in calm.warnings)
