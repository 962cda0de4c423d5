"""Every drug and route against the published observations it stands on.

Each expected number carries its source (docs/references.md, key named at each test) and a
tolerance the source justifies: a study's SD for a between-subject spread, its
SEM for a mean, a rounding step for a rounded figure. Where the model does not
reproduce an observation the test is ``xfail(strict=True)`` with the numbers in
its reason, so the miss is stated, not hidden, and a fix would be noticed.

Conventions: amounts in mg (IU for insulin), concentration = x[central]/V1 in
amount/L (mg/L × 1000 = ng/mL), time in minutes unless stated; the patient is
40 y, 70 kg, 170 cm, male, serum creatinine 0.8 mg/dL (Cockcroft–Gault
(140 − 40)·70/(72·0.8) = 121.5 mL/min: normal renal function).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp, trapezoid
from scipy.optimize import brentq

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import Absorption, LinearPK, ModelSpec, Pathway, build_system
from pumpsim.pk.params import burm1987, goti2018
from pumpsim.pk.registry import DRUGS, get_model, models
from pumpsim.pk.solver import ExactSolver

ADULT = Covariates(40, 70, 170, "male", creatinine=0.8)
MIN = 60.0  # s per min
SULFATE = DRUGS["morphine"].salts["sulfate"]


def system_for(drug: str, key: str | None = None, c: Covariates = ADULT) -> LinearPK:
    spec = get_model(drug, key)
    return build_system(spec.parameters(c), spec.routes)


def simulate(system: LinearPK, plan: list[tuple], grid_min: np.ndarray) -> np.ndarray:
    """States on a uniform grid [min]. ``plan``: ("bolus", t_min, route, amount) or
    ("rate", t_min, route, amount per min); rates of different routes add up."""
    solver = ExactSolver(system.A)
    rates: dict[str, float] = {}
    for kind, t, route, value in sorted(plan, key=lambda e: e[1]):
        if kind == "bolus":
            solver.add(t * MIN, value * system.inputs[route])
        else:
            rates[route] = value / MIN
            solver.set_input(t * MIN, sum(r * system.inputs[k] for k, r in rates.items()))
    return solver.sample(np.asarray(grid_min, dtype=float) * MIN)


def conc(system: LinearPK, x: np.ndarray) -> np.ndarray:
    return x[..., system.index("central")] / system.v1


def peak(system: LinearPK, route: str, dose: float, minutes: float = 240.0, step: float = 0.01):
    """(Cmax [amount/L], tmax [min]) after a bolus by ``route``."""
    grid = np.arange(0.0, minutes + step / 2, step)
    c = conc(system, simulate(system, [("bolus", 0.0, route, dose)], grid))
    i = int(np.argmax(c))
    return float(c[i]), float(grid[i])


# -- salts ----------------------------------------------------------------------------


def test_drug_table_units_and_salts() -> None:
    """Morphine: 1 mg sulfate (pentahydrate) = 0.752 mg base (docs/references.md [MorphineSalt]);
    the
    hydrochloride trihydrate 285.34/375.85 = 0.759 (≈ 0.76). Rounding step 0.0005."""
    assert SULFATE == pytest.approx(0.752, abs=5e-4)
    assert DRUGS["morphine"].salts["hydrochloride"] == pytest.approx(0.759, abs=5e-4)
    for drug, factor in (("lidocaine", 0.865), ("bupivacaine", 0.888), ("ropivacaine", 0.883)):
        assert DRUGS[drug].salts["hydrochloride"] == pytest.approx(factor, abs=5e-4)
    units = {d: (DRUGS[d].amount_unit, DRUGS[d].plasma_unit, DRUGS[d].plasma_factor,
                 DRUGS[d].default_model) for d in DRUGS}  # fmt: skip
    assert units["morphine"] == ("mg", "ng/mL", 1000.0, "sarton2000")
    assert units["insulin"] == ("IU", "mU/L", 1000.0, "hovorka2004")  # mU/L = uU/mL
    assert units["heparin"] == ("IU", "U/mL", 1e-3, "heparin_mm")
    assert units["vancomycin"] == ("mg", "mg/L", 1.0, "goti2018")
    assert units["ropivacaine"] == ("mg", "ug/mL", 1.0, "naropin_label")
    assert units["ceftriaxone"] == ("mg", "ug/mL", 1.0, "sanzcodina2023")
    for drug in DRUGS:
        if DRUGS[drug].default_model is not None:
            assert get_model(drug).drug == drug


# -- morphine -------------------------------------------------------------------------


#: morphine base molar mass [g/mol] (C17H19NO3), to turn ng/mL into the nmol/L of the paper
MORPHINE_MW = 285.34


def test_morphine_iv_and_sc_stuart_harris() -> None:
    """Stuart-Harris 2000 Table 1 (6 volunteers, standardised to 10 mg sulfate per 70 kg,
    mean ± SD; tolerance 1 SD). IV, the sarton2000 disposition with nothing fitted: first
    sample (5 min) 283 ± 74 nmol/L, AUC(0,∞) 290 ± 67 nmol·h/L, t½ 2.2 ± 1.0 h. SC bolus:
    the chain's one rate was fitted to Cmax 262 nmol/L (74.8 ng/mL), so that is checked
    as a fit (1 %); the prediction is the peak time, 0.25 h (0.17–0.25) on the 5-min grid.
    F = 1 for SC is a choice the study's 113.6 ± 16.9 % allows."""
    system = system_for("morphine")
    dose = 10.0 * SULFATE
    grid = np.arange(0.0, 24 * 60 + 0.5, 5.0)  # the study's 5-min grid, run out to 24 h
    nmol = 1e6 / MORPHINE_MW  # mg/L -> nmol/L
    iv = conc(system, simulate(system, [("bolus", 0.0, "iv", dose)], grid)) * nmol
    sc = conc(system, simulate(system, [("bolus", 0.0, "sc", dose)], grid)) * nmol
    assert iv[1] == pytest.approx(283, abs=74)  # first sample, 5 min
    # AUC(0,∞): the exact integral state at 48 h (> 20 half-lives), in nmol·h/L
    far = {r: simulate(system, [("bolus", 0.0, r, dose)], np.array([0.0, 2880.0]))[-1]
           for r in ("iv", "sc")}  # fmt: skip
    auc_iv, auc_sc = (far[r][system.index("auc")] * nmol / 3600 for r in ("iv", "sc"))  # [s]
    assert auc_iv == pytest.approx(290, abs=67)
    late = (grid >= 120) & (grid <= 480)  # terminal fit over 2-8 h
    t_half = np.log(2) / -np.polyfit(grid[late], np.log(iv[late]), 1)[0] / 60
    assert t_half == pytest.approx(2.2, abs=1.0)
    cmax, _ = peak(system, "sc", dose)
    assert cmax * 1000 == pytest.approx(74.8, rel=0.01)  # the fit
    assert 10.0 <= grid[np.argmax(sc)] <= 15.0  # the prediction: 0.17-0.25 h
    assert auc_sc / auc_iv == pytest.approx(1.0, abs=1e-6)


def test_morphine_sc_infusion_stuart_harris() -> None:
    """Stuart-Harris 2000, 10 mg sulfate SC over 4 h: Cmax 46 ± 8 nmol/L at 4.0 h (3.5-5.0),
    bioavailability 83 ± 35 %. The model's F is 1 (the SC bolus arm's 114 ± 17 %), so its
    plateau sits 1.8 SD above the mean: within 2 SD, and within 1 SD scaled by their F."""
    system = system_for("morphine")
    grid = np.arange(0.0, 8 * 60 + 0.5, 5.0)
    plan = [("rate", 0.0, "sc", 10.0 * SULFATE / 240.0), ("rate", 240.0, "sc", 0.0)]
    c = conc(system, simulate(system, plan, grid)) * 1e6 / MORPHINE_MW
    assert c.max() == pytest.approx(46, abs=2 * 8)
    assert 0.83 * c.max() == pytest.approx(46, abs=8)
    assert 3.5 * 60 <= grid[np.argmax(c)] <= 5.0 * 60


def test_lotsch_disposition_misses_the_stuart_harris_iv_sample() -> None:
    """Why sarton2000 is the default: lotsch2002 puts 154 ng/mL at Stuart-Harris' 5-min
    sample (observed 283 ± 74 nmol/L = 80.8 ± 21.1 ng/mL), 3.5 SD above."""
    system = system_for("morphine", "lotsch2002")
    x = simulate(system, [("bolus", 0.0, "iv", 10.0 * SULFATE)], np.array([0.0, 5.0]))
    c5 = conc(system, x)[-1] * 1e6 / MORPHINE_MW
    assert (c5 - 283) / 74 == pytest.approx(3.5, abs=0.1)


def test_one_first_order_absorption_peaks_too_early_on_sarton() -> None:
    """Why sarton2000's SC/IM/epidural routes are two-compartment chains: a single
    first-order absorption fitted to each observed Cmax (SC 74.8, IM 56.5 ng/mL after
    7.52 mg; epidural 66 after 6 mg) peaks within 6 min, before every observed tmax
    (SC 10-15, IM up to 20, epidural 12 ± 3 min)."""
    disp = get_model("morphine", "sarton2000").parameters(ADULT)
    for target, dose in ((74.8, 10.0 * SULFATE), (56.5, 10.0 * SULFATE), (66.0, 6.0)):

        def excess(ka: float, dose: float = dose, target: float = target) -> float:
            system = build_system(disp, {"x": Absorption((Pathway(1.0, ka),))})
            return peak(system, "x", dose, 60.0, 0.05)[0] * 1000 - target

        ka = brentq(excess, 0.005, 1.0, xtol=1e-5)
        system = build_system(disp, {"x": Absorption((Pathway(1.0, ka),))})
        assert peak(system, "x", dose, 60.0, 0.05)[1] < 6.0


def test_morphine_im_peak_stanski() -> None:
    """Stanski 1978 (10 mg sulfate IM): peaks 51–62 ng/mL, reached within 20 min. The
    default's IM rate was chosen to meet both (sarton2000 note [2]): this guards the fit."""
    cmax, tmax = peak(system_for("morphine"), "im", 10.0 * SULFATE)
    assert 51.0 <= cmax * 1000 <= 62.0
    assert tmax <= 20.0


def test_published_absorption_half_lives_overpredict_peaks() -> None:
    """docs/references.md [Lotsch2002] [StuartHarris2000] [Stanski1978], derived [D]: with Lötsch
    disposition the published absorption
    half-lives (SC 0.08 h, IM 7.7 min) over-predict the observed peaks 1.7–2.5×
    (SC vs 74.8 ng/mL; IM vs the middle of 51–62). Why lotsch2002 uses fitted ka."""
    published = system_for("morphine", "lotsch2002_published_absorption")
    sc, _ = peak(published, "sc", 10.0 * SULFATE)
    im, _ = peak(published, "im", 10.0 * SULFATE)
    assert 1.7 <= sc * 1000 / 74.8 <= 2.5
    assert 1.7 <= im * 1000 / 56.5 <= 2.5


@pytest.mark.parametrize("key", ["sarton2000", "lotsch2002"])
def test_morphine_early_iv_concentration_depends_on_the_first_sample(key: str) -> None:
    """Von Hoff 2008: 5 mg sulfate IV, Cmax 289 ± 197 ng/mL (SD) at 1.4 min. Both
    dispositions lie within 1 SD there and fall steeply by 5 min: an "IV Cmax" is the
    first sample's value."""
    system = system_for("morphine", key)
    grid = np.arange(0.0, 10.01, 0.1)
    c = conc(system, simulate(system, [("bolus", 0.0, "iv", 5.0 * SULFATE)], grid)) * 1000
    assert 289 - 197 <= c[14] <= 289 + 197
    assert c[14] > 1.5 * c[50]  # 1.4 vs 5 min


@pytest.mark.parametrize("key", ["sarton2000", "lotsch2002"])
def test_epidural_morphine(key: str) -> None:
    """6 mg epidural: Cmax 66 ± 8 ng/mL at 12 ± 3 min (mean ± SEM, n = 5). The default
    is a two-compartment chain whose rate was fitted to Cmax (checked as a fit, 1 %); its
    peak time, the prediction, lies within 1 SEM. lotsch2002's first-order rate lies
    within 2 SEM of both, as meeting both there would need F > 1."""
    cmax, tmax = peak(system_for("morphine", key), "epidural", 6.0)
    if key == "sarton2000":
        assert cmax * 1000 == pytest.approx(66.0, rel=0.01)
        assert abs(tmax - 12.0) <= 3.0
    else:
        assert abs(cmax * 1000 - 66.0) <= 2 * 8.0
        assert abs(tmax - 12.0) <= 2 * 3.0
    if key == "lotsch2002":  # what an exact fit would need: ka for tmax = 12 min, then F
        disp = get_model("morphine", key).parameters(ADULT)

        def tmax_for(ka: float) -> float:
            routes = {"e": Absorption((Pathway(1.0, ka),))}
            return peak(build_system(disp, routes), "e", 6.0, 60.0, 0.01)[1] - 12.0

        ka12 = brentq(tmax_for, 0.02, 0.1, xtol=1e-5)
        routes = {"e": Absorption((Pathway(1.0, ka12),))}
        assert 66.0 / (peak(build_system(disp, routes), "e", 6.0)[0] * 1000) > 1.4


def test_intraosseous_equals_intravenous_von_hoff() -> None:
    """Von Hoff 2008, 5 mg sulfate as a 1-min push IO or IV: tmax 1.3 vs 1.4 min (SD 0.5:
    within 1 min), Cmax 235 vs 289 ng/mL (ratio 0.81, means within 1 SD: 0.7–1.0),
    AUC ratio 0.99, bioequivalent (90 % CI within 0.80–1.25)."""
    system = system_for("morphine")
    dose = 5.0 * SULFATE
    grid = np.arange(0.0, 480.0 + 0.005, 0.01)  # Von Hoff sampled for 8 h
    out = {}
    for route in ("io", "iv"):
        plan = [("rate", 0.0, route, dose), ("rate", 1.0, route, 0.0)]
        c = conc(system, simulate(system, plan, grid))
        out[route] = (c.max(), grid[np.argmax(c)], trapezoid(c, grid))
    assert abs(out["io"][1] - out["iv"][1]) <= 1.0
    assert 0.7 <= out["io"][0] / out["iv"][0] <= 1.0
    assert 0.80 <= out["io"][2] / out["iv"][2] <= 1.25
    # AUC to infinity: F = 1, so the ratio is exactly 1 (auc state after 60 days)
    far = {r: simulate(system, [("bolus", 0.0, r, dose)], np.array([0.0, 86400.0]))[-1]
           for r in ("io", "iv")}  # fmt: skip
    auc = system.index("auc")
    assert far["io"][auc] / far["iv"][auc] == pytest.approx(1.0, abs=1e-6)


def test_sarton_effect_site_by_sex() -> None:
    """Sarton 2000: ke0 0.0073 /min (men) and 0.0024 /min (women), t½ke0 95 and 289 min;
    the effect site therefore peaks later in women after the same IV bolus."""
    spec = get_model("morphine", "sarton2000")
    men = spec.parameters(Covariates(25, 70, 175, "male"))
    women = spec.parameters(Covariates(25, 70, 175, "female"))
    assert (men.ke0, women.ke0) == (0.0073, 0.0024)
    assert men.v1 == pytest.approx(0.075 * 70)
    assert set(spec.routes) == {"iv", "sc", "im", "epidural", "io"}
    grid = np.arange(0.0, 1200.0, 1.0)
    t_peak = []
    for p in (men, women):
        system = build_system(p, spec.routes)
        x = simulate(system, [("bolus", 0.0, "iv", 7.0)], grid)
        t_peak.append(grid[np.argmax(x[:, system.index("effect")])])
    assert t_peak[0] < t_peak[1]


# -- insulin --------------------------------------------------------------------------


def test_insulin_sc_time_to_peak() -> None:
    """Hovorka 2004 chain (tmax,I 55 min) plus plasma elimination: peak in 45–65 min.
    Observed rapid analogues peak at 44–47 min (Diabet Med 2018;35:306–316): the model,
    at 63 min, is about 15 min late."""
    _, tmax = peak(system_for("insulin"), "sc", 5.0, 600.0, 0.1)
    assert 45.0 <= tmax <= 65.0


def test_insulin_micro_boluses_equal_continuous_infusion() -> None:
    """Chan, Breton, Kovatchev 2008: pump pulses every < 15 min are PK-indistinguishable
    from continuous infusion. 0.1 U every 5 min vs 1.2 U/h: after the first hour the
    plasma curves differ by < 1 %, far below an insulin immunoassay's imprecision
    (several per cent), so no measurement could tell them apart. Each pulse is placed
    at the middle of the 5 min it stands for (same cumulative dose at every half
    period); 1.2 U once an hour, by contrast, differs by > 5 %."""
    system = system_for("insulin")
    grid = np.arange(0.0, 12 * 60.0 + 0.1, 0.5)
    cont = conc(system, simulate(system, [("rate", 0.0, "sc", 1.2 / 60.0)], grid))

    def pulses(period: float) -> np.ndarray:
        plan = [("bolus", (k + 0.5) * period, "sc", 1.2 * period / 60.0)
                for k in range(int(12 * 60 / period))]  # fmt: skip
        return conc(system, simulate(system, plan, grid))

    after = grid >= 60.0
    assert np.max(np.abs(pulses(5.0)[after] / cont[after] - 1)) < 0.01
    assert np.max(np.abs(pulses(60.0)[after] / cont[after] - 1)) > 0.05


# -- epidural local anaesthetics ------------------------------------------------------


@pytest.mark.parametrize(
    "drug, fast, slow",
    [("bupivacaine", (0.28, 7.0), (0.66, 362.0)), ("lidocaine", (0.38, 9.3), (0.58, 82.0))],
)
def test_epidural_absorption_is_biphasic(drug, fast, slow) -> None:
    """Burm 1987: absorbed fraction = f1(1 − e^{−k1 t}) + f2(1 − e^{−k2 t}), k = ln 2/t½.
    The amount still in the epidural space falls first at the fast rate, then at
    the slow one; the not-absorbed share 1 − f1 − f2 never enters."""
    system = system_for(drug)
    grid = np.arange(0.0, 3000.0, 1.0)
    x = simulate(system, [("bolus", 0.0, "epidural", 100.0)], grid)
    depots = [i for i, s in enumerate(system.states) if s.startswith("depot.epidural")]
    in_depot = x[:, depots].sum(axis=1)
    absorbed = 100.0 - in_depot - x[:, system.index("not_absorbed")]
    (f1, h1), (f2, h2) = fast, slow
    k1, k2 = np.log(2) / h1, np.log(2) / h2
    expected = 100.0 * (f1 * (1 - np.exp(-k1 * grid)) + f2 * (1 - np.exp(-k2 * grid)))
    np.testing.assert_allclose(absorbed, expected, rtol=1e-9, atol=1e-9)
    slope = -np.diff(np.log(in_depot)) / np.diff(grid)
    assert slope[0] > 3 * slope[-1]
    assert slope[-1] == pytest.approx(k2, rel=1e-3)  # the slow phase alone, at the end
    assert x[-1, system.index("not_absorbed")] == pytest.approx(100.0 * (1 - f1 - f2))


def test_burm_two_compartment_derivation() -> None:
    """V2 = Vss − Vc and Q from t½β (burm1987 docstring): the terminal half-lives come
    back exactly; the distribution half-lives match the published 12 and 22 min within
    10 % (published means of individual fits, rounded to the minute)."""
    for disp, t_beta, t_alpha in ((burm1987.LIDOCAINE, 100.0, 12.0),
                                  (burm1987.BUPIVACAINE, 143.0, 22.0)):  # fmt: skip
        k10, k12, k21 = disp.cl1 / disp.v1, disp.cl2 / disp.v1, disp.cl2 / disp.v2
        s, p = k10 + k12 + k21, k10 * k21
        alpha, beta = (s + np.sqrt(s * s - 4 * p)) / 2, (s - np.sqrt(s * s - 4 * p)) / 2
        assert np.log(2) / beta == pytest.approx(t_beta, rel=1e-12)
        assert np.log(2) / alpha == pytest.approx(t_alpha, rel=0.10)
    assert burm1987.LIDOCAINE.v1 + burm1987.LIDOCAINE.v2 == 99.0
    with pytest.raises(ValueError, match="no 2-compartment"):
        burm1987.two_compartment_from_terminal(33.0, 68.0, 0.52, 20.0)


@pytest.mark.parametrize(
    "mg_per_ml, plateau, end", [(1.0, 0.3, 0.4), (2.0, 0.6, 0.9), (3.0, 0.9, 1.2)]
)
def test_ropivacaine_21h_epidural_infusion(mg_per_ml, plateau, end) -> None:
    """Emanuelsson 1995 (Anesth Analg 81:1163, healthy men): 10 mL bolus, then 10 mL/h of
    ropivacaine HCl 1/2/3 mg/mL for 21 h; C(5–10 h) 0.3/0.6/0.9 mg/L, end of infusion
    0.4/0.9/1.2 mg/L. Tolerance ±25 %: the label's clearance varies ±28 % (387 ± 107
    mL/min). The rise after 10 h is the slow (4.2 h) absorption phase filling up."""
    system = system_for("ropivacaine")
    base = mg_per_ml * DRUGS["ropivacaine"].salts["hydrochloride"]
    plan = [("bolus", 0.0, "epidural", 10.0 * base), ("rate", 0.0, "epidural", 10.0 * base / 60),
            ("rate", 21 * 60.0, "epidural", 0.0)]  # fmt: skip
    grid = np.arange(0.0, 25 * 60.0 + 1, 5.0)
    c = conc(system, simulate(system, plan, grid))
    c_5_10 = c[(grid >= 300) & (grid <= 600)].mean()
    c_end = c[grid == 21 * 60.0][0]
    assert c_5_10 == pytest.approx(plateau, rel=0.25)
    assert c_end == pytest.approx(end, rel=0.25)
    assert c_end / c_5_10 > 1.15  # observed 1.33-1.5


# -- vancomycin -----------------------------------------------------------------------


def vancomycin_1g_over_60min(days: int = 1, every_h: float = 12.0) -> tuple:
    system = system_for("vancomycin")
    plan = []
    for k in range(int(days * 24 / every_h)):
        plan += [("rate", k * every_h * 60, "iv", 1000.0 / 60), ("rate", k * every_h * 60 + 60,
                 "iv", 0.0)]  # fmt: skip
    grid = np.arange(0.0, days * 24 * 60.0 + 1, 1.0)
    return system, grid, conc(system, simulate(system, plan, grid))


def test_vancomycin_decline_is_biexponential() -> None:
    """Goti 2018 is 2-compartment: after a single 1 g/60 min dose ln C is not a straight
    line; its slope tends to α early and β late (eigenvalues of the micro constants)."""
    system, grid, c = vancomycin_1g_over_60min(days=3, every_h=72.0)
    assert grid[np.argmax(c)] == 60.0  # peak at the end of the infusion
    p = get_model("vancomycin").parameters(ADULT)
    k10, k12, k21 = p.cl1 / p.v1, p.cl2 / p.v1, p.cl2 / p.v2
    s, q = k10 + k12 + k21, k10 * k21
    alpha, beta = (s + np.sqrt(s * s - 4 * q)) / 2, (s - np.sqrt(s * s - 4 * q)) / 2
    after = grid >= 60.0
    slope = -np.diff(np.log(c[after])) / np.diff(grid[after])
    t = grid[after][1:]
    early, late = slope[(t > 70) & (t < 180)], slope[t > 48 * 60]
    assert early.mean() > 3 * late.mean()
    assert late[-1] == pytest.approx(beta, rel=1e-3)
    assert alpha > 5 * beta


def test_vancomycin_steady_state_peak_and_trough() -> None:
    """1 g every 12 h over 60 min, day 5, 70 kg, CrCL 121 mL/min: peak 20–40 mg/L (the
    "sensible peak" the pumpsim issue asks for), trough 10–20 mg/L (the trough target of
    the 2009 IDSA/ASHP/SIDP consensus, Rybak et al. Am J Health Syst Pharm 2009;66:82–98)."""
    _, grid, c = vancomycin_1g_over_60min(days=5)
    day5 = grid >= 4 * 24 * 60
    assert 20.0 <= c[day5].max() <= 40.0
    assert 10.0 <= c[grid == 4 * 24 * 60][0] <= 20.0


@pytest.mark.xfail(strict=True, reason=(
    "Goti 2018 (hospitalised patients) has Vc 58.4 L per 70 kg: a first 1 g/60 min dose "
    "peaks at 15.6 mg/L, not 20-40"))  # fmt: skip
def test_vancomycin_first_dose_peak() -> None:
    _, _, c = vancomycin_1g_over_60min(days=1, every_h=24.0)
    assert 20.0 <= c.max() <= 40.0


def test_vancomycin_needs_creatinine_and_handles_dialysis() -> None:
    spec, hd = get_model("vancomycin"), get_model("vancomycin", "goti2018_hemodialysis")
    no_scr = Covariates(40, 70, 170, "male")
    errors, _ = spec.check(no_scr)
    assert errors and "goti2018" in errors[0] and "creatinine" in errors[0]
    with pytest.raises(ValueError, match="goti2018 needs the serum creatinine"):
        spec.parameters(no_scr)
    p, q = spec.parameters(ADULT), hd.parameters(ADULT)
    assert q.cl1 / p.cl1 == pytest.approx(0.7) and q.v1 / p.v1 == pytest.approx(0.5)
    crcl = (140 - 40) * 70 / (72 * 0.8)
    assert p.cl1 * 60 == pytest.approx(4.5 * (crcl / 120) ** 0.8)
    low_scr = Covariates(40, 70, 170, "male", creatinine=0.3)  # CG 324 -> capped at 150
    assert goti2018.creatinine_clearance(low_scr) == 150.0
    assert any("capped" in w for w in spec.check(low_scr)[1])
    old = Covariates(75, 70, 170, "male", creatinine=0.6)  # > 60 y: SCr raised to 1
    assert goti2018.creatinine_clearance(old) == pytest.approx((140 - 75) * 70 / 72)
    assert spec.check(Covariates(40, 70, 170, "male", creatinine=50.0))[0]


# -- ceftriaxone ----------------------------------------------------------------------

LABEL_H = np.array([0.5, 1, 2, 4, 6, 8, 12])  # label table sampling times [h]


def ceftriaxone(plan: list[tuple]) -> np.ndarray:
    system = system_for("ceftriaxone")
    grid = np.arange(0.0, 24 * 60.0 + 1, 0.5)
    return grid, conc(system, simulate(system, plan, grid))


def test_ceftriaxone_iv_matches_label_early() -> None:
    """Label, 1 g IV over 30 min: 151, 111, 88, 67 mg/L at 0.5, 1, 2, 4 h; within 10 %
    (the label's means are from other healthy subjects than Sanz-Codina's six men)."""
    grid, c = ceftriaxone([("rate", 0.0, "iv", 1000.0 / 30), ("rate", 30.0, "iv", 0.0)])
    got = np.interp(LABEL_H[:4] * 60, grid, c)
    np.testing.assert_allclose(got, [151, 111, 88, 67], rtol=0.10)


@pytest.mark.xfail(strict=True, reason=(
    "Sanz-Codina's linear total-plasma fit has t1/2beta 5.3 h; the label gives 5.8-8.7 h "
    "over 0.15-3 g (saturable albumin binding), so 1 g IV runs 20-50 % low after 8 h; "
    "sanzcodina2023_binding models the binding and passes (test_pk_ceftriaxone_binding.py)"
))  # fmt: skip
def test_ceftriaxone_terminal_half_life_in_label_range() -> None:
    p = get_model("ceftriaxone").parameters(ADULT)
    k10, k12, k21 = p.cl1 / p.v1, p.cl2 / p.v1, p.cl2 / p.v2
    s, q = k10 + k12 + k21, k10 * k21
    assert 5.8 <= np.log(2) / ((s - np.sqrt(s * s - 4 * q)) / 2) / 60 <= 8.7


def test_ceftriaxone_im_matches_label_table() -> None:
    """Label, 1 g IM: 40, 68, 76, 68, 56, 44, 29 mg/L at 0.5–12 h, completely absorbed;
    the fitted ka reproduces every mean within 10 % and peaks between 2 and 3 h."""
    grid, c = ceftriaxone([("bolus", 0.0, "im", 1000.0)])
    np.testing.assert_allclose(np.interp(LABEL_H * 60, grid, c),
                               [40, 68, 76, 68, 56, 44, 29], rtol=0.10)  # fmt: skip
    assert 120.0 <= grid[np.argmax(c)] <= 180.0


@pytest.mark.xfail(strict=True, reason=(
    "tmax 1.3-1.9 h (docs/references.md [CeftriaxoneLabel]) is not reproduced: the ka fitted "
    "to the label's 1 g IM "
    "table gives 2.4 h, which that table (peak sample at 2 h) supports"))  # fmt: skip
def test_ceftriaxone_im_tmax_references() -> None:
    grid, c = ceftriaxone([("bolus", 0.0, "im", 1000.0)])
    assert 78.0 <= grid[np.argmax(c)] <= 114.0


# -- every linear model and route -----------------------------------------------------

LINEAR = sorted({(m.key, m.drug) for m in models().values() if isinstance(m, ModelSpec)})
CASES = [(key, drug, route) for key, drug in LINEAR
         for route in get_model(drug, key).routes]  # fmt: skip


@pytest.mark.parametrize("key, drug, route", CASES, ids=[f"{k}-{r}" for k, _, r in CASES])
def test_exact_solution_mass_balance_and_bioavailability(key, drug, route) -> None:
    """Against solve_ivp (Radau, rtol 1e-10) to 1e-6 of each state's range; amounts add
    up to what was given to 1e-9; F·dose is absorbed and (1 − F)·dose is not."""
    spec = get_model(drug, key)
    system = system_for(drug, key)
    u = system.inputs[route]
    dose = 10.0
    plan = [("bolus", 0.0, route, dose), ("rate", 20.0, route, 0.5), ("rate", 80.0, route, 0.0),
            ("bolus", 130.0, route, 3.0)]  # fmt: skip
    grid = np.arange(0.0, 300.0 + 0.1, 1.0)
    exact = simulate(system, plan, grid)

    pieces = [(0.0, 20.0, 0.0, dose), (20.0, 80.0, 0.5, 0.0), (80.0, 130.0, 0.0, 0.0),
              (130.0, 300.1, 0.0, 3.0)]  # fmt: skip
    x = np.zeros(system.n)
    ref = np.empty_like(exact)
    for t0, t1, rate, bolus in pieces:
        x = x + bolus * u
        mask = (grid >= t0) & (grid < t1)
        sol = solve_ivp(lambda _t, y, r=rate: system.A @ y + u * r / MIN, (t0 * MIN, t1 * MIN),
                        x, "Radau", grid[mask] * MIN, dense_output=True, rtol=1e-10,
                        atol=1e-14)  # fmt: skip
        ref[mask] = sol.y.T
        x = sol.sol(t1 * MIN)
    scale = np.max(np.abs(exact), axis=0)
    assert np.max(np.abs(exact - ref) / np.where(scale > 0, scale, 1.0)) < 1e-6

    given = dose + 0.5 * np.clip(grid - 20.0, 0.0, 60.0) + 3.0 * (grid >= 130.0)
    np.testing.assert_allclose(exact[:, system.amount_states].sum(axis=1), given, rtol=1e-9)
    f = spec.routes[route].bioavailability
    np.testing.assert_allclose(exact[:, system.index("not_absorbed")], (1 - f) * given,
                               rtol=1e-9, atol=1e-12)  # fmt: skip
    # long after: nothing left at the site, so F·dose has been absorbed
    late = simulate(system, [("bolus", 0.0, route, dose)], np.array([0.0, 30 * 24 * 60.0]))[-1]
    depots = [i for i, s in enumerate(system.states) if s.startswith("depot.")]
    absorbed = dose - late[depots].sum() - late[system.index("not_absorbed")]
    assert absorbed == pytest.approx(f * dose, rel=1e-9)


def test_every_route_cites_its_source() -> None:
    """Each absorption route of each model carries its citation (IV needs none)."""
    for spec in models().values():
        for route, absorption in spec.routes.items():
            if absorption.pathways or absorption.f_direct != 1.0 or absorption.lag:
                assert absorption.citation is not None, (spec.key, route)


def test_covariate_warnings() -> None:
    """Patients outside the studied populations get warnings that name the model."""
    obese = Covariates(40, 130, 170, "male")  # BMI 45
    child = Covariates(8, 25, 125, "female")
    assert any("lotsch2002" in w for w in get_model("morphine", "lotsch").check(obese)[1])
    assert any("burm1987_bupivacaine" in w for w in get_model("bupivacaine").check(child)[1])
    assert any("naropin_label" in w for w in get_model("ropivacaine").check(child)[1])
    assert any("hovorka2004" in w for w in get_model("insulin").check(child)[1])
    assert any("sarton2000" in w for w in get_model("morphine", "sarton").check(child)[1])
    assert any("sanzcodina2023" in w for w in get_model("ceftriaxone").check(child)[1])
