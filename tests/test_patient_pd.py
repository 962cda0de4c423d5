"""Pharmacodynamics: Emax algebra, published parameter values, the exact lag filter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from pumpsim.patient.pd import (
    DrugEffect,
    combined_effect,
    endpoint,
    first_order_lag,
    inverse_sigmoid_emax,
    kazama_ke0_map,
    lag_within_step,
    sigmoid_emax,
)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 1.25, 2.4, 5.0])
def test_emax_at_ec50_is_half_the_maximal_effect(gamma: float) -> None:
    """By definition of C50 in the Hill equation: I(C50) = Imax/2 for any γ."""
    assert sigmoid_emax(3.0, 3.0, gamma, 0.8) == pytest.approx(0.4, rel=1e-15)
    assert sigmoid_emax(0.0, 3.0, gamma) == 0.0
    assert sigmoid_emax(1e40, 3.0, gamma, 0.8) == pytest.approx(0.8, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 0.99), st.floats(0.1, 50.0), st.floats(0.3, 5.0))
def test_inverse_emax_round_trip(fraction: float, c50: float, gamma: float) -> None:
    """inverse_sigmoid_emax is the inverse of sigmoid_emax (property)."""
    c = inverse_sigmoid_emax(fraction, c50, gamma)
    assert sigmoid_emax(c, c50, gamma) == pytest.approx(fraction, rel=1e-9)


def test_inverse_emax_outside_the_range() -> None:
    assert inverse_sigmoid_emax(0.0, 2.0) == 0.0
    assert math.isinf(inverse_sigmoid_emax(0.3, 2.0, 1.0, 0.3))  # Imax never exceeded


def test_minto_surface_reduces_to_one_drug_and_is_loewe_additive() -> None:
    """Minto 2000 with β = 0: a single drug gives its own Hill curve; half of each drug's
    C50 (same γ, same Imax) is equipotent to one C50, so gives Imax/2 (Loewe additivity)."""
    a = DrugEffect("a", 2.0, 1.5, 1.0)
    b = DrugEffect("b", 8.0, 1.5, 1.0)
    c = np.linspace(0, 10, 11)
    assert np.allclose(combined_effect({"a": c}, {"a": a, "b": b}), a(c), rtol=1e-14)
    assert combined_effect({"a": 1.0, "b": 4.0}, {"a": a, "b": b}) == pytest.approx(0.5)
    # synergy (β > 0) strengthens the same pair; drugs without a term are ignored
    assert combined_effect({"a": 1.0, "b": 4.0, "x": 99.0}, {"a": a, "b": b}, beta=1.0) > 0.5
    assert float(combined_effect({}, {"a": a})) == 0.0


def test_resting_ventilation_reproduces_nieuwenhuijs_2003() -> None:
    """Nieuwenhuijs 2003 (abstract): resting ventilation depressed 27.7 % at 1 ng/mL
    remifentanil and 12.6 % at 1 ug/mL propofol; the resting profile is built on them."""
    vent = endpoint("ventilation", "resting")
    assert vent.effects["remifentanil"](1.0) == pytest.approx(0.277, rel=1e-12)
    assert vent.effects["propofol"](1.0) == pytest.approx(0.126, rel=1e-12)
    assert vent.effects["remifentanil"].gamma == 1.25  # Bouillon 2003


def test_drive_profile_published_values() -> None:
    """Bouillon 2003: remifentanil C50 0.92 ng/mL, Hill 1.25. Dahan 2004: morphine potency
    32 nM (x 285.34 g/mol = 9.13 ng/mL), γ 1, blood-effect-site t½ 4.4 h."""
    vent = endpoint("ventilation", "drive")
    remi, morphine = vent.effects["remifentanil"], vent.effects["morphine"]
    assert (remi.c50, remi.gamma, remi.status) == (0.92, 1.25, "published")
    assert morphine.c50 == pytest.approx(9.131, abs=1e-3)
    assert morphine.ke0 == pytest.approx(math.log(2) / 264.0, rel=1e-12)


def test_blood_pressure_terms_reproduce_nieuwenhuijs_2003() -> None:
    """Nieuwenhuijs 2003: blood pressure 9.9 % down at 1 ug/mL propofol, 3.7 % at 1 ng/mL
    remifentanil; additive when combined (β = 0)."""
    bp = endpoint("map")
    assert bp.effects["propofol"](1.0) == pytest.approx(0.099, rel=1e-12)
    assert bp.effects["remifentanil"](1.0) == pytest.approx(0.037, rel=1e-12)
    assert bp.beta == 0.0


def test_respiratory_rate_is_an_opioid_endpoint() -> None:
    """Propofol enters ventilation (tidal volume) but not the respiratory rate."""
    for profile in ("resting", "drive"):
        assert set(endpoint("respiratory_rate", profile).effects) == {"remifentanil", "morphine"}
        assert "propofol" in endpoint("ventilation", profile).effects
    with pytest.raises(ValueError, match="allowed"):
        endpoint("ventilation", "nonsense")


def test_every_term_says_where_it_comes_from() -> None:
    for name in ("ventilation", "respiratory_rate", "map", "hr"):
        for e in endpoint(name).effects.values():
            assert e.status in ("published", "derived", "illustrative")
            assert e.sources and e.note


@pytest.mark.parametrize(("age", "half"), [(25, 5.68), (45, 5.92), (65, 8.87), (80, 10.22)])
def test_kazama_blood_pressure_ke0_by_age(age: float, half: float) -> None:
    """Kazama 1999 (abstract): SBP equilibration half-times 5.68/5.92/8.87/10.22 min."""
    assert kazama_ke0_map(age) == pytest.approx(math.log(2) / half, rel=1e-12)


def test_first_order_lag_is_exact_for_a_step_and_a_ramp() -> None:
    """Closed forms: y = 1 − e^(−t/τ) for a unit step from 0; for a ramp u = t from y(0)=0,
    y = t − τ(1 − e^(−t/τ)). The filter is exact for u linear between points."""
    t = np.arange(0.0, 600.0, 7.0)
    tau = 45.0
    step = first_order_lag(np.ones_like(t), 7.0, tau, 0.0)
    assert np.allclose(step, 1 - np.exp(-t / tau), rtol=0, atol=1e-13)
    ramp = first_order_lag(t, 7.0, tau, 0.0)
    assert np.allclose(ramp, t - tau * (1 - np.exp(-t / tau)), rtol=0, atol=1e-10)
    # and within a step, the closed form continues it
    mid = lag_within_step(3.0, ramp[5], t[5], t[6], 7.0, tau)
    s = t[5] + 3.0
    assert mid == pytest.approx(s - tau * (1 - math.exp(-s / tau)), abs=1e-10)


def test_first_order_lag_matches_an_ode_solver_and_broadcasts() -> None:
    """Against solve_ivp on the piecewise-linear interpolant (to 1e-7, its accuracy); a leading
    patient axis is filtered row by row."""
    rng = np.random.default_rng(4)
    t = np.arange(0.0, 300.0, 10.0)
    u = rng.uniform(0, 100, size=(3, t.size))
    y = first_order_lag(u, 10.0, 60.0)
    for i in range(3):
        sol = solve_ivp(lambda s, x, i=i: (np.interp(s, t, u[i]) - x) / 60.0, (0, t[-1]),
                        [u[i, 0]], t_eval=t, rtol=1e-10, atol=1e-10, max_step=1.0)  # fmt: skip
        assert np.allclose(y[i], sol.y[0], rtol=1e-7, atol=0)
