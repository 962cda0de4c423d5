"""Heparin's saturable elimination and the NonlinearSolver (pumpsim.pk.nonlinear).

Expected numbers: the ACCP half-lives (docs/references.md [Garcia2012] [V]), the
Michaelis–Menten limits worked out by hand from the model's own parameters, and
independent integrations with scipy's solve_ivp (a different method, LSODA).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, Absorption, Mammillary, Pathway, build_system
from pumpsim.pk.nonlinear import (
    MichaelisMenten,
    NonlinearPK,
    NonlinearSolver,
    NonlinearSpec,
    build,
    make_solver,
)
from pumpsim.pk.params import heparin_mm
from pumpsim.pk.registry import DRUGS, get_model
from pumpsim.pk.solver import ExactSolver

ADULT = Covariates(50, 70, 175, "male")
MIN = 60.0  # s per min


def heparin_system(c: Covariates = ADULT) -> NonlinearPK:
    return get_model("heparin").build(c)


def plasma(system: NonlinearPK, states: np.ndarray) -> np.ndarray:
    """Plasma activity [U/mL] from states (IU in V1 litres, ÷1000)."""
    return states[..., system.index("central")] / system.v1 / 1000.0


def serial_sampling_half_life(units_per_kg: float) -> float:
    """Apparent half-life [min] as measured: serial samples after an IV bolus, log-linear fit.

    A sample every 5 min from 15 min (after the rapid initial loss de Swart 1982
    describes) while activity stays above a quarter of the first sample (about two
    half-lives); the half-life is ln 2 over minus the least-squares slope of ln C on t.
    """
    system = heparin_system()
    solver = NonlinearSolver(system)
    solver.add(0.0, units_per_kg * ADULT.weight * system.inputs["iv"])
    t_min = np.arange(15.0, 24 * 60.0, 5.0)
    c = plasma(system, solver.sample(t_min * MIN))
    keep = c >= c[0] / 4.0
    slope = np.polyfit(t_min[keep], np.log(c[keep]), 1)[0]
    return float(np.log(2.0) / -slope)


def test_half_life_rises_with_dose() -> None:
    """ACCP (Garcia 2012): t½ ≈ 30, 60, 150 min after 25, 100, 400 U/kg, as measured from
    serial samples.

    The guideline gives these as round approximations (to the nearest 10–50 min),
    so each must fall within ±10 %; the shape — a monotone rise, five-fold from
    25 to 400 U/kg — is the point.
    """
    doses, published = (25.0, 100.0, 400.0), (30.0, 60.0, 150.0)
    t_half = [serial_sampling_half_life(d) for d in doses]
    assert t_half[0] < t_half[1] < t_half[2]
    for got, want in zip(t_half, published, strict=True):
        assert got == pytest.approx(want, rel=0.10)
    assert t_half[2] / t_half[0] > 4.0


def test_half_life_after_70_u_per_kg_inside_hirsh_1976() -> None:
    """Not fitted: Hirsh 1976 measured 63 ± 15 min (mean ± SD, 20 patients, plasma heparin
    activity) after a 70 U/kg bolus (docs/references.md [Hirsh1976]); the model's
    serially sampled half-life must lie within one SD of that mean."""
    assert 63.0 - 15.0 <= serial_sampling_half_life(70.0) <= 63.0 + 15.0


def test_low_and_high_concentration_limits() -> None:
    """By hand: as C → 0 the elimination rate constant tends to k_lin + Vmax/Km
    = 0.00147 + 10.4/328 = 0.03318 /min (t½ 20.9 min); at C ≫ Km the saturable
    part is zero order: dC/dt → −k_lin·C − Vmax."""
    system = heparin_system()
    solver = NonlinearSolver(system)
    solver.add(0.0, 1e-3 * system.inputs["iv"])  # 1 mU: C ≈ 2e-4 IU/L ≪ Km = 328 IU/L
    x = solver.sample(np.array([0.0, 60.0]))
    c = plasma(system, x)
    k = np.log(c[0] / c[1]) / 1.0  # per min over the first minute
    assert k == pytest.approx(0.00147 + 10.4 / 328.0, rel=1e-6)

    big = NonlinearSolver(system)
    amount = 1e6 * system.v1  # C0 = 1e6 IU/L ≫ Km
    big.add(0.0, amount * system.inputs["iv"])
    rate = system.rhs(big.state(), np.zeros(system.n))[system.index("central")] * MIN
    expected = -(0.00147 * 1e6 + 10.4 * 1e6 / (328.0 + 1e6)) * float(system.v1)
    assert rate == pytest.approx(expected, rel=1e-12)


def test_matches_an_independent_integration() -> None:
    """Raschke 1993 regimen (80 U/kg bolus, 18 U/kg/h) with a pause and a re-bolus,
    against LSODA on the scalar ODE dA/dt = R − V·(k_lin·C + Vmax·C/(Km + C))."""
    system = heparin_system()
    w, v = ADULT.weight, float(system.v1)
    solver = make_solver(system)
    assert isinstance(solver, NonlinearSolver)
    plan = [(0.0, 18.0), (240.0, 0.0), (300.0, 18.0)]  # (min, U/kg/h)
    solver.add(0.0, 80.0 * w * system.inputs["iv"])
    for t, rate in plan:
        solver.set_input(t * MIN, rate * w / 3600.0 * system.inputs["iv"])
    solver.add(300.0 * MIN, 40.0 * w * system.inputs["iv"])
    grid = np.arange(0.0, 720.0 * MIN + 1, 30.0)
    got = solver.sample(grid)[:, system.index("central")]

    def rhs(_t, a, r):
        c = a[0] / v
        return [r - v * (0.00147 * c + 10.4 * c / (328.0 + c))]

    a0 = np.array([80.0 * w])
    for (t0, r), t1 in zip(plan, [240.0, 300.0, 720.1], strict=True):
        if t0 == 300.0:
            a0 = a0 + 40.0 * w
        # grid points in [t0, t1): an event time belongs to the piece it starts
        mask = (grid / MIN >= t0) & (grid / MIN < t1)
        sol = solve_ivp(
            rhs, (t0, t1), a0, "LSODA", grid[mask] / MIN, dense_output=True,
            args=(r * w / 60.0,), rtol=1e-11, atol=1e-9,
        )  # fmt: skip
        np.testing.assert_allclose(got[mask], sol.y[0], rtol=1e-7)
        a0 = sol.sol(t1)


def test_mass_balance_and_no_negative_amounts() -> None:
    """Every IU given is in the body or in 'eliminated', at every sample, to 1e-9."""
    system = heparin_system()
    solver = NonlinearSolver(system)
    solver.add(0.0, 5600.0 * system.inputs["iv"])
    solver.set_input(0.0, 21.0 / 60.0 * system.inputs["iv"])  # 18 U/kg/h at 70 kg
    solver.set_input(6 * 3600.0, 0.0 * system.inputs["iv"])
    grid = np.arange(0.0, 12 * 3600.0 + 1, 60.0)
    x = solver.sample(grid)
    given = 5600.0 + 21.0 / 60.0 * np.minimum(grid, 6 * 3600.0)
    total = x[:, system.amount_states].sum(axis=1)
    np.testing.assert_allclose(total, given, rtol=1e-9)
    assert np.all(x[:, system.amount_states] >= -1e-9)


def test_linear_limit_equals_the_exact_solver() -> None:
    """With Vmax = 0 the model is linear: same answer as ExactSolver to 1e-8, also
    through a 2-compartment disposition and an SC depot chain."""
    disp = Mammillary(v1=10.0, cl1=0.5, v2=20.0, cl2=0.8)
    routes = {"iv": IV, "sc": Absorption((Pathway(0.8, 0.05, chain=2),))}
    spec = NonlinearSpec("linear_test", "test", lambda c: MichaelisMenten(disp, 0.0, 1.0), (),
                         routes=routes)  # fmt: skip
    nl, lin = spec.build(ADULT), build_system(disp, routes)
    solvers = (make_solver(nl), ExactSolver(lin.A))
    for s in solvers:
        s.add(0.0, 100.0 * lin.inputs["sc"])
        s.set_input(600.0, 0.2 * lin.inputs["iv"])
        s.add(1800.0, 30.0 * lin.inputs["iv"])
        s.set_input(3000.0, 0.0 * lin.inputs["iv"])
    grid = np.arange(0.0, 4 * 3600.0, 30.0)
    a, b = (s.sample(grid) for s in solvers)
    scale = np.max(np.abs(b), axis=0)
    assert np.max(np.abs(a - b) / np.where(scale > 0, scale, 1.0)) < 1e-8


def test_sampling_is_right_continuous_and_does_not_move_the_solver() -> None:
    system = heparin_system()
    solver = NonlinearSolver(system)
    solver.advance(600.0)
    solver.add(600.0, 1000.0 * system.inputs["iv"])
    x = solver.sample(np.array([0.0, 600.0, 1200.0]))
    assert x[0, system.index("central")] == 0.0
    assert x[1, system.index("central")] == pytest.approx(1000.0)  # just after the bolus
    assert 0.0 < x[2, system.index("central")] < 1000.0  # continued past the last event
    assert solver.t == 600.0
    with pytest.raises(ValueError, match="step back"):
        solver.advance(300.0)


def test_batch_of_patients() -> None:
    """One patient per row: a batch gives each row's own single-patient answer."""
    spec = get_model("heparin")
    factors = {"vmax": np.array([0.5, 1.0, 2.0])}
    batch = build(spec, ADULT, factors)
    assert batch.state_shape == (3, batch.n)
    solver = make_solver(batch)
    solver.add(0.0, 7000.0 * batch.inputs["iv"])
    grid = np.arange(0.0, 7200.0, 60.0)
    xb = solver.sample(grid)
    for i, f in enumerate(factors["vmax"]):
        one = build(spec, ADULT, {"vmax": f})
        s1 = make_solver(one)
        s1.add(0.0, 7000.0 * one.inputs["iv"])
        np.testing.assert_allclose(xb[i], s1.sample(grid), rtol=1e-8, atol=1e-9)


def test_registered_and_guarded() -> None:
    spec = get_model("heparin")
    assert isinstance(spec, NonlinearSpec) and spec.key == "heparin_mm"
    assert DRUGS["heparin"].amount_unit == "IU" and DRUGS["heparin"].plasma_factor == 1e-3
    assert {c.key for c in spec.citations} == {"deswart1982", "garcia2012", "hirsh1976",
                                               "raschke1993"}
    p = spec.parameters(ADULT)
    assert p.v1 == pytest.approx(0.07 * 70) and p.disposition.cl1 == pytest.approx(0.00147 * 4.9)
    assert (p.vmax, p.km) == (10.4, 328.0)  # 0.0104 U/mL/min, 0.328 U/mL in IU/L
    system = build(spec, ADULT)
    with pytest.raises(TypeError, match="make_solver"):
        ExactSolver(system.A)
    assert isinstance(make_solver(get_model("propofol"), ADULT), ExactSolver)
    assert heparin_mm.check(Covariates(10, 30, 140, "female"))[1]  # child: warned


@pytest.mark.xfail(strict=True, reason=(
    "heparin_mm reproduces the bolus half-lives, but Raschke's 18 U/kg/h levels off at "
    "0.20 U/mL, below the ACCP anti-Xa range 0.3-0.7 U/mL: the fit's steady-state "
    "clearance is about twice what clinical infusions imply"))  # fmt: skip
def test_raschke_regimen_reaches_the_anti_xa_range() -> None:
    """Raschke 1993: 80 U/kg + 18 U/kg/h; Garcia 2012: therapeutic anti-Xa 0.3-0.7 U/mL."""
    system = heparin_system()
    solver = NonlinearSolver(system)
    solver.add(0.0, 80.0 * 70 * system.inputs["iv"])
    solver.set_input(0.0, 18.0 * 70 / 3600.0 * system.inputs["iv"])
    c24 = plasma(system, solver.state(24 * 3600.0))
    assert 0.3 <= c24 <= 0.7
