"""Virtual populations: published variability, vectorised, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from pumpsim import load_scenario, simulate
from pumpsim.engine.simulation import Simulation
from pumpsim.pk.registry import get_model

PATIENT = {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"}


def scenario(n: int, seed: int = 7, model: str = "eleveld2018", interval: str = "30 s") -> dict:
    return {
        "name": "population",
        "duration": "2 h",
        "output": {"interval": interval},
        "patient": dict(PATIENT, population={"n": n, "seed": seed}),
        "pumps": [{"id": "A", "drug": "propofol", "pk_model": model, "concentration": "10 mg/mL",
                   "program": [{"dose_rate": "10 mg/kg/h", "duration": "60 min"}]}],
    }  # fmt: skip


def test_sampled_log_sd_matches_published_variability() -> None:
    """Eleveld 2018 ω² (V1 0.610, V2 0.565, V3 0.597, CL 0.265, Q2 0.346, Q3 0.209,
    ke0 0.702): the SD of log-factors of 4000 patients equals ω within sampling error.
    The SD of a normal sample's SD is ω/sqrt(2(n−1)); 4 of those is the tolerance."""
    n = 4000
    sim = Simulation(load_scenario(scenario(n)))
    factors = sim.patient.factors["propofol"]
    omega = get_model("propofol", "eleveld2018").variability
    assert set(factors) == set(omega)
    for name, f in factors.items():
        sd = np.std(np.log(f), ddof=1)
        assert abs(sd - omega[name]) < 4 * omega[name] / np.sqrt(2 * (n - 1)), name
        assert abs(np.mean(np.log(f))) < 4 * omega[name] / np.sqrt(n), name


def test_median_patient_close_to_typical_patient() -> None:
    """Schnider's variability is small (CV 4-14 %): the population median curve stays
    within 3 % of the typical patient's curve wherever the typical curve exceeds 10 %
    of its peak. (The median of a nonlinear function of log-normal parameters is not
    exactly the function of the medians; 3 % is the observed bias bound plus noise.)"""
    pop = simulate(scenario(2000, model="schnider1998"))
    single = dict(scenario(1, model="schnider1998"))
    single["patient"] = PATIENT
    typical = simulate(single).timeseries["patient.propofol.plasma[ug/mL]"].to_numpy()
    median = pop.timeseries["patient.propofol.plasma.p50[ug/mL]"].to_numpy()
    mask = typical > 0.1 * typical.max()
    assert np.max(np.abs(median[mask] / typical[mask] - 1)) < 0.03


def test_population_bands_ordered_and_arrays_kept() -> None:
    res = simulate(scenario(300))
    ts = res.timeseries
    lo, mid, hi = (ts[f"patient.propofol.plasma.p{p}[ug/mL]"] for p in (5, 50, 95))
    assert (lo <= mid).all() and (mid <= hi).all()
    assert res.population["propofol"]["plasma"].shape == (300, len(ts))
    summary = res.summary["drugs"]["propofol"]
    assert summary["population"]["n"] == 300
    assert summary["mass_balance_error"] < 1e-9 * summary["given"]


def test_same_seed_same_population_other_seed_differs() -> None:
    a = simulate(scenario(50, seed=3)).population["propofol"]["plasma"]
    b = simulate(scenario(50, seed=3)).population["propofol"]["plasma"]
    c = simulate(scenario(50, seed=4)).population["propofol"]["plasma"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_vectorised_population_equals_one_patient_at_a_time() -> None:
    """Patient i of the batch equals a single run with patient i's parameters."""
    from pumpsim.pk.covariates import Covariates
    from pumpsim.pk.model import build_system
    from pumpsim.pk.solver import ExactSolver

    res = simulate(scenario(5, interval="60 s"))
    sim = Simulation(load_scenario(scenario(5, interval="60 s")))
    spec = get_model("propofol", "eleveld2018")
    typical = spec.parameters(Covariates(40, 70, 170, "male"))
    grid = res.timeseries.index.to_numpy()
    for i in range(5):
        f = {k: v[i] for k, v in sim.patient.factors["propofol"].items()}
        system = build_system(typical.scaled(f), spec.routes)
        solver = ExactSolver(system.A)
        solver.set_input(0.0, system.inputs["iv"] * 700 / 3600)
        solver.set_input(3600.0, system.inputs["iv"] * 0.0)
        c = solver.sample(grid)[:, system.index("central")] / system.v1
        np.testing.assert_allclose(res.population["propofol"]["plasma"][i], c, rtol=1e-9,
                                   atol=1e-12)  # fmt: skip


def test_transit_chain_population_falls_back_to_exact_path() -> None:
    """Hovorka's SC chain has two equal rates (a defective matrix): the modal path
    refuses it and the general exact path gives the same median as a typical patient."""
    sc = {"duration": "4 h", "output": {"interval": "5 min"},
          "patient": dict(PATIENT, population={"n": 20, "seed": 1}),
          "events": [{"at": "0 min", "type": "bolus", "drug": "insulin", "dose": "5 U",
                      "route": "sc"}]}  # fmt: skip
    res = simulate(sc)
    col = "patient.insulin.plasma.p50[mU/L]"
    assert col in res.timeseries and res.timeseries[col].max() > 0


@pytest.mark.parametrize("bad", [{"n": 0}, {"n": 10, "percentiles": [95, 5]}, {"m": 3}])
def test_population_errors(bad: dict) -> None:
    from pumpsim import ScenarioError

    sc = scenario(10)
    sc["patient"]["population"] = bad
    with pytest.raises(ScenarioError, match="patient.population"):
        load_scenario(sc)


def test_identical_patients_are_solved_once_and_equal_the_typical_patient() -> None:
    """sarton2000 publishes no variability: the n patients are one system with one history,
    solved once (a transit chain, so the general exact path) and copied; every row equals
    the single-patient run, and the run warns that the patients are identical."""
    events = [{"at": "0 min", "type": "bolus", "drug": "morphine", "dose": "5 mg", "route": "sc"},
              {"at": "2 h", "type": "bolus", "drug": "morphine", "dose": "5 mg", "route": "iv"}]
    sc = {"duration": "4 h", "output": {"interval": "1 min"},
          "patient": dict(PATIENT, population={"n": 50, "seed": 3}), "events": events}
    pop = simulate(sc)
    one = simulate({**sc, "patient": PATIENT})
    rows = pop.population["morphine"]["plasma"]
    typical = one.timeseries["patient.morphine.plasma[ng/mL]"].to_numpy()
    assert rows.shape == (50, typical.size)
    np.testing.assert_allclose(rows, np.broadcast_to(typical, rows.shape), rtol=1e-12, atol=0)
    assert any("identical" in e.details.get("message", "") for e in pop.events)


def test_minto_population_spread() -> None:
    """Minto 1997 CVs (V1 26, V2 29, V3 66, CL1 14, CL2 36, CL3 41 %) as log-normal
    ω = sqrt(ln(1 + CV²)): sampled log-SDs within 4 SE of ω (SE = ω/sqrt(2(n−1))). At
    steady state (8 h of 0.25 ug/kg/min; the slowest phase has t½ < 1 h) each patient's
    plasma is rate/CL1, so the band's p95/p5 is exp(2·1.645·ω_CL1) = 1.58, to the
    sampling error of the 5th and 95th percentiles of 3000 draws (~3 %; 5 % allowed)."""
    n = 3000
    sc = {"duration": "8 h", "output": {"interval": "10 min"},
          "patient": dict(PATIENT, population={"n": n, "seed": 11}),
          "pumps": [{"id": "A", "drug": "remifentanil", "concentration": "50 ug/mL",
                     "program": [{"dose_rate": "0.25 ug/kg/min", "duration": "8 h"}]}]}  # fmt: skip
    sim = Simulation(load_scenario(sc))
    omega = get_model("remifentanil", "minto1997").variability
    assert set(omega) == {"v1", "v2", "v3", "cl1", "cl2", "cl3"}
    for name, f in sim.patient.factors["remifentanil"].items():
        sd = np.std(np.log(f), ddof=1)
        assert abs(sd - omega[name]) < 4 * omega[name] / np.sqrt(2 * (n - 1)), name
    last = simulate(sc).timeseries.iloc[-1]
    p5, p95 = (last[f"patient.remifentanil.plasma.p{p}[ng/mL]"] for p in (5, 95))
    assert p95 / p5 == pytest.approx(np.exp(2 * 1.645 * omega["cl1"]), rel=0.05)


def test_user_variability_for_a_model_without_published_variability() -> None:
    """``population.variability`` (CV, %) gives morphine (sarton2000 publishes none) a
    spread: sampled log-SD of CL1 equals sqrt(ln(1 + 0.3²)) within 4 SE, the patients
    differ (the two-compartment SC chain takes the general exact path), and the summary
    says which variability came from the scenario."""
    n = 2000
    events = [{"at": "0 min", "type": "bolus", "drug": "morphine", "dose": "5 mg", "route": "sc"}]
    cvs = {"morphine": {"cl1": "30 %", "v1": "20 %"}}
    sc = {"duration": "4 h", "output": {"interval": "5 min"}, "events": events,
          "patient": dict(PATIENT, population={"n": n, "seed": 5, "variability": cvs})}
    sim = Simulation(load_scenario(sc))
    f = sim.patient.factors["morphine"]
    assert set(f) == {"cl1", "v1"}
    omega = np.sqrt(np.log1p(0.3**2))
    assert abs(np.std(np.log(f["cl1"]), ddof=1) - omega) < 4 * omega / np.sqrt(2 * (n - 1))
    res = simulate(sc)
    entry = res.summary["drugs"]["morphine"]["population"]
    assert entry["variability_from_scenario"] == ["cl1", "v1"]
    assert entry["variability"]["cl1"] == pytest.approx(omega)
    auc = res.population["morphine"]["plasma"].sum(axis=1)
    assert np.std(np.log(auc)) > 0.5 * omega  # AUC ∝ 1/CL1 (minus what is left at 4 h)
    assert not any("identical" in e.details.get("message", "") for e in res.events)


@pytest.mark.parametrize("variability, field", [
    ({"heparin": {"cl1": "10 %"}}, "patient.population.variability.heparin"),
    ({"morphine": {"k10": "10 %"}}, "patient.population.variability.morphine.k10"),
    ({"morphine": {"cl1": "0 %"}}, "patient.population.variability"),
    ({"morphine": {"cl1": 0.3}}, "patient.population.variability.morphine.cl1"),
])  # fmt: skip
def test_user_variability_errors(variability: dict, field: str) -> None:
    from pumpsim import ScenarioError

    events = [{"at": "0 min", "type": "bolus", "drug": "morphine", "dose": "5 mg"}]
    sc = {"duration": "1 h", "events": events,
          "patient": dict(PATIENT, population={"n": 5, "variability": variability})}
    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")) as err:
        load_scenario(sc)
    assert "\n" not in str(err.value)


def test_adding_a_cv_leaves_the_other_draws_paired() -> None:
    """Each parameter's η comes from its own fixed row of draws: with the same seed, adding
    a CV on V1 leaves every patient's CL1 factor exactly as it was ("what if" runs pair)."""
    events = [{"at": "0 min", "type": "bolus", "drug": "morphine", "dose": "5 mg"}]

    def factors(cvs: dict) -> dict:
        sc = {"duration": "1 h", "events": events,
              "patient": dict(PATIENT, population={"n": 100, "seed": 4,
                                                   "variability": {"morphine": cvs}})}  # fmt: skip
        return Simulation(load_scenario(sc)).patient.factors["morphine"]

    one = factors({"cl1": "30 %"})
    two = factors({"cl1": "30 %", "v1": "20 %"})
    np.testing.assert_array_equal(one["cl1"], two["cl1"])
    assert not np.allclose(two["v1"], 1.0)


def test_user_variability_on_the_biophase_vitals_add() -> None:
    """lotsch2002 has no effect site of its own; with vitals on, Dahan's ventilation biophase
    is added, so its ke0 may be varied; without vitals ke0 is refused, naming the field."""
    from pumpsim import ScenarioError

    events = [{"at": "0 min", "type": "bolus", "drug": "morphine", "dose": "5 mg",
               "pk_model": "lotsch2002"}]  # fmt: skip
    pop = {"n": 200, "seed": 2, "variability": {"morphine": {"ke0": "50 %"}}}
    sc = {"duration": "1 h", "events": events, "patient": dict(PATIENT, population=pop)}
    with pytest.raises(ScenarioError, match=r"variability\.morphine\.ke0: lotsch2002 has no"):
        load_scenario(sc)
    sc["patient"] = dict(PATIENT, population=pop, vitals={})
    f = Simulation(load_scenario(sc)).patient.factors["morphine"]
    assert np.std(np.log(f["ke0"])) == pytest.approx(np.sqrt(np.log1p(0.25)), rel=0.15)
