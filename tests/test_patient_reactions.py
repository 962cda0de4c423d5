"""Adverse reactions: anaphylaxis (event), vancomycin flushing (rate rule), time courses."""

from __future__ import annotations

import numpy as np
import pytest

from pumpsim import load_scenario, simulate
from pumpsim.patient.reactions import (
    ANAPHYLAXIS,
    VANCOMYCIN_RATE_RULE,
    RateHistory,
    Reaction,
    ReactionEffect,
    anaphylaxis,
    reaction_deltas,
)
from tests.conftest import ROOT

PATIENT = {"age": "55 y", "weight": "75 kg", "height": "172 cm", "sex": "female",
           "creatinine": "0.9 mg/dL"}  # fmt: skip
VITALS = ["patient.vitals.hr[1/min]", "patient.vitals.map[mmHg]", "patient.vitals.rr[1/min]",
          "patient.vitals.spo2[%]"]  # fmt: skip


def ceftriaxone(events: list[dict], vitals: bool = True) -> dict:
    patient = {**PATIENT, "vitals": {}} if vitals else PATIENT
    return {"duration": "60 min", "output": {"interval": "10 s"}, "patient": patient,
            "pumps": [{"id": "A", "drug": "ceftriaxone", "concentration": "20 mg/mL",
                       "program": [{"rate": "200 mL/h", "vtbi": "100 mL"}]}],
            "events": events}  # fmt: skip


def reaction(severity: str, at: str = "8 min") -> dict:
    return {"at": at, "type": "adverse_reaction", "reaction": "anaphylaxis", "severity": severity}


# -- the time course ----------------------------------------------------------------------------


def test_intensity_is_zero_before_onset_rises_and_resolves() -> None:
    r = Reaction("x", 100.0, ReactionEffect(hr=10.0), rise=60.0)
    t = np.array([0.0, 99.999, 100.0, 160.0, 1e6])
    w = r.intensity(t)
    assert list(w[:3]) == [0.0, 0.0, 0.0]
    assert w[3] == pytest.approx(1 - np.exp(-1.0), rel=1e-12) and w[4] == pytest.approx(1.0)
    ended = r.ended(160.0)
    assert ended.intensity(160.0) == pytest.approx(w[3], rel=1e-12)
    assert ended.intensity(160.0 + ended.fall) == pytest.approx(w[3] / np.e, rel=1e-12)
    d = reaction_deltas([r, r], np.array([1e6]))
    assert d["hr"][0] == pytest.approx(20.0) and d["map_fraction"][0] == 0.0  # they add


def test_severity_grades_follow_brown_2004_and_mertes_2011() -> None:
    """Peak effects (illustrative) land inside each grade's published definition: mild is
    skin-only (no desaturation), moderate stays above Brown's SpO2 92 %, severe falls below
    it; severe halves MAP (Mertes grade III: > 50 % fall), moderate does not."""
    res = {s: simulate(ceftriaxone([reaction(s)])).timeseries for s in ANAPHYLAXIS}
    spo2 = {s: ts["patient.vitals.spo2[%]"].min() for s, ts in res.items()}
    mean_bp = {s: ts["patient.vitals.map[mmHg]"].min() for s, ts in res.items()}
    hr = {s: ts["patient.vitals.hr[1/min]"].max() for s, ts in res.items()}
    base = res["mild"].loc[0.0]
    assert spo2["mild"] == pytest.approx(base["patient.vitals.spo2[%]"])
    assert spo2["moderate"] > 92.0 > spo2["severe"]
    assert mean_bp["severe"] <= 0.5 * base["patient.vitals.map[mmHg]"] + 1e-6
    assert mean_bp["mild"] > mean_bp["moderate"] > mean_bp["severe"]
    assert base["patient.vitals.hr[1/min]"] < hr["mild"] < hr["moderate"] < hr["severe"]
    with pytest.raises(ValueError, match="allowed"):
        anaphylaxis(0.0, "catastrophic")


def test_anaphylaxis_changes_vitals_at_its_onset_and_nothing_before() -> None:
    """Same scenario with and without the event: identical up to 8 min, different after;
    the PK does not change; the log says when."""
    with_it = simulate(ceftriaxone([reaction("moderate")]))
    without = simulate(ceftriaxone([], vitals=False))
    a, b = with_it.timeseries, without.timeseries
    assert VITALS[0] not in b.columns  # vitals are opt-in: on with a reaction or `vitals:`
    b = simulate(ceftriaxone([], vitals=True)).timeseries
    assert a.loc[:480.0, VITALS].equals(b.loc[:480.0, VITALS])
    assert (a.loc[490.0:, VITALS] != b.loc[490.0:, VITALS]).any(axis=1).all()
    assert a["patient.ceftriaxone.plasma[ug/mL]"].equals(b["patient.ceftriaxone.plasma[ug/mL]"])
    (ev,) = [e for e in with_it.events if e.kind == "adverse_reaction"]
    assert (ev.time_s, ev.source, ev.details["reaction"], ev.details["severity"]) == (
        480.0, "patient", "anaphylaxis", "moderate")
    assert with_it.summary["vitals"]["reactions"][0]["onset_s"] == 480.0


# -- vancomycin: a rate rule --------------------------------------------------------------------


def vancomycin(minutes: float, interval: str = "30 s") -> object:
    """1 g (200 mL of 5 mg/mL) over ``minutes`` by an ideal pump."""
    return simulate({"duration": "3 h", "output": {"interval": interval},
                     "patient": {**PATIENT, "vitals": {}},
                     "pumps": [{"id": "V", "drug": "vancomycin", "concentration": "5 mg/mL",
                                "program": [{"rate": f"{200 * 60 / minutes:g} mL/h",
                                             "vtbi": "200 mL"}]}]})  # fmt: skip


def test_vancomycin_over_60_min_triggers_the_flushing_rule() -> None:
    """16.7 mg/min > 10 mg/min (label). The 5-min mean reaches 10 mg/min at
    300 s x 10/16.67 = 180 s; after the end at 3600 s it falls below at 3600 + 120 s."""
    res = vancomycin(60)
    onset, end = [e for e in res.events if e.kind == "adverse_reaction"]
    assert onset.details["reaction"] == "vancomycin_flushing"
    assert onset.details["cause"] == "rate_rule" and onset.details["phase"] == "onset"
    assert onset.details["rate_per_min"] == pytest.approx(1000 / 60, abs=1e-3)
    assert onset.time_s == pytest.approx(180.0, abs=1e-6)
    assert end.details["phase"] == "resolving" and end.time_s == pytest.approx(3720.0, abs=1e-6)
    ts = res.timeseries
    assert ts.loc[:180.0, "patient.vitals.hr[1/min]"].max() == 72.0
    assert ts["patient.vitals.hr[1/min]"].max() > 80.0
    assert ts["patient.vitals.map[mmHg]"].min() < 90.0 * 0.92


def test_vancomycin_over_120_min_does_not() -> None:
    """8.3 mg/min < 10 mg/min: no reaction, vitals at baseline throughout."""
    res = vancomycin(120)
    assert not [e for e in res.events if e.kind == "adverse_reaction"]
    assert (res.timeseries["patient.vitals.hr[1/min]"] == 72.0).all()


def test_the_rule_is_exact_for_pushes_and_rate_changes() -> None:
    """A 1 g push is 1000 mg in the window: above the limit at once, below once it leaves
    the window (push + 300 s). A rate exactly at the limit never triggers."""
    limit, window = VANCOMYCIN_RATE_RULE.limit, VANCOMYCIN_RATE_RULE.window
    h = RateHistory()
    h.dose(100.0, 1000.0)
    assert h.next_crossing(100.0, limit, window, above=True) == 100.0
    assert h.next_crossing(100.0, limit, window, above=False) == pytest.approx(400.0)
    h2 = RateHistory()
    h2.set_rate(0.0, limit)
    assert h2.next_crossing(0.0, limit, window, above=True, margin=1e-12) == np.inf
    h2.set_rate(600.0, 2 * limit)  # doubled at 600 s: mean = limit at once, rising
    assert h2.next_crossing(600.0, limit, window, above=True) == pytest.approx(600.0, abs=1e-9)


# -- the scenarios -------------------------------------------------------------------------------


def test_anaphylaxis_scenario_key_event_and_variants() -> None:
    path = ROOT / "scenarios" / "anaphylaxis_ceftriaxone.yaml"
    res = simulate(path)
    (ev,) = [e for e in res.events if e.kind == "adverse_reaction"]
    assert ev.time_s == 480.0 and ev.details["severity"] == "moderate"
    severe = simulate(load_scenario(path, variant="severe"))
    alarms = [e for e in severe.events if e.kind == "alarm" and e.source == "monitor"]
    assert alarms and alarms[0].details["alarm"] == "spo2_low" and alarms[0].time_s > 480.0


def test_vancomycin_scenario_key_event_and_slow_variant() -> None:
    """Volumetric pump, 2 mL dead volume: the rule fires about 3 min after the start."""
    path = ROOT / "scenarios" / "vancomycin_flushing.yaml"
    res = simulate(path)
    onset = next(e for e in res.events if e.kind == "adverse_reaction")
    assert 180.0 <= onset.time_s < 240.0 and onset.details["phase"] == "onset"
    slow = simulate(load_scenario(path, variant="slow"))
    assert not [e for e in slow.events if e.kind == "adverse_reaction"]
