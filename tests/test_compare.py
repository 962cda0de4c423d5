"""Variants, comparisons and the route-comparison view."""

from __future__ import annotations

import pandas as pd
import pytest

from pumpsim import ScenarioError, load_scenario, simulate
from pumpsim.cli import main
from pumpsim.compare import compare_routes, run_comparison, time_above
from tests.conftest import ROOT

BASE = {
    "name": "base",
    "duration": "2 h",
    "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
    "pumps": [{"id": "A", "drug": "propofol", "concentration": "10 mg/mL",
               "program": [{"rate": "20 mL/h"}]}],
    "variants": {"high_rate": {"pumps[0].program[0].rate": "40 mL/h"}},
}  # fmt: skip


def test_variant_changes_only_what_it_names() -> None:
    base = load_scenario(BASE)
    high = load_scenario(BASE, variant="high_rate")
    assert high.pumps[0].program[0].rate == pytest.approx(2 * base.pumps[0].program[0].rate)
    assert high.name == "base [high_rate]" and high.variants == {}
    assert high.patient == base.patient


def test_bad_variants_are_located() -> None:
    bad = dict(BASE, variants={"x": {"pumps[3].program[0].rate": "1 mL/h"}})
    with pytest.raises(ScenarioError, match=r"variants\.x\.pumps\[3\]"):
        load_scenario(bad)
    worse = dict(BASE, variants={"neg": {"pumps[0].program[0].rate": "-1 mL/h"}})
    with pytest.raises(ScenarioError, match=r"variants\.neg -> pumps\[0\]\.program\[0\]\.rate"):
        load_scenario(worse)
    with pytest.raises(ScenarioError, match="no variant 'nope'; allowed: high_rate"):
        load_scenario(BASE, variant="nope")


def test_comparison_runs_base_and_variants() -> None:
    comp = run_comparison(BASE)
    assert list(comp.results) == ["base", "high_rate"]
    table = comp.table()
    cmax = table.set_index("arm")["Cmax [ug/mL]"]
    assert cmax["high_rate"] == pytest.approx(2 * cmax["base"], rel=1e-9)  # linear PK


def test_time_above_counts_intervals() -> None:
    import numpy as np

    t = np.arange(0.0, 100.0, 10.0)
    c = np.array([0, 1, 2, 3, 2, 1, 0, 0, 0, 0], dtype=float)
    assert time_above(t, c, 2.0) == 30.0  # samples 2, 3, 4 start intervals >= 2


def test_routes_same_dose_same_exposure_where_f_is_one() -> None:
    """With F = 1 for every morphine route the AUC to infinity is the same: at 24 h
    (13 terminal half-lives of the default sarton2000, well past absorption) AUCs agree
    to 2 %."""
    comp = compare_routes("morphine", "10 mg", salt="sulfate", duration="24 h",
                          routes=["iv", "sc", "im", "io", "epidural"])  # fmt: skip
    table = comp.table().set_index("route")
    auc = table["AUC [ng/mL*h]"]
    assert (abs(auc / auc["iv"] - 1) < 0.02).all()
    # order of peaks: IV > IO > epidural, SC > IM (docs/references.md [StuartHarris2000]
    # [Stanski1978] [Nordberg1984] [VonHoff2008])
    cmax = table["Cmax [ng/mL]"]
    assert cmax["iv"] > cmax["io"] > max(cmax["sc"], cmax["epidural"]) > cmax["im"]


def test_routes_given_over_a_minute() -> None:
    """``over``: each dose at a constant rate for that time. The IV peak moves from time
    zero (dose/V1 = 7.52 mg / 5.25 L = 1432 ng/mL) to the end of the minute and drops;
    the exposure is unchanged (the same 7.52 mg, shifted by half a minute)."""
    push = compare_routes("morphine", "10 mg", salt="sulfate", routes=["iv", "sc"],
                          duration="24 h", interval="5 s").table().set_index("route")  # fmt: skip
    slow = compare_routes("morphine", "10 mg", salt="sulfate", routes=["iv", "sc"],
                          duration="24 h", interval="5 s", over="1 min")  # fmt: skip
    assert "over 1 min" in slow.results["iv"].scenario.name
    table = slow.table().set_index("route")
    assert push.loc["iv", "Cmax [ng/mL]"] == pytest.approx(7.52 / 5.25 * 1000, rel=1e-3)
    assert push.loc["iv", "Tmax [min]"] == 0.0 and table.loc["iv", "Tmax [min]"] == 1.0
    assert table.loc["iv", "Cmax [ng/mL]"] < 0.75 * push.loc["iv", "Cmax [ng/mL]"]
    auc = table["AUC [ng/mL*h]"] / push["AUC [ng/mL*h]"]
    assert (abs(auc - 1) < 0.01).all()


def test_salt_converts_to_base() -> None:
    """10 mg morphine sulfate pentahydrate = 7.52 mg base (docs/references.md [MorphineSalt])."""
    sc = {"duration": "1 h", "patient": BASE["patient"],
          "events": [{"at": "0 s", "type": "bolus", "drug": "morphine", "salt": "sulfate",
                      "dose": "10 mg"}]}  # fmt: skip
    assert simulate(sc).summary["drugs"]["morphine"]["given"] == pytest.approx(7.52, abs=0.005)


def test_route_without_data_needs_user_absorption() -> None:
    sc = {"duration": "2 h", "patient": BASE["patient"],
          "events": [{"at": "0 s", "type": "bolus", "drug": "propofol", "dose": "100 mg",
                      "route": "im"}]}  # fmt: skip
    with pytest.raises(ScenarioError, match="no published data for route 'im'"):
        load_scenario(sc)
    sc["events"][0]["absorption"] = {"half_life": "10 min", "bioavailability": 0.5}
    d = simulate(sc).summary["drugs"]["propofol"]
    assert d["routes"]["im"]["bioavailability"] == 0.5
    # half the dose is never absorbed; mass balance still closes
    assert d["not_absorbed"] == pytest.approx(50.0, rel=1e-9)
    assert d["mass_balance_error"] < 1e-9 * d["given"]


def test_heparin_runs_in_the_engine() -> None:
    """The nonlinear model through the engine: 80 U/kg bolus + 18 U/kg/h (Raschke 1993)."""
    sc = {"duration": "6 h", "patient": BASE["patient"],
          "pumps": [{"id": "H", "drug": "heparin", "concentration": "100 U/mL",
                     "program": [{"dose_rate": "18 U/kg/h"}]}],
          "events": [{"at": "0 s", "type": "bolus", "drug": "heparin", "dose": "80 U/kg"}]}
    res = simulate(sc)
    c = res.timeseries["patient.heparin.plasma[U/mL]"]
    assert c.iloc[1] > c.iloc[-1] > 0
    d = res.summary["drugs"]["heparin"]
    assert d["mass_balance_error"] < 1e-6 * d["given"]


def test_routes_command_and_scenario(tmp_path, capsys) -> None:
    out = tmp_path / "routes"
    code = main(["routes", "--drug", "morphine", "--dose", "10 mg", "--salt", "sulfate",
                 "--routes", "iv,sc,im", "--threshold", "20 ng/mL", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Stuart-Harris" in printed and "Stanski" in printed
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["arm"]) == ["iv", "sc", "im"] and "time_above_min" in table
    assert (out / "plots" / "comparison.png").stat().st_size > 10_000
    code = main(["run", str(ROOT / "scenarios" / "routes_morphine.yaml"), "--out",
                 str(tmp_path / "scn"), "--quiet"])  # fmt: skip
    assert code == 0
    arms = pd.read_csv(tmp_path / "scn" / "comparison.csv")["arm"].tolist()
    assert arms == ["iv", "sc", "im", "io", "epidural"]


def test_routes_command_errors(tmp_path, capsys) -> None:
    code = main(["routes", "--drug", "unobtainium", "--dose", "1 mg", "--out", str(tmp_path)])
    assert code == 1 and "unknown drug" in capsys.readouterr().err
    code = main(["routes", "--drug", "propofol", "--dose", "1 mg", "--routes", "sc",
                 "--out", str(tmp_path / "x")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "no published data for route 'sc'" in err
    assert not (tmp_path / "x").exists()
    # errors name the argument; a dose that would outlast the run is refused, not cut
    for over, says in (("abc", "over: 'abc' does not start with a number"),
                       ("5 h", "over: the dose would end at 18000 s, after the end")):
        code = main(["routes", "--drug", "morphine", "--dose", "1 mg", "--over", over,
                     "--duration", "4 h", "--out", str(tmp_path / "y")])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 1 and says in err and err.count("\n") == 1
    assert not (tmp_path / "y").exists()


def test_linear_panel_caps_push_spikes_and_names_them() -> None:
    """Educators' picture: IV and IO pushes peak > 5x the median arm, so the linear panel
    is capped at 1.3x the median peak (SC/IM/epidural stay readable) and the capped peaks
    are named; the log panel keeps every curve whole."""
    comp = compare_routes("morphine", "10 mg", salt="sulfate", duration="4 h",
                          routes=["iv", "sc", "im", "io", "epidural"], over="1 min")  # fmt: skip
    fig = comp.figure()
    left, right = fig.axes[:2]
    peaks = comp.table().set_index("route")["Cmax [ng/mL]"]
    assert left.get_ylim()[1] == pytest.approx(1.3 * peaks.median())
    text = " ".join(t.get_text() for t in left.texts)
    assert "off scale" in text and "iv 1001, io 799.7 ng/mL" in text
    assert right.get_ylim()[1] > peaks.max()
    slow = compare_routes("morphine", "10 mg", salt="sulfate", duration="4 h",
                          routes=["sc", "im", "epidural"]).figure()  # fmt: skip
    assert not slow.axes[0].texts  # comparable peaks: nothing capped
    # every arm the cap cuts is named, not only those above 5x the median
    from matplotlib.figure import Figure

    from pumpsim.compare import _clip_spikes

    ax = Figure().subplots()
    for arm, top in zip("abcde", (10, 12, 14, 30, 100), strict=True):
        ax.plot([0, 1, 2], [0, top, 0], label=arm)
    _clip_spikes(ax, "mg/L")
    assert ax.get_ylim()[1] == pytest.approx(1.3 * 14)
    assert "d 30, e 100 mg/L" in ax.texts[0].get_text()
