"""The reference controller (programs, PCA, boluses, KVO) and the plug-in interface.

Figures: docs/references.md [DoseRate] [PCAAdult] [PumpManuals] — dose-rate conversion (40 mcg/mL,
0.1 mcg/kg/min,
60 kg -> 9 mL/h); PCA morphine for opioid-naive adults (demand 0.5-2 mg,
lockout 5-10 min, 4-h limit 30 mg); KVO never above the running rate. §5 —
GIP 1.4.3 (bolus on top of the basal, capped at the maximum), GIP 1.4.4 (a
bolus does not change the basal), OPCA R5.2.0(3) and (5) (lockout, window limit).
"""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pumpsim import ScenarioError, load_scenario, simulate
from pumpsim.cli import main
from pumpsim.errors import PumpsimError
from pumpsim.pump import PumpConfig, dose_rate_to_flow, load_controller
from pumpsim.pump.controller import ControllerError
from pumpsim.pump.reference import TRANSITIONS, ReferenceController

PATIENT = {"age": "45 y", "weight": "70 kg", "height": "170 cm", "sex": "female"}


def kinds(res, kind: str, source: str = "pump.A") -> list:
    return [e for e in res.events if e.kind == kind and e.source == source]


def pump(program: list[dict], **extra) -> dict:
    base = {"id": "A", "drug": "fluid", "container": "1000 mL", "program": program}
    base.update(extra)
    return base


def scenario(pumps: list[dict], events: list[dict] | None = None, **extra) -> dict:
    sc = {"name": "t", "duration": "2 h", "output": {"interval": "10 s"}, "pumps": pumps,
          "events": events or []}  # fmt: skip
    sc.update(extra)
    return sc


def flow_at(res, t: float, pid: str = "A") -> float:
    return float(res.timeseries[f"pump.{pid}.flow[mL/h]"].loc[t])


# -- the published PCA regimen -------------------------------------------------------------
MORPHINE_PCA = {
    "name": "PCA morphine", "duration": "5 h", "output": {"interval": "1 min"},
    "patient": PATIENT,
    "pumps": [{"id": "A", "drug": "morphine", "concentration": "1 mg/mL", "container": "100 mL",
               "program": [{"mode": "pca", "demand_dose": "1 mg", "lockout": "6 min",
                            "limit": {"dose": "30 mg", "window": "4 h"}}]}],
    "events": [{"at": "0 min", "type": "pca_press", "pump": "A", "every": "1 min",
                "until": "5 h"}],
}  # fmt: skip


@pytest.fixture(scope="module")
def pca_run():
    return simulate(MORPHINE_PCA)


def test_pca_30_mg_by_180_min_then_refused_until_240(pca_run) -> None:
    """1 mg demand, 6-min lockout, 30 mg per 4 h, a press every minute (docs/references.md
    [PCAAdult]):
    doses at 0, 6, ..., 174 min give 30 mg by 180 min; every request is refused until the
    first dose leaves the window at 240 min."""
    res = pca_run
    infused = res.timeseries["pump.A.infused[mL]"]  # 1 mg/mL: mL = mg
    assert infused.loc[180 * 60.0] == pytest.approx(30.0, rel=1e-12)
    assert infused.loc[239 * 60.0] == pytest.approx(30.0, rel=1e-12)
    requests = kinds(res, "pca_request")
    given_at = [e.time_s / 60 for e in requests if e.details["accepted"]]
    assert given_at[:30] == [6.0 * k for k in range(30)]
    assert given_at[30] == 240.0  # the dose of t = 0 has left the 4-h window
    refused = [e for e in requests if 180 * 60 <= e.time_s < 240 * 60]
    assert len(refused) == 60 and not any(e.details["accepted"] for e in refused)
    assert {e.details["reason"] for e in refused} == {"dose_limit"}
    assert res.summary["pumps"]["A"]["amount_infused"]["value"] == pytest.approx(40.0)


def test_pca_requests_in_lockout_are_logged_not_delivered(pca_run) -> None:
    res = pca_run
    requests = kinds(res, "pca_request")
    assert len(requests) == 300  # every press of 0..299 min is answered in the log
    lockout = [e for e in requests if e.details["reason"] == "lockout"]
    assert len(lockout) == 5 * 40  # five presses in each of the 40 lockouts
    infused = res.timeseries["pump.A.infused[mL]"]
    # a refused press delivers nothing: between doses the volume stays where it was
    assert infused.loc[7 * 60.0] == infused.loc[11 * 60.0] == pytest.approx(2.0)


def test_pca_limit_expiry_is_an_event_at_the_exact_time(pca_run) -> None:
    """The limit alarm is raised at 180 min and cleared at exactly 240 min (a timer, not a
    poll); meanwhile the pump is at KVO (no basal: nothing flows)."""
    (alarm,) = [e for e in kinds(pca_run, "alarm") if e.details["alarm"] == "dose_limit"]
    (cleared,) = kinds(pca_run, "alarm_cleared")
    assert alarm.time_s == 180 * 60.0 and cleared.time_s == 240 * 60.0
    state = pca_run.timeseries["pump.A.state"]
    assert state.loc[200 * 60.0] == "kvo" and state.loc[241 * 60.0] == "running"


def test_pca_verdicts_of_the_run(pca_run) -> None:
    req = pca_run.summary["requirements"]
    assert req["OPCA R5.2.0(3)"]["status"] == "pass"
    assert req["OPCA R5.2.0(5)"]["status"] == "pass"


# -- conversion, KVO, boluses --------------------------------------------------------------
def test_dose_rate_conversion_reference_example() -> None:
    """docs/references.md [DoseRate]: 40 mcg/mL, 0.1 mcg/kg/min, 60 kg -> 9 mL/h (here as a PCA
    basal)."""
    assert dose_rate_to_flow(0.1e-3 / 60, 60.0, 40e-3) * 3600 == pytest.approx(9.0, rel=1e-12)
    sc = scenario([pump([{"mode": "pca", "demand_dose": "20 mcg", "lockout": "5 min",
                          "basal": "0.1 mcg/kg/min"}],
                        drug="remifentanil", concentration="40 mcg/mL")],
                  patient=dict(PATIENT, weight="60 kg"))  # fmt: skip
    assert flow_at(simulate(sc), 60.0) == pytest.approx(9.0, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(rate=st.floats(0.1, 500.0), kvo=st.floats(0.1, 20.0))
def test_kvo_never_above_the_running_rate(rate: float, kvo: float) -> None:
    """docs/references.md [PumpManuals]: KVO 0.1-20 mL/h, never above the running rate."""
    sc = scenario([pump([{"rate": f"{rate} mL/h", "vtbi": f"{rate / 60} mL"}],
                        settings={"vtbi_end": "kvo", "kvo_rate": f"{kvo} mL/h"})],
                  duration="30 min")  # fmt: skip
    res = simulate(sc)
    after = res.timeseries["pump.A.flow[mL/h]"].loc[20 * 60.0 :]
    assert after.max() == pytest.approx(min(kvo, rate), rel=1e-9)
    assert (res.timeseries["pump.A.state"].loc[20 * 60.0 :] == "kvo").all()


def test_clinician_bolus_on_top_never_changes_the_basal() -> None:
    """GIP 1.4.3 / 1.4.4: 20 mL over 1 min on 100 mL/h -> 1300 mL/h requested, capped at the
    1000 mL/h maximum; afterwards the (titrated) basal again."""
    sc = scenario([pump([{"rate": "100 mL/h"}], settings={"max_rate": "1000 mL/h"})],
                  [{"at": "10 min", "type": "titrate", "pump": "A", "rate": "120 mL/h"},
                   {"at": "20 min", "type": "clinician_bolus", "pump": "A", "dose": "20 mL",
                    "over": "1 min"}])  # fmt: skip
    res = simulate(sc)
    assert flow_at(res, 20 * 60.0) == pytest.approx(1000.0)
    (end,) = kinds(res, "bolus_end")
    # the bolus ends when its 20 mL are in: 20 mL at 880 mL/h above the basal
    assert end.time_s == pytest.approx(20 * 60 + 20 / 880 * 3600, rel=1e-12)
    assert flow_at(res, 30 * 60.0) == pytest.approx(120.0)
    assert res.summary["requirements"]["GIP 1.4.3"]["status"] == "pass"
    assert res.summary["requirements"]["GIP 1.4.4"]["status"] == "pass"


def test_pca_demand_on_top_of_basal_at_the_bolus_rate() -> None:
    sc = scenario([pump([{"mode": "pca", "demand_dose": "2 mL", "lockout": "10 min",
                          "basal": "1 mL/h"}], settings={"bolus_rate": "60 mL/h"})],
                  [{"at": "5 min", "type": "pca_press", "pump": "A"}])  # fmt: skip
    res = simulate(sc)
    assert flow_at(res, 5 * 60.0) == pytest.approx(61.0)
    assert flow_at(res, 10 * 60.0) == pytest.approx(1.0)  # the basal untouched
    assert res.timeseries["pump.A.infused[mL]"].loc[10 * 60.0] == pytest.approx(2 + 10 / 60)


def test_no_bolus_during_an_alarm() -> None:
    """GIP 1.4.11: a bolus asked for while the pump alarms is refused and logged."""
    sc = scenario(
        [pump([{"rate": "100 mL/h", "vtbi": "10 mL"}], container="10 mL")],
        [
            {"at": "10 min", "type": "start", "pump": "A"},
            {"at": "11 min", "type": "clinician_bolus", "pump": "A", "dose": "1 mL"},
        ],
    )
    res = simulate(sc)
    (refused,) = kinds(res, "bolus_refused")
    assert refused.time_s == 11 * 60.0 and not kinds(res, "bolus_start")


# -- program modes -------------------------------------------------------------------------
def test_loading_then_maintenance_and_time_remaining() -> None:
    sc = scenario([pump([{"mode": "loading", "loading_dose": "50 mL", "loading_time": "10 min",
                          "rate": "20 mL/h", "vtbi": "90 mL"}])], duration="3 h")  # fmt: skip
    res = simulate(sc)
    assert flow_at(res, 5 * 60.0) == pytest.approx(300.0)
    assert flow_at(res, 60 * 60.0) == pytest.approx(20.0)
    (done,) = kinds(res, "vtbi_complete")
    assert done.time_s == pytest.approx(600 + 40 / 20 * 3600, rel=1e-12)  # 2 h after loading
    remaining = kinds(res, "time_remaining")
    assert [r.time_s for r in remaining] == [0.0, 600.0]
    assert remaining[1].details["remaining_s"] == pytest.approx(7200.0)


def test_intermittent_doses_with_kvo_between() -> None:
    sc = scenario([pump([{"mode": "intermittent", "dose": "100 mL", "over": "30 min",
                          "every": "4 h", "count": 2, "between": "kvo"}],
                        settings={"kvo_rate": "2 mL/h"})], duration="10 h")  # fmt: skip
    res = simulate(sc)
    assert flow_at(res, 10 * 60.0) == pytest.approx(200.0)
    assert flow_at(res, 2 * 3600.0) == pytest.approx(2.0)
    assert flow_at(res, 4 * 3600 + 60.0) == pytest.approx(200.0)
    assert res.summary["pumps"]["A"]["final_state"] == "complete"
    assert res.timeseries["pump.A.infused[mL]"].iloc[-1] == pytest.approx(200 + 2 * 3.5)


def test_taper_ramps_and_delivers_the_vtbi_in_the_duration() -> None:
    sc = scenario([pump([{"mode": "taper", "vtbi": "1100 mL", "duration": "12 h",
                          "up": "1 h", "down": "1 h", "increments": 4}], container="2 L")],
                  duration="13 h", output={"interval": "5 min"})  # fmt: skip
    res = simulate(sc)
    plateau = 1100 / 11  # 1100 mL in 12 h - (1 + 1)/2 h
    assert flow_at(res, 5 * 60.0) == pytest.approx(plateau / 5)
    assert flow_at(res, 6 * 3600.0) == pytest.approx(plateau)
    assert res.timeseries["pump.A.infused[mL]"].loc[12 * 3600.0] == pytest.approx(1100.0)
    assert flow_at(res, 12 * 3600.0 + 300) == 0.0


def test_secondary_returns_to_the_primary_where_it_was() -> None:
    sc = scenario([pump([{"rate": "50 mL/h", "vtbi": "100 mL"},
                         {"mode": "secondary", "at": "30 min", "rate": "200 mL/h",
                          "vtbi": "50 mL"}])], duration="4 h")  # fmt: skip
    res = simulate(sc)
    assert flow_at(res, 40 * 60.0) == pytest.approx(200.0)
    assert flow_at(res, 60 * 60.0) == pytest.approx(50.0)
    (back,) = kinds(res, "return_to_primary")
    assert back.time_s == pytest.approx(45 * 60.0)
    (done,) = kinds(res, "vtbi_complete")  # 25 mL before + 75 mL after the piggyback
    assert done.time_s == pytest.approx(45 * 60 + 75 / 50 * 3600)


def test_every_transition_is_logged_and_allowed() -> None:
    sc = scenario([pump([{"rate": "100 mL/h", "vtbi": "20 mL"}],
                        settings={"vtbi_end": "kvo"})],
                  [{"at": "5 min", "type": "stop", "pump": "A"},
                   {"at": "6 min", "type": "start", "pump": "A"}])  # fmt: skip
    res = simulate(sc)
    moves = kinds(res, "transition")
    assert [m.details["to"] for m in moves] == ["programming", "running", "paused", "running",
                                                "kvo"]  # fmt: skip
    previous = "idle"
    for m in moves:
        assert m.details["from"] == previous and m.details["to"] in TRANSITIONS[previous]
        previous = m.details["to"]
    # the stop held the VTBI: 20 mL at 100 mL/h take 12 min of running, ending at 13 min
    (done,) = kinds(res, "vtbi_complete")
    assert done.time_s == pytest.approx(13 * 60.0)


def test_idle_standby_reminder_after_an_operator_stop() -> None:
    sc = scenario([pump([{"rate": "100 mL/h"}])], [{"at": "5 min", "type": "stop", "pump": "A"}])
    res = simulate(sc)
    assert [(a.time_s, a.details["alarm"]) for a in kinds(res, "alarm")] == [
        (420.0, "idle_standby")
    ]


# -- the plug-in interface -----------------------------------------------------------------
USER_CONTROLLER = '''
from pumpsim.pump import PumpConfig


class Steady:
    """Runs the first step's rate forever and ignores everything."""

    def __init__(self, config: PumpConfig) -> None:
        self.rate = config.program[0].rate

    def on_start(self, hw):
        hw.set_rate(self.rate)
        hw.set_state("running")

    def on_timer(self, hw, name):
        pass

    def on_sensor(self, hw, event):
        pass

    def on_input(self, hw, event):
        hw.log("pca_request", accepted=False, reason="not supported")
'''


def test_user_controller_from_a_file_and_from_the_scenario(tmp_path, monkeypatch) -> None:
    (tmp_path / "my_firmware.py").write_text(textwrap.dedent(USER_CONTROLLER))
    sc = scenario([pump([{"rate": "10 mL/h", "vtbi": "1 mL"}])])
    res = simulate(sc, controller=str(tmp_path / "my_firmware.py") + ":Steady")
    assert flow_at(res, 3600.0) == pytest.approx(10.0)  # it ignores the VTBI: its choice
    monkeypatch.syspath_prepend(str(tmp_path))
    res2 = simulate(dict(sc, controller="my_firmware:Steady"), allow_controller=True)
    assert res2.timeseries.equals(res.timeseries)
    # a scenario file next to the module names it relative to itself (when allowed to run it)
    path = tmp_path / "s.yaml"
    path.write_text("controller: my_firmware.py:Steady\n"
                    "pumps: [{id: A, drug: fluid, program: [{rate: 10 mL/h}]}]\n")  # fmt: skip
    res3 = simulate(path, allow_controller=True)
    assert res3.timeseries["pump.A.flow[mL/h]"].iloc[-1] == pytest.approx(10.0)


@pytest.mark.parametrize(("spec", "message"), [
    ("nocolon", "write 'package.module:ClassName'"),
    ("no_such_module_xyz:C", "cannot import no_such_module_xyz"),
    ("pumpsim.pump.faulty:Nope", "has no 'Nope'"),
    ("missing_file.py:C", "no such file"),
])  # fmt: skip
def test_controller_load_errors_are_one_line(spec: str, message: str) -> None:
    with pytest.raises(ControllerError) as err:
        load_controller(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_controller_in_a_scenario_is_a_located_problem() -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario([pump([{"rate": "1 mL/h"}])], controller="nope_mod:X"))
    assert err.value.problems[0].path == "controller"


def test_cli_run_with_controller(tmp_path, capsys) -> None:
    path = tmp_path / "pca.yaml"
    path.write_text("duration: 1 h\npumps: [{id: A, drug: fluid, program: "
                    "[{mode: pca, demand_dose: 1 mL, lockout: 6 min}]}]\n"
                    "events: [{at: 0 min, type: pca_press, pump: A, every: 1 min}]\n")  # fmt: skip
    code = main(["run", str(path), "--out", str(tmp_path / "o"), "--no-plots", "--controller",
                 "pumpsim.pump.faulty:LockoutIgnoringController"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "OPCA R5.2.0(3)" in out  # the run's summary names the broken one
    code = main(["run", str(path), "--out", str(tmp_path / "p"), "--controller", "x:Y"])
    assert code == 1 and "cannot import x" in capsys.readouterr().err


def test_reference_controller_accepts_the_foundation_call_form() -> None:
    from pumpsim.pump.program import Step

    ctl = ReferenceController([Step(0.0, 1 / 3600, 1.0)], "kvo", 0.5 / 3600)
    assert ctl.config.vtbi_end == "kvo" and isinstance(ctl.config, PumpConfig)


# -- the schema ------------------------------------------------------------------------------
@pytest.mark.parametrize(("step", "path", "message"), [
    ({"mode": "pca", "demand_dose": "1 mg", "lockout": "6 min"}, "pumps[0].program[0].demand_dose",
     "needs the pump's 'concentration'"),
    ({"mode": "pca", "demand_dose": "1 mL"}, "pumps[0].program[0].lockout", "required"),
    ({"mode": "pcx"}, "pumps[0].program[0]", "unknown mode 'pcx'"),
    ({"mode": "pca", "demand_dose": "1 mL", "lockout": "6 min", "lockuot": "1 min"},
     "pumps[0].program[0].lockuot", "did you mean 'lockout'"),
    ({"mode": "intermittent", "dose": "10 mL", "over": "2 h", "every": "1 h"},
     "pumps[0].program[0]", "'over' must be shorter than 'every'"),
    ({"mode": "pca", "demand_dose": "2 mL", "lockout": "5 min", "limit": {"dose": "1 mL",
      "window": "1 h"}}, "pumps[0].program[0].limit.dose", "less than one demand dose"),
])  # fmt: skip
def test_program_mode_errors_name_the_field(step: dict, path: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario([pump([step])]))
    assert any(p.path == path and message in p.message for p in err.value.problems), str(err.value)


def test_pca_press_needs_a_pca_program() -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(
            scenario(
                [pump([{"rate": "1 mL/h"}])], [{"at": "0 s", "type": "pca_press", "pump": "A"}]
            )
        )
    assert err.value.problems[0].path == "events[0].pump"


def test_continuous_steps_read_exactly_as_before() -> None:
    sc = load_scenario(scenario([pump([{"rate": "20 mL/h", "vtbi": "20 mL"}])]))
    step = sc.pumps[0].program[0]
    assert type(step).__name__ == "ProgramStep" and step.mode == "continuous"
    with pytest.raises(PumpsimError):
        load_scenario(scenario([pump([{"mode": "continuous"}])]))
