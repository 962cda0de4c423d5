"""Clinicians, the PCA interlock and stochastic PCA demand (pumpsim.engine.clinician,
pumpsim.engine.interlock), and the key events of the scenarios that use them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pumpsim import load_scenario, simulate
from pumpsim.engine.clinician import CLEAR_TO_START, lognormal_delays
from pumpsim.engine.simulation import Simulation
from pumpsim.errors import ScenarioError
from tests.conftest import ROOT

PATIENT = {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"}


def run(sc: dict, seed: int | None = None) -> tuple[Simulation, object]:
    sim = Simulation(load_scenario(sc), seed=seed)
    return sim, sim.run()


def records(res, source: str, kind: str | None = None) -> list:
    return [e for e in res.events if e.source == source and (kind is None or e.kind == kind)]


def occlusion_scenario(count: int = 1, occlusions: int = 1, **clinicians) -> dict:
    """Syringe pumps at 10 mL/h, each occluded downstream at 10 min, one nurse by default."""
    ids = "ABCD"[:occlusions]
    return {
        "duration": "2 h",
        "output": {"interval": "1 min"},
        "patient": PATIENT,
        "pumps": [
            {
                "id": i,
                "kind": "syringe",
                "syringe": "50 mL",
                "purge": True,
                "drug": "fluid",
                "settings": {"occlusion_limit": "300 mmHg"},
                "program": [{"rate": "10 mL/h"}],
            }
            for i in ids
        ],  # fmt: skip
        "events": [{"at": "10 min", "type": "occlusion", "pump": i} for i in ids],
        "clinicians": {"count": count, "actions": {"occlusion": "clear_and_restart"}} | clinicians,
    }


# -- response-time distribution -------------------------------------------------------------------
def test_lognormal_delays_have_the_stated_median_and_gsd() -> None:
    """Median m and geometric SD g: log(delay) ~ N(log m, log g) (10^5 draws, 1 % / 2 %)."""
    d = lognormal_delays(np.random.default_rng(7), 180.0, 1.8, 100_000)
    assert np.median(d) == pytest.approx(180.0, rel=0.01)
    assert np.std(np.log(d)) == pytest.approx(math.log(1.8), rel=0.02)


def test_same_seed_same_clinician_delays_different_seed_different() -> None:
    sc = occlusion_scenario(occlusions=3)
    a, _ = run(sc, seed=1)
    b, _ = run(sc, seed=1)
    c, _ = run(sc, seed=2)
    assert len(a.clinicians.delays) == 3
    assert a.clinicians.delays == b.clinicians.delays
    assert a.clinicians.delays != c.clinicians.delays
    summary = run(sc, seed=1)[1].summary["clinicians"]
    assert summary == {"nurses": 1, "calls": 3, "delays_s": a.clinicians.delays}


def test_gsd_one_gives_the_median_exactly() -> None:
    sim, res = run(occlusion_scenario(response={"median": "4 min", "gsd": 1.0}))
    assert sim.clinicians.delays == [pytest.approx(240.0)]
    alarm = records(res, "pump.A", "alarm")[0].time_s
    arrived = records(res, "clinician", "arrived")[0].time_s
    assert arrived - alarm == pytest.approx(240.0)


# -- the nurse at an occlusion ---------------------------------------------------------------------
def test_nurse_clears_the_occlusion_and_restarts_after_the_delay() -> None:
    sim, res = run(occlusion_scenario())
    alarm = records(res, "pump.A", "alarm")[0]
    assert alarm.details["alarm"] == "occlusion"
    called, arrived = (
        records(res, "clinician", "called")[0],
        records(res, "clinician", "arrived")[0],
    )
    assert called.time_s == alarm.time_s
    assert arrived.time_s == pytest.approx(alarm.time_s + sim.clinicians.delays[0])
    cleared = records(res, "pump.A", "occlusion_cleared")[0]
    assert cleared.time_s == pytest.approx(arrived.time_s)
    start = next(e for e in records(res, "pump.A", "input") if e.details["input"] == "start")
    assert start.time_s == pytest.approx(arrived.time_s + CLEAR_TO_START)
    actions = [e.details["action"] for e in records(res, "clinician", "action")]
    assert actions == ["clear_occlusion", "restart"]
    assert len(records(res, "pump.A", "alarm")) == 1  # the restart holds
    assert res.timeseries["pump.A.rate[mL/h]"].iloc[-1] == pytest.approx(10.0)
    assert res.timeseries["pump.A.state"].iloc[-1] == "running"
    assert res.timeseries["pump.A.flow[mL/h]"].iloc[-30:].mean() == pytest.approx(10.0, rel=0.1)


def test_one_nurse_serves_alarms_in_turn_two_nurses_in_parallel() -> None:
    """Three simultaneous occlusions: one nurse arrives at each after the previous job
    (task 1 min) plus a fresh delay; three nurses all arrive after one delay each."""
    one, res1 = run(occlusion_scenario(count=1, occlusions=3))
    arrivals = [e.time_s for e in records(res1, "clinician", "arrived")]
    alarm = records(res1, "pump.A", "alarm")[0].time_s
    d = one.clinicians.delays
    task = 60.0 + CLEAR_TO_START
    expected = [alarm + d[0], alarm + d[0] + task + d[1], alarm + d[0] + d[1] + 2 * task + d[2]]
    assert arrivals == pytest.approx(expected)
    three, res3 = run(occlusion_scenario(count=3, occlusions=3))
    arrivals3 = sorted(e.time_s for e in records(res3, "clinician", "arrived"))
    assert arrivals3 == pytest.approx(sorted(alarm + x for x in three.clinicians.delays))
    assert max(arrivals3) < max(arrivals)


def test_alarms_not_in_actions_call_no_nurse() -> None:
    sc = occlusion_scenario()
    sc["clinicians"]["actions"] = {"air_in_line": "purge_and_restart"}
    sim, res = run(sc)
    assert not records(res, "clinician") and sim.clinicians.delays == []


def test_clinician_block_is_validated() -> None:
    sc = occlusion_scenario()
    sc["clinicians"]["actions"] = {"occlusion": "panic"}
    with pytest.raises(ScenarioError, match="clinicians.actions"):
        load_scenario(sc)


# -- stochastic PCA demand -------------------------------------------------------------------------
def demand_scenario(rate: str = "4/h", until: str = "6 h") -> dict:
    return {
        "duration": "6 h",
        "output": {"interval": "10 min"},
        "patient": PATIENT,
        "pumps": [{"id": "A", "drug": "morphine", "concentration": "1 mg/mL",
                   "container": "100 mL",
                   "program": [{"mode": "pca", "demand_dose": "1 mg", "lockout": "6 min"}]}],
        "events": [{"at": "0 min", "type": "pca_demand", "pump": "A", "rate": rate,
                    "until": until}],
    }  # fmt: skip


def presses(res) -> list[float]:
    return [e.time_s for e in records(res, "pump.A", "input") if e.details["input"] == "pca_press"]


def test_pca_demand_same_seed_same_presses_different_seed_different() -> None:
    sc = demand_scenario()
    a, ra = run(sc, seed=3)
    _, rb = run(sc, seed=3)
    _, rc = run(sc, seed=4)
    assert presses(ra) == presses(rb) and presses(ra) != presses(rc)
    assert presses(ra) == a.demands[0].times
    # each press is the scripted press: the controller answers every one
    assert len(records(ra, "pump.A", "pca_request")) == len(presses(ra))


def test_pca_demand_count_is_poisson() -> None:
    """Mean count over 40 seeds ≈ rate·time = 24; its SE is sqrt(24/40) = 0.77: 4 SE."""
    counts = [len(run(demand_scenario(), seed=s)[0].demands[0].times) for s in range(40)]
    assert np.mean(counts) == pytest.approx(24.0, abs=4 * math.sqrt(24.0 / 40))
    assert np.var(counts, ddof=1) == pytest.approx(24.0, rel=0.6)  # Poisson: var = mean


def test_pca_demand_stops_at_until() -> None:
    sim, _ = run(demand_scenario(rate="30/h", until="1 h"))
    assert sim.demands[0].times and max(sim.demands[0].times) <= 3600.0


# -- interlock -------------------------------------------------------------------------------------
def interlock_run(variant: str | None = None):
    sc = load_scenario(ROOT / "scenarios" / "pca_interlock.yaml", variant=variant)
    sim = Simulation(sc)
    return sim, sim.run()


def test_interlock_stops_the_opioid_at_the_alarm_and_raises_the_rr_nadir() -> None:
    sim, res = interlock_run()
    first_alarm = records(res, "monitor", "alarm")[0]
    pause = records(res, "interlock", "pause")[0]
    assert pause.time_s == first_alarm.time_s and pause.details["pump"] == "A"
    assert res.timeseries["pump.A.state"].loc[pause.time_s + 60 :].iloc[0] == "paused"
    # no drug after the pause until the nurse restarts the pump
    restart = next(e for e in records(res, "pump.A", "input") if e.details["input"] == "start")
    given = res.timeseries["pump.A.infused[mL]"]
    window = given.loc[pause.time_s + 1 : restart.time_s - 1]
    assert window.max() - window.min() == pytest.approx(0.0, abs=1e-9)
    # refused presses while paused
    refused = [e for e in records(res, "pump.A", "pca_request")
               if pause.time_s < e.time_s < restart.time_s]  # fmt: skip
    assert refused and all(e.details["reason"] == "pump paused" for e in refused)
    _, without = interlock_run("no_interlock")
    rr = "patient.vitals.rr[1/min]"
    assert res.timeseries[rr].min() > without.timeseries[rr].min() + 1.0
    assert not records(without, "interlock")


def test_interlock_resumes_only_by_a_start() -> None:
    """Vitals recover, yet the pump stays paused until the nurse's start (after its delay)."""
    sim, res = interlock_run()
    cleared = records(res, "monitor", "alarm_cleared")[-1]
    called = next(
        e for e in records(res, "clinician", "called") if e.details["alarm"] == "recovered"
    )
    assert called.time_s == cleared.time_s
    restart = next(e for e in records(res, "pump.A", "input") if e.details["input"] == "start")
    assert restart.time_s == pytest.approx(cleared.time_s + sim.clinicians.delays[-1])
    state = res.timeseries["pump.A.state"]
    assert (state.loc[cleared.time_s + 1 : restart.time_s - 1] == "paused").all()


def test_interlock_level_the_monitor_does_not_watch_gets_its_own_alarm() -> None:
    sc = demand_scenario(rate="20/h")
    sc["patient"] = PATIENT | {"vitals": {}}
    sc["pumps"][0]["program"][0]["demand_dose"] = "3 mg"
    sc["pumps"][0]["interlock"] = {"rr_below": "10/min"}
    _, res = run(sc)
    pause = records(res, "interlock", "pause")[0]
    assert pause.details["alarm"] == "interlock_rr_low" and pause.details["limit"] == 10.0
    rr = res.timeseries["patient.vitals.rr[1/min]"]
    assert rr.loc[: pause.time_s - 60].min() > 10.0 - 1e-6


# -- scenarios: key events at the expected time ---------------------------------------------------
def test_icu_manifold_scenario_key_events() -> None:
    """Remifentanil 0.1 mcg/kg/min·70 kg / 50 mcg/mL = 8.4 mL/h into C = 1 uL/mmHg line +
    the syringe's: alarm after the pressure ramp; the nurse answers it."""
    res = simulate(ROOT / "scenarios" / "icu_multi_pump_manifold.yaml")
    alarm = records(res, "pump.R", "alarm")[0]
    assert alarm.details["alarm"] == "occlusion" and 60 * 60 < alarm.time_s < 75 * 60
    assert not records(res, "pump.P", "alarm") and not records(res, "pump.C", "alarm")
    restart = next(e for e in records(res, "clinician", "action")
                   if e.details["action"] == "restart")  # fmt: skip
    assert restart.details["pump"] == "R" and restart.time_s > alarm.time_s
    assert res.timeseries["pump.R.rate[mL/h]"].iloc[-1] == pytest.approx(8.4)
    assert res.timeseries["pump.R.state"].iloc[-1] == "running"


def test_home_elastomeric_scenario_key_events() -> None:
    """270 mL at 5 mL/h nominal (profile mean about 0.96): empty at 56 h, no alarm; the cold
    restrictor (22 °C) runs about 20 % slower and is not empty by 60 h."""
    res = simulate(ROOT / "scenarios" / "home_elastomeric.yaml")
    empty = records(res, "pump.E", "reservoir_empty_physical")[0].time_s / 3600
    assert 52.0 < empty < 58.0
    assert not [e for e in res.events if e.kind == "alarm"]
    cold = simulate(load_scenario(ROOT / "scenarios" / "home_elastomeric.yaml",
                                  variant="cold_restrictor"))  # fmt: skip
    assert not records(cold, "pump.E", "reservoir_empty_physical")
    flow = "pump.E.flow[mL/h]"
    ratio = cold.timeseries[flow].iloc[10] / res.timeseries[flow].iloc[10]
    assert 0.75 < ratio < 0.85


# -- other actions and validation ----------------------------------------------------------------
def test_air_alarm_purge_and_restart_resumes_the_pump() -> None:
    sc = {
        "duration": "1 h",
        "output": {"interval": "10 s"},
        "patient": PATIENT,
        "pumps": [{"id": "F", "kind": "volumetric", "drug": "fluid", "container": "1000 mL",
                   "settings": {"air_limit": "200 uL"}, "program": [{"rate": "50 mL/h"}]}],
        "events": [{"at": "10 min", "type": "air", "pump": "F", "volume": "250 uL"}],
        "clinicians": {"actions": {"air_in_line": "purge_and_restart"},
                       "response": {"median": "2 min", "gsd": 1.0}},
    }  # fmt: skip
    _, res = run(sc)
    alarm = records(res, "pump.F", "alarm")[0]
    assert alarm.details["alarm"] == "air_in_line"
    action = records(res, "clinician", "action")[0]
    assert action.details == {"action": "purge_and_restart", "alarm": "air_in_line", "pump": "F"}
    assert action.time_s == pytest.approx(alarm.time_s + 120.0)
    assert res.timeseries["pump.F.state"].iloc[-1] == "running"


def test_stop_opioid_on_a_monitor_alarm_stops_the_remifentanil() -> None:
    """The tenfold remifentanil error (scenarios/opioid_respiratory_depression.yaml) with the
    scripted stop removed: the nurse answers the RR alarm by stopping the opioid pump."""
    sc = load_scenario(ROOT / "scenarios" / "opioid_respiratory_depression.yaml")
    raw = sc.model_dump(mode="json", exclude_none=True)
    raw["pumps"][0]["program"] = raw["pumps"][0]["program"][:2]  # no scripted stop
    raw["clinicians"] = {"actions": {"rr_low": "stop_opioid"}}
    sim, res = run(raw)
    rr_alarm = next(e for e in records(res, "monitor", "alarm") if e.details["alarm"] == "rr_low")
    stop = next(e for e in records(res, "pump.R", "input") if e.details["input"] == "stop")
    assert stop.time_s == pytest.approx(rr_alarm.time_s + sim.clinicians.delays[0])
    assert res.timeseries["pump.R.flow[mL/h]"].loc[stop.time_s + 10 :].max() == 0.0


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda sc: sc["pumps"][0].update(program=[{"rate": "1 mL/h"}]), "events[0].pump"),
        (lambda sc: sc["pumps"][0].update(interlock={"rr_below": "8/min"}),
         "pumps[0].interlock"),
        (lambda sc: sc.update(clinicians={"actions": {"rr_low": "restart"}}),
         "clinicians.actions.rr_low"),
        (lambda sc: sc["events"][0].update(rate="0/h"), "events[0]"),
    ],
)  # fmt: skip
def test_bedside_blocks_are_checked(change, path) -> None:
    sc = demand_scenario()
    change(sc)
    with pytest.raises(ScenarioError, match=path.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(sc)


def test_halve_opioid_changes_the_program_on_a_monitor_alarm() -> None:
    sc = load_scenario(ROOT / "scenarios" / "opioid_respiratory_depression.yaml")
    raw = sc.model_dump(mode="json", exclude_none=True)
    raw["pumps"][0]["program"] = raw["pumps"][0]["program"][:2]
    raw["clinicians"] = {"actions": {"rr_low": "halve_opioid"}}
    sim, res = run(raw)
    titrated = records(res, "pump.R", "titrated")[0]
    assert titrated.details["new_mL_h"] == pytest.approx(titrated.details["old_mL_h"] / 2)
    flow = res.timeseries["pump.R.flow[mL/h]"]  # an ideal pump: flow is the set rate
    assert flow.iloc[-1] == pytest.approx(titrated.details["old_mL_h"] / 2)
    rr_alarm = next(e for e in records(res, "monitor", "alarm") if e.details["alarm"] == "rr_low")
    assert titrated.time_s == pytest.approx(rr_alarm.time_s + sim.clinicians.delays[0])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), rate=st.sampled_from(["2/h", "6/h", "20/h"]),
       start=st.integers(0, 60), until=st.integers(61, 300))  # fmt: skip
def test_pca_demand_presses_lie_in_their_window_in_order(seed, rate, start, until) -> None:
    sc = demand_scenario(rate=rate, until=f"{until} min")
    sc["events"][0]["at"] = f"{start} min"
    sim, res = run(sc, seed=seed)
    times = sim.demands[0].times
    assert times == sorted(times) and presses(res) == times
    assert all(start * 60 < t <= until * 60 for t in times)
