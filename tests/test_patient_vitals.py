"""Vital signs: baselines, emergent respiratory depression, exact crossings, the monitor."""

from __future__ import annotations

import numpy as np
import pytest

from pumpsim import load_scenario, simulate
from pumpsim.engine.simulation import Simulation
from pumpsim.patient.vitals import (
    Baseline,
    VitalsModel,
    baseline_for,
    first_crossing,
    inverse_severinghaus,
    severinghaus,
)
from pumpsim.pk.covariates import Covariates
from pumpsim.pk.nonlinear import build
from pumpsim.pk.registry import get_model
from pumpsim.pk.solver import ExactSolver
from tests.conftest import ROOT

PATIENT = {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male", "vitals": {}}
RR, SPO2, MAP, HR = ("patient.vitals.rr[1/min]", "patient.vitals.spo2[%]",
                     "patient.vitals.map[mmHg]", "patient.vitals.hr[1/min]")  # fmt: skip


def bolus_run(drug: str, dose: str, duration: str = "15 min", interval: str = "5 s", **patient):
    sc = {"duration": duration, "output": {"interval": interval}, "patient": {**PATIENT, **patient},
          "events": [{"at": "1 min", "type": "bolus", "drug": drug, "dose": dose}]}  # fmt: skip
    return simulate(sc)


# -- baselines and oxygen ----------------------------------------------------------------------


def test_adult_defaults_and_fleming_2011_medians() -> None:
    """Fleming 2011 (abstract): HR 127/min at birth, 145 at 1 month, 113 at 2 y; RR 44/min at
    birth, 26 at 2 y. Adults: HR 72, MAP 90, RR 14 (illustrative defaults)."""
    assert (baseline_for(40).hr, baseline_for(40).map, baseline_for(40).rr) == (72.0, 90.0, 14.0)
    assert baseline_for(0.0).hr == 127.0 and baseline_for(1 / 12).hr == 145.0
    assert baseline_for(2.0).hr == 113.0 and baseline_for(2.0).rr == 26.0
    assert baseline_for(0.0).rr == 44.0
    assert baseline_for(40, hr=60.0, spo2=99.0).hr == 60.0


def test_spo2_baseline_from_the_alveolar_gas_equation() -> None:
    """Air: PAO2 = 0.21·(760 − 47) − 40/0.8 = 99.73 mmHg; minus a 9 mmHg A–a difference,
    PaO2 90.73 mmHg, which Severinghaus' curve puts at 97.0 % saturation."""
    b = Baseline()
    assert b.pao2 == pytest.approx(0.21 * 713 - 50 - 9, abs=1e-12)
    assert b.spo2_value == pytest.approx(97.01, abs=0.01)
    p = np.array([20.0, 40.0, 58.0, 90.0, 150.0])
    assert np.allclose(inverse_severinghaus(severinghaus(p)), p, rtol=1e-9)
    # Severinghaus 1979's curve passes through the standard P50 ≈ 26.8 mmHg
    assert severinghaus(26.8) == pytest.approx(50.0, abs=0.5)


def test_hypoventilation_lowers_spo2_and_oxygen_delays_it() -> None:
    """With the same opioid exposure, 40 % O2 keeps SpO2 higher (alveolar gas equation)."""
    t = np.arange(0.0, 900.0, 5.0)
    ce = {"remifentanil": np.full_like(t, 3.0)}
    air = VitalsModel(baseline_for(40)).compute(t, ce)["spo2"]
    o2 = VitalsModel(baseline_for(40, fio2=0.4)).compute(t, ce)["spo2"]
    assert air[-1] < 90.0 < o2[-1]
    assert np.all(np.diff(air) <= 1e-12)  # a lag towards a lower target: monotone


# -- emergent respiratory depression -------------------------------------------------------------


@pytest.mark.parametrize("dose", ["0.1 mcg/kg", "0.2 mcg/kg"])
def test_small_remifentanil_boluses_keep_rr_above_10(dose: str) -> None:
    """Dose sweep, lower half: peak Ce 0.4–0.8 ng/mL leaves RR above 10/min."""
    res = bolus_run("remifentanil", dose)
    assert res.timeseries[RR].min() > 10.0
    assert not [e for e in res.events if e.source == "monitor"]


@pytest.mark.parametrize("dose", ["0.5 mcg/kg", "1 mcg/kg", "2 mcg/kg"])
def test_large_remifentanil_boluses_drop_rr_below_8(dose: str) -> None:
    """Dose sweep, upper half: RR falls below 8/min and the monitor alarms (rr_low)."""
    res = bolus_run("remifentanil", dose)
    assert res.timeseries[RR].min() < 8.0
    alarms = [e for e in res.events if e.source == "monitor" and e.kind == "alarm"]
    assert alarms[0].details["alarm"] == "rr_low" and alarms[0].time_s > 60.0


def test_rr_nadir_falls_monotonically_with_the_dose() -> None:
    doses = ["0.1 mcg/kg", "0.3 mcg/kg", "0.6 mcg/kg", "1.2 mcg/kg"]
    nadirs = [bolus_run("remifentanil", d).timeseries[RR].min() for d in doses]
    assert all(a > b for a, b in zip(nadirs, nadirs[1:], strict=False))


def test_respiratory_rate_moves_only_with_opioids() -> None:
    """Propofol alone (2 mg/kg) leaves RR at baseline exactly; before the opioid bolus RR is
    at baseline exactly."""
    res = bolus_run("propofol", "2 mg/kg")
    assert np.all(res.timeseries[RR] == 14.0)
    remi = bolus_run("remifentanil", "1 mcg/kg").timeseries
    assert np.all(remi.loc[:60.0, RR] == 14.0) and remi.loc[65.0:, RR].min() < 14.0


def test_propofol_lowers_map_dose_dependently() -> None:
    """Emergent propofol hypotension: the MAP nadir falls with the bolus size."""
    nadirs = [bolus_run("propofol", d).timeseries[MAP].min() for d in
              ("0.5 mg/kg", "1 mg/kg", "2 mg/kg", "3 mg/kg")]  # fmt: skip
    assert nadirs[0] < 90.0
    assert all(a > b for a, b in zip(nadirs, nadirs[1:], strict=False))


def test_morphine_gets_the_dahan_effect_site_only_with_vitals() -> None:
    """With vitals on, the morphine effect site is Dahan 2004's ventilation biophase
    (t½ke0 4.4 h: peaks 100-200 min after a bolus), replacing the PK model's own
    (Sarton 2000's analgesia ke0 0.0073 /min, t½ 95 min: peaks near 36 min); mass
    balance stays exact. Without vitals the PK model's effect site is untouched."""
    res = bolus_run("morphine", "10 mg", duration="6 h", interval="60 s")
    ce = res.timeseries["patient.morphine.effect[ng/mL]"]
    assert 100 * 60 < ce.idxmax() < 200 * 60
    assert res.timeseries[RR].min() < 14.0
    d = res.summary["drugs"]["morphine"]
    assert abs(d["mass_balance_error"]) < 1e-9 * d["given"]
    bolus = {"at": "0 s", "type": "bolus", "drug": "morphine", "dose": "10 mg"}
    quiet = {k: v for k, v in PATIENT.items() if k != "vitals"}
    sc = {"duration": "2 h", "output": {"interval": "60 s"}, "patient": quiet, "events": [bolus]}
    ts = simulate(sc).timeseries
    assert 20 * 60 < ts["patient.morphine.effect[ng/mL]"].idxmax() < 60 * 60
    assert not [c for c in ts.columns if "vitals" in c]  # vitals are opt-in


# -- exact crossings -----------------------------------------------------------------------------


def _remifentanil_solver() -> tuple[ExactSolver, np.ndarray]:
    spec = get_model("remifentanil", None)
    system = build(spec, Covariates(40.0, 70.0, 170.0, "male"))
    solver = ExactSolver(system.A)
    solver.add(0.0, 0.07 * system.inputs["iv"])  # 1 mcg/kg, 70 kg [mg]
    row = np.zeros(system.n)
    row[system.index("effect")] = 1.0
    return solver, row


def test_first_crossing_equals_the_grid_refined_crossing() -> None:
    """ExactSolver.first_crossing vs a 0.01-s grid with linear interpolation: within 1 s (in
    fact within 0.01 s); the way down is found too; the solver is not advanced."""
    solver, row = _remifentanil_solver()
    level = 2.0e-3  # effect site 2 ng/mL, in mg/L
    up = solver.first_crossing(0.0, 1800.0, row, level)
    down = solver.first_crossing(up + 1.0, 1800.0, row, level)
    fine = np.arange(0.0, 1800.0, 0.01)
    y = solver.sample(fine, row[None, :])[:, 0] - level
    k = np.flatnonzero(np.diff(np.sign(y)) != 0)
    ref = fine[k] - y[k] * 0.01 / (y[k + 1] - y[k])
    assert up == pytest.approx(ref[0], abs=0.01) and down == pytest.approx(ref[1], abs=0.01)
    assert solver.t == 0.0
    assert solver.first_crossing(0.0, 1800.0, row, 1.0) is None  # 1000 ng/mL: never
    t = np.array([12.3])
    assert solver.value_at(12.3, row) == pytest.approx(solver.sample(t, row[None, :])[0, 0],
                                                       rel=1e-12)  # fmt: skip


def test_generic_first_crossing_of_a_function() -> None:
    f = np.cos  # crosses 0.5 downwards at pi/3
    assert first_crossing(f, 0.0, 3.0, 0.5, 0.1) == pytest.approx(np.pi / 3, abs=1e-6)
    assert first_crossing(f, 0.0, 3.0, 0.5, 0.1, below=False) == 0.0  # holds at once
    assert first_crossing(f, 0.0, 1.0, -2.0, 0.1) is None


def test_monitor_alarm_time_matches_the_rr_column_to_1_s() -> None:
    """The rr_low alarm (exact, scheduled) vs the RR column on a 1-s grid refined linearly."""
    res = bolus_run("remifentanil", "1 mcg/kg", interval="1 s")
    rr = res.timeseries[RR]
    t, y = rr.index.to_numpy(), rr.to_numpy() - 8.0
    k = int(np.flatnonzero((y[:-1] >= 0) & (y[1:] < 0))[0])
    ref = t[k] - y[k] * (t[k + 1] - t[k]) / (y[k + 1] - y[k])
    (alarm,) = [e for e in res.events if e.kind == "alarm" and e.details["alarm"] == "rr_low"]
    assert alarm.time_s == pytest.approx(ref, abs=1.0)
    (cleared,) = [e for e in res.events if e.kind == "alarm_cleared"
                  and e.details["alarm"] == "rr_low"]  # fmt: skip
    assert rr.loc[np.ceil(cleared.time_s)] > 8.0 > rr.loc[np.floor(cleared.time_s)]


def test_monitor_reschedules_when_an_input_changes() -> None:
    """0.2 mcg/kg/min left running alarms; stopped after 1 min, the pending alarm is
    withdrawn (no alarm), though both runs are identical for the first minute."""

    def run(stop: bool):
        program = [{"at": "0 min", "dose_rate": "0.2 mcg/kg/min"}]
        if stop:
            program.append({"at": "1 min", "rate": "0 mL/h"})
        pump = {"id": "R", "drug": "remifentanil", "concentration": "50 mcg/mL",
                "program": program}
        return simulate({"duration": "20 min", "patient": PATIENT, "pumps": [pump]})

    assert [e.details["alarm"] for e in run(False).events if e.kind == "alarm"][0] == "rr_low"
    stopped = run(True)
    assert not [e for e in stopped.events if e.source == "monitor"]
    assert stopped.timeseries[RR].min() > 8.0


def test_monitor_api_for_an_interlock() -> None:
    """Subscribers hear alarms and clearings; value() and next_crossing() answer mid-run."""
    sc = load_scenario({"duration": "20 min", "patient": PATIENT,
                        "events": [{"at": "1 min", "type": "bolus", "drug": "remifentanil",
                                    "dose": "1 mcg/kg"}]})  # fmt: skip
    sim = Simulation(sc)
    monitor = sim.physiology.monitor
    heard: list = []
    asked: dict = {}
    monitor.subscribe(lambda alarm, state, t, d: heard.append((alarm, state, t)))

    def ask(_ev) -> None:
        asked["rr"] = monitor.value("rr")
        asked["next"] = monitor.next_crossing("rr", 8.0)
        ce_star = monitor.model.rr_threshold_concentration("remifentanil", 8.0)  # 1.71 ng/mL
        asked["ce"] = monitor.concentration_crossing("remifentanil", ce_star)

    sim.env.timeout(61.0).callbacks.append(ask)
    res = sim.run()
    alarm = next(e for e in res.events if e.kind == "alarm")
    assert heard[0] == ("rr_low", "alarm", alarm.time_s)
    assert ("rr_low", "cleared") in {(a, s) for a, s, _ in heard}
    assert asked["rr"] < 14.0 and asked["next"] == pytest.approx(alarm.time_s, abs=1e-3)
    assert asked["ce"] == pytest.approx(alarm.time_s, abs=1e-3)  # RR < 8 ⇔ Ce > Ce*


# -- reproducibility, populations, scenarios -----------------------------------------------------


def test_same_seed_identical_vitals() -> None:
    path = ROOT / "scenarios" / "opioid_respiratory_depression.yaml"
    a, b = simulate(path, seed=3), simulate(path, seed=3)
    cols = [c for c in a.timeseries.columns if "vitals" in c]
    assert len(cols) == 4 and a.timeseries[cols].equals(b.timeseries[cols])
    assert a.events == b.events


def test_population_vitals_are_vectorised() -> None:
    """20 virtual patients (Schnider variability): percentile columns and a
    (patients, times) array per vital; the PK variability reaches MAP."""
    res = bolus_run("propofol", "2 mg/kg", interval="30 s", population={"n": 20, "seed": 1})
    bp = res.population["vitals"]["map"]
    assert bp.shape == (20, len(res.timeseries))
    assert np.allclose(res.timeseries["patient.vitals.map.p50[mmHg]"],
                       np.percentile(bp, 50, axis=0))  # fmt: skip
    assert np.ptp(bp.min(axis=1)) > 0


def test_opioid_scenario_tells_its_story() -> None:
    """Tenfold rate error at 20 min: RR alarm within 3 min, then SpO2; both clear after the
    stop at 25 min. With 40 % O2 the SpO2 alarm comes later or not at all."""
    path = ROOT / "scenarios" / "opioid_respiratory_depression.yaml"
    res = simulate(path)
    alarms = {e.details["alarm"]: e.time_s for e in res.events if e.kind == "alarm"}
    assert 1200.0 < alarms["rr_low"] < 1380.0
    assert alarms["rr_low"] < alarms["spo2_low"] < 1500.0
    assert len([e for e in res.events if e.kind == "alarm_cleared"]) == 2
    oxygen = simulate(load_scenario(path, variant="oxygen"))
    o2 = {e.details["alarm"]: e.time_s for e in oxygen.events if e.kind == "alarm"}
    assert o2["rr_low"] == pytest.approx(alarms["rr_low"])
    assert o2.get("spo2_low", np.inf) > alarms["spo2_low"]
