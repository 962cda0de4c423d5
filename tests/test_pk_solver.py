"""The exact piecewise solver against closed forms and an independent ODE solver."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, Mammillary, build_system
from pumpsim.pk.registry import get_model
from pumpsim.pk.solver import ExactSolver, powers_apply


def test_one_compartment_infusion_equals_closed_form() -> None:
    """C(t) = R/CL·(1 − e^{−CL/V·t}) during, C(T)·e^{−CL/V·(t−T)} after (textbook)."""
    v, cl, rate = 20.0, 1.5, 2.0  # L, L/min, mg/min
    system = build_system(Mammillary(v1=v, cl1=cl), {"iv": IV})
    solver = ExactSolver(system.A)
    solver.set_input(0.0, system.inputs["iv"] * rate / 60.0)
    solver.set_input(3600.0, system.inputs["iv"] * 0.0)
    grid = np.arange(0.0, 7201.0, 7.0)
    conc = solver.sample(grid)[:, system.index("central")] / v
    k = cl / v / 60.0
    during = rate / cl * (1 - np.exp(-k * grid))
    c_end = rate / cl * (1 - np.exp(-k * 3600.0))
    expected = np.where(grid < 3600.0, during, c_end * np.exp(-k * (grid - 3600.0)))
    mask = expected > 0
    assert np.max(np.abs(conc[mask] / expected[mask] - 1)) < 1e-9
    assert conc[0] == 0.0


def test_three_compartment_matches_solve_ivp() -> None:
    """Schnider, 40 y 70 kg 170 cm male; rates changing at odd times; LSODA-free check."""
    spec = get_model("propofol", "schnider1998")
    system = build_system(spec.parameters(Covariates(40, 70, 170, "male")), spec.routes)
    changes = [(0.0, 11.0), (613.0, 4.0), (2400.5, 0.0), (3000.0, 7.5)]  # (s, mg/min)
    solver = ExactSolver(system.A)
    for t, rate in changes:
        if t > 1000.0 and solver.t < 1000.0:
            solver.add(1000.0, system.inputs["iv"] * 50.0)  # a 50 mg bolus
        solver.set_input(t, system.inputs["iv"] * rate / 60.0)
    grid = np.arange(0.0, 5401.0, 3.0)
    exact = solver.sample(grid)

    def rhs(t, x, rate):
        return system.A @ x + system.inputs["iv"] * rate / 60.0

    x = np.zeros(system.n)
    pieces = []
    bounds = [0.0, 613.0, 1000.0, 2400.5, 3000.0, 5400.0]
    rates = [11.0, 4.0, 4.0, 0.0, 7.5]
    for (a, b), rate in zip(zip(bounds[:-1], bounds[1:], strict=True), rates, strict=True):
        if a == 1000.0:
            x = x + system.inputs["iv"] * 50.0
        pts = grid[(grid >= a) & (grid < b)] if b < 5400 else grid[grid >= a]
        sol = solve_ivp(rhs, (a, b), x, args=(rate,), method="DOP853", rtol=1e-12,
                        atol=1e-14, t_eval=pts, dense_output=True)  # fmt: skip
        pieces.append(sol.y.T)
        x = sol.sol(b)
    reference = np.vstack(pieces)
    c = system.index("central")
    mask = reference[:, c] > 1e-6 * reference[:, c].max()
    assert np.max(np.abs(exact[mask, c] / reference[mask, c] - 1)) < 1e-6
    e = system.index("effect")
    mask = reference[:, e] > 1e-6 * reference[:, e].max()
    assert np.max(np.abs(exact[mask, e] / reference[mask, e] - 1)) < 1e-6


def test_mass_balance_to_1e9() -> None:
    """Drug given = compartments + eliminated, at every sample (exact solution)."""
    spec = get_model("remifentanil", "minto1997")
    system = build_system(spec.parameters(Covariates(60, 80, 180, "male")), spec.routes)
    solver = ExactSolver(system.A)
    solver.set_input(0.0, system.inputs["iv"] * 0.02 / 60)
    solver.add(120.0, system.inputs["iv"] * 0.05)
    solver.set_input(1800.0, system.inputs["iv"] * 0.0)
    grid = np.arange(0.0, 3601.0, 1.0)
    states = solver.sample(grid)
    given = 0.02 / 60 * np.minimum(grid, 1800.0) + np.where(grid >= 120.0, 0.05, 0.0)
    total = states[:, system.amount_states].sum(axis=1)
    assert np.max(np.abs(total - given)) <= 1e-9 * given.max()


def test_powers_apply_equals_repeated_multiplication() -> None:
    rng = np.random.default_rng(3)
    phi = np.eye(4) + 0.01 * rng.standard_normal((4, 4))
    z0 = rng.standard_normal(4)
    out = powers_apply(phi, z0, 37)
    z = z0.copy()
    for k in range(37):
        np.testing.assert_allclose(out[k], z, rtol=1e-12, atol=1e-14)
        z = phi @ z


def test_batched_systems_match_single() -> None:
    """A leading patient axis gives the same answer as one system at a time."""
    spec = get_model("propofol", "eleveld2018")
    patients = [Covariates(a, w, 170, "male") for a, w in ((30, 60), (50, 80), (70, 100))]
    params = [spec.parameters(c) for c in patients]
    stacked = Mammillary(**{k: np.array([getattr(p, k) for p in params], dtype=float)
                            for k in ("v1", "v2", "v3", "cl1", "cl2", "cl3", "ke0")})  # fmt: skip
    batch = build_system(stacked, spec.routes)
    grid = np.arange(0, 1201, 10.0)
    solver = ExactSolver(batch.A)
    solver.set_input(0.0, batch.inputs["iv"] * 0.2)
    together = solver.sample(grid)
    for i, p in enumerate(params):
        single = build_system(p, spec.routes)
        s = ExactSolver(single.A)
        s.set_input(0.0, single.inputs["iv"] * 0.2)
        np.testing.assert_allclose(together[i], s.sample(grid), rtol=1e-10, atol=1e-12)


def test_sampling_only_the_states_that_feed_back_changes_nothing() -> None:
    """``sample(grid, outputs, dynamic)`` leaves out states that feed nothing (eliminated,
    not absorbed, AUC), and a batch of identical patients is solved once and copied. For
    three patients with an SC transit chain (equal rates: the modal path cannot take it),
    varied or identical, every row equals a separately built single-patient solver's
    full-state answer to rounding; repeated or unsorted ``dynamic`` indices change nothing."""
    spec = get_model("morphine", "sarton2000")
    disp = spec.parameters(Covariates(40, 70, 170, "male"))
    grid = np.arange(0, 4 * 3600 + 1, 60.0)

    def run(params: Mammillary, dynamic: list[int] | None = None) -> np.ndarray:
        system = build_system(params, spec.routes)
        solver = ExactSolver(system.A)
        solver.add(0.0, 5.0 * system.inputs["sc"])
        solver.set_input(3600.0, system.inputs["iv"] * 0.001)
        rows = np.zeros((2, system.n))
        rows[0, system.index("central")] = rows[1, system.index("effect")] = 1.0
        if dynamic is None:
            return solver.sample(grid) @ rows.T
        return solver.sample(grid, rows, dynamic)

    system = build_system(disp, spec.routes)
    dynamic = [i for i, name in enumerate(system.states)
               if name not in ("eliminated", "not_absorbed", "auc")]  # fmt: skip
    for cl1, v1 in (([0.7, 1.0, 1.4], [1.2, 1.0, 0.8]), ([1.0] * 3, [1.0] * 3)):
        batch = disp.scaled({"cl1": np.array(cl1), "v1": np.array(v1)})
        fast = run(batch, dynamic)
        np.testing.assert_array_equal(fast, run(batch, dynamic[::-1] + dynamic[:1]))
        for i in range(3):
            single = run(disp.scaled({"cl1": cl1[i], "v1": v1[i]}))
            np.testing.assert_allclose(fast[i], single, rtol=1e-10, atol=1e-13)


def test_no_stepping_back() -> None:
    solver = ExactSolver(np.array([[-1.0]]))
    solver.advance(10.0)
    with pytest.raises(ValueError, match="back in time"):
        solver.advance(5.0)


def _augmented(A: np.ndarray) -> np.ndarray:
    n = A.shape[-1]
    M = np.zeros(A.shape[:-2] + (2 * n, 2 * n))
    M[..., :n, :n] = A
    M[..., :n, n:] = np.eye(n)
    return M


@pytest.mark.parametrize("dt", [0.5, 60.0, 3600.0, 86400.0])
def test_batched_exponential_equals_scipy_per_patient(dt: float) -> None:
    """The batched Padé exponential (one call for all patients) against scipy.linalg.expm
    on each patient's matrix alone (an independent implementation): 200 Schnider
    patients with +-40 % on every parameter, and a SC transit chain with two equal
    rates (a defective matrix). Tolerance: 1e-11 of the largest entry, a few hundred
    rounding errors of the two algorithms (docs/references.md [Higham2005] bounds each
    near 1e-15)."""
    from scipy.linalg import expm

    from pumpsim.pk.solver import expm_batched

    rng = np.random.default_rng(7)
    disp = get_model("propofol", "schnider1998").parameters(Covariates(40, 70, 170, "male"))
    factors = {p: np.exp(rng.uniform(-0.4, 0.4, 200))
               for p in ("v1", "v2", "v3", "cl1", "cl2", "cl3")}  # fmt: skip
    mats = [_augmented(build_system(disp.scaled(factors), {"iv": IV}).A)]
    insulin = get_model("insulin")
    cov = Covariates(40, 70, 170, "male")
    sc_sys = build_system(insulin.parameters(cov).scaled({"v1": np.exp(
        rng.uniform(-0.3, 0.3, 20))}), insulin.routes)  # fmt: skip
    mats.append(_augmented(sc_sys.A))
    for M in mats:
        got = expm_batched(M * dt)
        for i in range(M.shape[0]):
            want = expm(M[i] * dt)
            assert np.max(np.abs(got[i] - want)) <= 1e-11 * np.max(np.abs(want))


def test_batched_population_solver_equals_an_ode_solver() -> None:
    """Ten patients through two infusion changes and a bolus with the batched solver
    (batched exponential, per-patient scaling) against solve_ivp on each patient."""
    rng = np.random.default_rng(3)
    disp = get_model("propofol", "schnider1998").parameters(Covariates(40, 70, 170, "male"))
    factors = {"v1": np.exp(rng.normal(0, 0.4, 10)), "cl1": np.exp(rng.normal(0, 0.4, 10))}
    system = build_system(disp.scaled(factors), {"iv": IV})
    b = system.inputs["iv"]
    solver = ExactSolver(system.A)
    solver.set_input(0.0, b * 0.2)
    solver.add(600.0, b * 50.0)
    solver.set_input(1800.0, b * 0.05)
    grid = np.arange(0.0, 3601.0, 30.0)
    got = solver.sample(grid)
    for i in range(10):
        def f(t: float, x: np.ndarray, i: int = i) -> np.ndarray:
            rate = 0.2 if t < 1800.0 else 0.05
            return system.A[i] @ x + b * rate

        x = np.zeros(system.n)
        want = []
        for t0, t1, dose in ((0.0, 600.0, 50.0), (600.0, 1800.0, 0.0), (1800.0, 3600.0, 0.0)):
            pts = grid[(grid >= t0) & (grid < t1)] if t1 < 3600.0 else grid[grid >= t0]
            sol = solve_ivp(f, (t0, t1), x, method="DOP853", rtol=1e-12, atol=1e-12,
                            t_eval=pts)  # fmt: skip
            want.append(sol.y.T)
            x = sol.y[:, -1] if pts[-1] == t1 else solve_ivp(
                f, (t0, t1), x, method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1]  # fmt: skip
            x = x + b * dose
        want = np.concatenate(want)
        scale = np.max(np.abs(want), axis=0)
        assert np.max(np.abs(got[i] - want) / np.where(scale > 0, scale, 1.0)) < 1e-7
