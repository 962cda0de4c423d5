"""The engine end to end with the ideal pump: programs, VTBI, doses, mass balance."""

from __future__ import annotations

import numpy as np
import pytest

from pumpsim import simulate

PATIENT = {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"}


def one_pump(program: list[dict], **pump) -> dict:
    base = {"id": "A", "drug": "propofol", "concentration": "10 mg/mL"}
    base.update(pump)
    return {"name": "t", "duration": "3 h", "output": {"interval": "10 s"}, "patient": PATIENT,
            "pumps": [dict(base, program=program)]}  # fmt: skip


def kinds(res, kind: str) -> list:
    return [e for e in res.events if e.kind == kind]


def test_vtbi_stops_the_pump_at_the_exact_time() -> None:
    """20 mL at 20 mL/h ends at 3600 s, an event, not a sample."""
    res = simulate(one_pump([{"rate": "20 mL/h", "vtbi": "20 mL"}]))
    (done,) = kinds(res, "vtbi_complete")
    assert done.time_s == pytest.approx(3600.0, abs=1e-9)
    ts = res.timeseries
    assert ts.loc[3590.0, "pump.A.flow[mL/h]"] == 20.0 and ts.loc[3600.0, "pump.A.flow[mL/h]"] == 0
    assert ts["pump.A.infused[mL]"].iloc[-1] == pytest.approx(20.0, rel=1e-12)
    assert res.summary["pumps"]["A"]["final_state"] == "complete"


def test_dose_rate_conversion_reference_example() -> None:
    """docs/references.md [DoseRate]: 40 mcg/mL, 0.1 mcg/kg/min, 60 kg -> 9 mL/h."""
    sc = one_pump([{"dose_rate": "0.1 mcg/kg/min"}], drug="remifentanil",
                  concentration="40 mcg/mL")  # fmt: skip
    sc["patient"] = dict(PATIENT, weight="60 kg")
    res = simulate(sc)
    assert res.timeseries["pump.A.flow[mL/h]"].iloc[0] == pytest.approx(9.0, rel=1e-12)


def test_steps_without_at_follow_each_other() -> None:
    """A loading step of 5 mL at 60 mL/h (5 min), then 10 mL/h until 1 h, then off."""
    res = simulate(one_pump([
        {"rate": "60 mL/h", "vtbi": "5 mL"},
        {"rate": "10 mL/h"},
        {"at": "1 h", "rate": "0 mL/h"},
    ]))  # fmt: skip
    flow = res.timeseries["pump.A.flow[mL/h]"]
    assert flow.loc[290.0] == 60 and flow.loc[300.0] == 10 and flow.loc[3600.0] == 0
    assert res.summary["pumps"]["A"]["volume_infused_mL"] == pytest.approx(5 + 10 * 55 / 60)


def test_kvo_after_vtbi_never_above_running_rate() -> None:
    sc = one_pump([{"rate": "0.5 mL/h", "vtbi": "0.5 mL"}],
                  settings={"vtbi_end": "kvo", "kvo_rate": "1 mL/h"})  # fmt: skip
    res = simulate(sc)
    assert res.timeseries["pump.A.flow[mL/h]"].loc[5000.0] == pytest.approx(0.5)
    assert res.timeseries["pump.A.state"].loc[5000.0] == "kvo"


def test_empty_reservoir_alarms_and_stops() -> None:
    res = simulate(one_pump([{"rate": "20 mL/h"}], container="10 mL"))
    (alarm,) = kinds(res, "alarm")
    assert alarm.details["alarm"] == "reservoir_empty" and alarm.details["priority"] == "high"
    assert alarm.time_s == pytest.approx(1800.0, abs=1e-9)
    assert res.timeseries["pump.A.flow[mL/h]"].loc[1800.0:].eq(0).all()


def test_bolus_gives_dose_over_v1_instantly() -> None:
    """2 mg/kg propofol at 70 kg = 140 mg into Schnider V1 4.27 L -> 140/4.27 ug/mL."""
    sc = {"duration": "10 min", "output": {"interval": "1 s"}, "patient": PATIENT,
          "events": [{"at": "1 min", "type": "bolus", "drug": "propofol", "dose": "2 mg/kg"}]}
    res = simulate(sc)
    plasma = res.timeseries["patient.propofol.plasma[ug/mL]"]
    assert plasma.loc[59.0] == 0.0
    assert plasma.loc[60.0] == pytest.approx(140 / 4.27, rel=1e-12)


def test_short_infusion_bolus_gives_the_whole_dose() -> None:
    sc = {"duration": "1 h", "patient": PATIENT,
          "events": [{"at": "0 s", "type": "bolus", "drug": "remifentanil", "dose": "1 mcg/kg",
                      "duration": "1 min"}]}  # fmt: skip
    d = simulate(sc).summary["drugs"]["remifentanil"]
    assert d["given"] == pytest.approx(0.07, rel=1e-12)
    assert abs(d["mass_balance_error"]) < 1e-9 * d["given"]


def test_mass_balance_in_summary() -> None:
    """Infused = in body + eliminated, to 1e-9 relative (exact solution)."""
    res = simulate(one_pump([{"dose_rate": "10 mg/kg/h"}, ], container="50 mL"))
    d = res.summary["drugs"]["propofol"]
    assert d["given"] == pytest.approx(500.0, rel=1e-12)  # the 50 mL ran out
    assert abs(d["in_body"] + d["eliminated"] - d["given"]) < 1e-9 * d["given"]


def test_same_seed_same_result_and_columns() -> None:
    sc = one_pump([{"rate": "20 mL/h", "vtbi": "10 mL"}])
    a, b = simulate(sc, seed=5), simulate(sc, seed=5)
    assert a.timeseries.equals(b.timeseries)
    assert a.events == b.events and a.summary == b.summary
    assert list(a.timeseries.columns) == [
        "pump.A.flow[mL/h]", "pump.A.infused[mL]", "pump.A.state",
        "patient.propofol.plasma[ug/mL]", "patient.propofol.effect[ug/mL]",
    ]  # fmt: skip
    assert a.timeseries.index.name == "time_s"


def test_concentrations_never_negative_and_auc_matches_trapezoid() -> None:
    res = simulate(one_pump([{"rate": "30 mL/h", "duration": "40 min"}]))
    c = res.timeseries["patient.propofol.plasma[ug/mL]"].to_numpy()
    assert (c >= 0).all()
    t = res.timeseries.index.to_numpy()
    trapezoid = float(np.sum((c[1:] + c[:-1]) / 2 * np.diff(t))) / 3600
    # exact AUC state vs the trapezoid rule on a 10-s grid: agree to 1e-4 relative
    assert res.summary["drugs"]["propofol"]["auc"] == pytest.approx(trapezoid, rel=1e-4)


def test_fluid_has_no_pk_columns() -> None:
    res = simulate({"duration": "1 h", "pumps": [{"id": "F", "drug": "fluid",
                                                  "program": [{"rate": "100 mL/h"}]}]})  # fmt: skip
    assert [c for c in res.timeseries.columns if c.startswith("patient.")] == []
    assert res.summary["pumps"]["F"]["volume_infused_mL"] == pytest.approx(100.0)


def test_plot_returns_figure() -> None:
    import matplotlib

    matplotlib.use("Agg")
    fig = simulate(one_pump([{"rate": "20 mL/h", "vtbi": "10 mL"}])).plot()
    assert len(fig.axes) == 2


def test_program_whose_first_step_starts_later() -> None:
    """A pump programmed to start at 30 min stays idle until then, then runs."""
    res = simulate(one_pump([{"at": "30 min", "rate": "20 mL/h", "vtbi": "10 mL"}]))
    flow = res.timeseries["pump.A.flow[mL/h]"]
    assert flow.loc[:1790.0].eq(0).all() and flow.loc[1800.0] == 20.0
    (done,) = kinds(res, "vtbi_complete")
    assert done.time_s == pytest.approx(1800.0 + 1800.0, abs=1e-9)
