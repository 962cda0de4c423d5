"""Ward: exact waiting times of a hand-computable small ward, dispatch policy, costs.

Hand-computed wards: one nurse at the station (position 0 m), beds 10 m apart (bed i at
10*(i+1) m), walking 1 m/s, a fixed response delay of 30 s (gsd 1), tasks 60 s. Each
expected time below is worked out in the comment next to it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pumpsim.cli import main
from pumpsim.errors import ScenarioError
from pumpsim.ward import load_ward, simulate_ward
from tests.conftest import ROOT


def small_ward(events: list[dict], beds: int = 3, **extra) -> dict:  # type: ignore[no-untyped-def]
    ward = {
        "name": "hand ward", "duration": "20 min", "seed": 0,
        "layout": {"bed_spacing": "10 m", "station": "0 m"},
        "nurses": {"count": 1, "walking_speed": "1 m/s",
                   "response": {"median": "30 s", "gsd": 1}},
        "alarms": {"occlusion": {"rate": "0/h", "task": "60 s"},
                   "idle_standby": {"rate": "0/h", "task": "60 s"}},
        "containers": {"change": "300 s", "near_empty": None},
        "beds": [{"repeat": beds, "pumps": [{"id": "A", "rate": "36 mL/h",
                                            "container": "1000 mL"}]}],
        "events": events,
    }  # fmt: skip
    ward.update(extra)
    return ward


def test_one_nurse_scripted_alarms_exact_waits() -> None:
    events = [{"at": "0 s", "bed": 0, "pump": "A", "alarm": "occlusion"},      # high, stops
              {"at": "10 s", "bed": 2, "pump": "A", "alarm": "idle_standby"},  # low
              {"at": "20 s", "bed": 1, "pump": "A", "alarm": "occlusion"}]     # high, stops
    res = simulate_ward(small_ward(events))
    calls = res.calls().set_index("bed")
    # bed 0: sets off at 0, +30 s delay, +10 m walk -> at the bed 40 s, done 100 s
    assert calls.loc[0, "wait_s"] == 0 and calls.loc[0, "response_s"] == 40
    assert calls.loc[0, "done_s"] == 100
    # free at 100 s: bed 1 (high) before bed 2 (low, older): waits 100-20 = 80 s;
    # 100 + 30 + walk 10->20 m (10 s) = 140 -> response 120 s; done 200 s
    assert calls.loc[1, "wait_s"] == 80 and calls.loc[1, "response_s"] == 120
    assert calls.loc[1, "done_s"] == 200
    # bed 2: waits 200-10 = 190 s; 200 + 30 + walk 20->30 m = 240 -> response 230 s
    assert calls.loc[2, "wait_s"] == 190 and calls.loc[2, "response_s"] == 230
    assert calls.loc[2, "done_s"] == 300
    costs = res.costs()
    # bed 0 stopped 0-100 s, bed 1 20-200 s: 280 s; at 36 mL/h = 0.01 mL/s -> 2.8 mL
    assert costs["interruptions_all"] == 2
    assert costs["interrupted_h_all"] == pytest.approx(280 / 3600, rel=1e-12)
    assert costs["not_given_mL_all"] == pytest.approx(2.8, rel=1e-12)
    # busy 0-300 s of 1200 s
    assert costs["nurse_utilisation_mean"] == pytest.approx(0.25, rel=1e-12)
    assert costs["walked_km"] == pytest.approx(0.030, rel=1e-12)  # 10 + 10 + 10 m
    burden = res.burden().set_index("priority")
    days = 1200 / 86400
    assert burden.loc["high", "alarms"] == 2 and burden.loc["low", "alarms"] == 1
    assert burden.loc["high", "per_bed_day"] == pytest.approx(2 / (3 * days))
    assert burden.loc["all", "per_nurse_hour"] == pytest.approx(3 / (1200 / 3600))
    assert burden.loc["high", "respond_median_min"] == pytest.approx((40 + 120) / 2 / 60)


def test_nearest_first_among_equal_priority() -> None:
    # busy at bed 3 (40 m) until 0+30+40+60 = 130 s; then two low calls: bed 0 (10 m,
    # older) and bed 4 (50 m): the nearer, bed 4, first
    events = [{"at": "0 s", "bed": 3, "pump": "A", "alarm": "occlusion"},
              {"at": "1 s", "bed": 0, "pump": "A", "alarm": "idle_standby"},
              {"at": "2 s", "bed": 4, "pump": "A", "alarm": "idle_standby"}]
    calls = simulate_ward(small_ward(events, beds=5)).calls().set_index("bed")
    assert calls.loc[3, "done_s"] == 130
    assert calls.loc[4, "response_s"] == 130 + 30 + 10 - 2  # walk 40 -> 50 m
    assert calls.loc[0, "response_s"] == 130 + 30 + 10 + 60 + 30 + 40 - 1  # then 50 -> 10 m


def test_new_call_goes_to_the_nearest_free_nurse() -> None:
    ward = small_ward([{"at": "0 s", "bed": 4, "pump": "A", "alarm": "occlusion"},
                       {"at": "200 s", "bed": 3, "pump": "A", "alarm": "occlusion"}],
                      beds=5)  # fmt: skip
    ward["nurses"]["count"] = 2
    calls = simulate_ward(ward).calls().set_index("bed")
    # nurse 0 goes to bed 4 (50 m) and stays there; at 200 s bed 3 (40 m) is 10 m from
    # nurse 0 and 40 m from nurse 1 at the station: nurse 0 goes, 30 + 10 s
    assert calls.loc[3, "nurse"] == 0 and calls.loc[3, "response_s"] == 40


def test_container_runs_dry_and_near_empty_prevents_it() -> None:
    pumps = [{"id": "A", "rate": "60 mL/h", "container": "10 mL", "critical": True}]
    ward = small_ward([], beds=1, duration="1000 s")
    ward["beds"][0]["pumps"] = pumps
    dry = simulate_ward(ward)
    # 10 mL at 1 mL/min: dry at 600 s; nurse 600+30+10 = 640 s, change 300 s -> 940 s
    calls = dry.calls()
    assert list(calls["kind"]) == ["reservoir_empty"] and calls.loc[0, "time_s"] == 600
    assert calls.loc[0, "done_s"] == 940
    c = dry.costs()
    assert c["dry_runs_critical"] == 1
    assert c["interrupted_h_critical"] == pytest.approx(340 / 3600)
    assert c["not_given_mL_critical"] == pytest.approx(340 / 60)
    ward["containers"]["near_empty"] = "5 min"
    ward["duration"] = "930 s"  # the new bag's alert would come at 640 + 300 = 940 s
    warned = simulate_ward(ward)
    # alert at 600-300 = 300 s, nurse at 340 s changes the bag (pump stopped 340-640 s)
    calls = warned.calls()
    assert list(calls["kind"]) == ["near_empty"] and calls.loc[0, "time_s"] == 300
    c = warned.costs()
    assert c["dry_runs_all"] == 0
    assert c["interrupted_h_all"] == pytest.approx(300 / 3600)
    assert c["not_given_mL_all"] == pytest.approx(5.0)


def test_a_waiting_near_empty_call_that_runs_dry_counts_as_high_from_then() -> None:
    ward = small_ward([{"at": "0 s", "bed": 0, "pump": "A", "alarm": "occlusion"}],
                      beds=1, duration="1500 s")  # fmt: skip
    ward["alarms"]["occlusion"]["task"] = "1000 s"  # the only nurse is busy 0-1040 s
    ward["containers"]["near_empty"] = "5 min"
    ward["beds"].append({"pumps": [{"id": "A", "rate": "60 mL/h", "container": "10 mL"}]})
    res = simulate_ward(ward)
    call = res.calls().set_index("bed").loc[1]
    # near empty at 300 s (low), dry at 600 s (high, joins the call); the nurse is free at
    # 0+30+10+1000 = 1040 s, at bed 1 at 1040+30+10 = 1080 s: 480 s after it ran dry
    assert call["priority"] == "high" and call["alarms"] == 2
    assert call["time_s"] == 300 and call["priority_since_s"] == 600
    assert call["wait_s"] == 440 and call["response_s"] == 480
    assert res.costs()["dry_runs_all"] == 1


def test_random_alarm_count_matches_poisson_in_infusing_time() -> None:
    """Alarms are a Poisson process of rate 1/h in infusing time: over infusing time T
    the count has mean T*1/h and SD sqrt(mean); allow 4 SD."""
    ward = small_ward([], beds=4, duration="500 h")
    ward["alarms"]["occlusion"]["rate"] = "1/h"
    ward["nurses"]["count"] = 4
    ward["beds"][0]["pumps"][0]["container"] = "100000 mL"
    res = simulate_ward(ward, seed=3)
    costs = res.costs()
    infusing_h = 4 * 500 - costs["interrupted_h_all"]
    n = res.burden().set_index("priority").loc["all", "alarms"]
    assert abs(n - infusing_h) < 4 * math.sqrt(infusing_h)
    again = simulate_ward(ward, seed=3)
    assert again.calls().equals(res.calls())  # same seed, identical
    assert not simulate_ward(ward, seed=4).calls().equals(res.calls())


def test_bad_ward_is_refused_with_its_path() -> None:
    ward = small_ward([{"at": "0 s", "bed": 7, "pump": "A", "alarm": "occlusion"}])
    with pytest.raises(ScenarioError, match="bed 7|beds 0..2"):
        load_ward(ward)
    ward = small_ward([])
    ward["alarms"]["sneeze"] = {"rate": "1/h"}
    with pytest.raises(ScenarioError, match="unknown alarm 'sneeze'"):
        load_ward(ward)
    ward = small_ward([])
    ward["nurses"]["walking_speed"] = "3 kg"
    with pytest.raises(ScenarioError, match=r"nurses\.walking_speed"):
        load_ward(ward)


def test_shipped_ward_and_cli(tmp_path, capsys) -> None:
    code = main(["ward", str(ROOT / "scenarios" / "ward_medsurg_30beds.yaml"),
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "30 beds, 60 pumps, 4 nurses, 7 days" in text
    assert {p.name for p in tmp_path.iterdir()} >= {"burden.csv", "calls.csv", "costs.json"}
    # the rate drawn in (0.0413 + 0.0489 + 0.029)/h per infusing pump-hour [Vitoux2018]
    # gives about 0.119 * 24 * 2 = 5.7 random alarms per bed-day, the containers add more
    res = simulate_ward(ROOT / "scenarios" / "ward_medsurg_30beds.yaml")
    per_bed_day = res.burden().set_index("priority").loc["all", "per_bed_day"]
    assert 5.0 < per_bed_day < 12.0


def test_ward_through_the_sweep(tmp_path) -> None:
    pytest.importorskip("pyarrow", reason="needs the dask extra: pip install 'pumpsim[dask]'")
    from pumpsim.sweep import sweep

    ward = small_ward([], beds=4, duration="24 h")
    ward["alarms"]["occlusion"]["rate"] = "0.5/h"
    with pytest.raises(ScenarioError, match="a ward has no virtual population"):
        sweep(ward, ["nurses.count=1,2"], out=tmp_path, population=10)
    res = sweep(ward, ["nurses.count=1,2"], out=tmp_path, replicates=2)
    frame = res.frame()
    assert len(frame) == 2 * 2 * 4  # points x priorities (high, medium, low, all)
    summary = res.summary()
    assert set(summary["runs"]) == {2}
    one, two = (summary[(summary["nurses.count"] == k) & (summary["priority"] == "all")]
                for k in (1, 2))  # fmt: skip
    assert float(two["nurse_utilisation_mean_mean"].iloc[0]) < float(
        one["nurse_utilisation_mean_mean"].iloc[0])
    assert np.isfinite(summary["per_bed_day_mean"]).all()


WARDS = sorted((ROOT / "scenarios").glob("ward_*.yaml"))


@pytest.mark.parametrize("path", WARDS, ids=[p.name for p in WARDS])
def test_every_ward_file_has_a_purpose_validates_and_runs(path, capsys) -> None:
    assert path.read_text().splitlines()[0].startswith("# Purpose: ")
    assert main(["validate", str(path)]) == 0
    assert "valid ward" in capsys.readouterr().out
    assert main(["run", str(path), "--quiet"]) == 0  # `pumpsim run` takes a ward too


def test_ward_out_never_mixes_with_the_users_files(tmp_path, capsys) -> None:
    """`pumpsim ward --out` follows `pumpsim run`'s rules: a folder of someone else's files
    is refused and untouched; an earlier pumpsim output is replaced only with --force."""
    from pumpsim.cli import main

    ward = str(Path(__file__).resolve().parents[1] / "scenarios" / "ward_medsurg_30beds.yaml")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["ward", ward, "--out", str(mine), "--quiet"]) == 1
    assert "did not write it" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    out = tmp_path / "out"
    assert main(["ward", ward, "--out", str(out), "--quiet"]) == 0
    assert (out / "burden.csv").is_file()
    assert main(["ward", ward, "--out", str(out), "--quiet"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["ward", ward, "--out", str(out), "--quiet", "--force"]) == 0
