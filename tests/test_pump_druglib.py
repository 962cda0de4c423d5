"""Drug library (DERS): limits as data, soft limits need confirmation, hard limits refuse.

Sources: docs/references.md [DERS] (lower hard / lower soft / upper soft / upper hard
limits per drug and care area; soft needs an acknowledged override, hard
blocks, every breach logged; PCA morphine 0.5-2 mg, 5-10 min, 30 mg / 4 h) and
§5 (GIP 6.1.3 / 6.1.4). Heparin 18 U/kg/h (Raschke 1993, §1) sits inside the
example library's soft range.
"""

from __future__ import annotations

import pytest

from pumpsim import ScenarioError, load_scenario, simulate
from pumpsim.pump.druglib import DrugLibraryError, builtin_library, load_library

W = 70.0  # kg
HEPARIN = 100.0  # U/mL


def u_kg_h(rate_ml_h: float) -> float:
    return rate_ml_h * HEPARIN / W


def test_builtin_library_is_realistic_data() -> None:
    lib = builtin_library()
    assert set(lib.care_areas) >= {"icu", "med_surg", "anesthesia"}
    assert len({e.drug for e in lib.entries}) >= 10
    morphine = lib.entry("morphine", "med_surg", 1.0)
    assert morphine.pca is not None and morphine.pca.window == 4 * 3600.0
    # the published regimen (docs/references.md [Raschke1993] [PCAAdult]) is inside every limit
    assert morphine.check_pca(1.0, 360.0, 30.0, 4 * 3600.0, 0.0, 1.0, W) == []


@pytest.mark.parametrize(("u_per_kg_h", "level", "bound"), [
    (18.0, None, None),      # Raschke: within the soft limits
    (4.0, "soft", "lower"),
    (30.0, "soft", "upper"),
    (45.0, "hard", "upper"),
])  # fmt: skip
def test_heparin_rate_limits(u_per_kg_h: float, level, bound) -> None:
    entry = builtin_library().entry("heparin", "med_surg", HEPARIN)
    rate = u_per_kg_h * W / HEPARIN / 3600  # mL/s
    breach = entry.check_rate(rate, HEPARIN, W)
    assert (breach.level if breach else None, breach.bound if breach else None) == (level, bound)
    if breach:
        assert breach.unit == "U/kg/h" and breach.value == pytest.approx(u_per_kg_h)


def test_pca_hard_limits_and_window_scaling() -> None:
    entry = builtin_library().entry("morphine", "med_surg", 1.0)
    found = {b.field: b.level for b in entry.check_pca(4.0, 180.0, 30.0, 3600.0, 0.0, 1.0, W)}
    # 4 mg > 3 mg hard; 3 min < 4 min hard; 30 mg per 1 h is 120 mg per 4 h > 40 mg hard
    assert found == {"demand_dose": "hard", "lockout": "hard", "limit": "hard"}


def test_lookup_errors_say_what_is_allowed() -> None:
    lib = builtin_library()
    with pytest.raises(DrugLibraryError, match="allowed: icu"):
        lib.entry("morphine", "nowhere", 1.0)
    with pytest.raises(DrugLibraryError, match="the library has: 1 mg/mL"):
        lib.entry("morphine", "med_surg", 2.0)


def test_user_library_file(tmp_path) -> None:
    path = tmp_path / "lib.yaml"
    path.write_text(
        "care_areas: {ward: Ward}\nentries:\n"
        "  - {drug: fluid, care_area: ward, continuous: {upper_hard: 100 mL/h}}\n"
    )
    lib = load_library(path)
    assert lib.entry("fluid", "ward").check_rate(200 / 3600, None, None).level == "hard"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "care_areas: {ward: Ward}\nentries:\n"
        "  - {drug: fluid, care_area: ward, continuous: {upper_hard: 100 mg}}\n"
        "  - {drug: fluid, care_area: ward, continuous: {upper_hardd: 1 mL/h}}\n"
    )
    with pytest.raises(DrugLibraryError, match=r"entries\[1\]\.continuous: unknown key"):
        load_library(bad)


def heparin_scenario(program_rate: str, events: list[dict]) -> dict:
    return {
        "duration": "2 h", "output": {"interval": "10 s"}, "drug_library": "builtin",
        "patient": {"age": "60 y", "weight": "70 kg", "height": "175 cm", "sex": "male"},
        "pumps": [{"id": "A", "drug": "heparin", "concentration": "100 U/mL",
                   "care_area": "med_surg", "container": "500 mL",
                   "program": [{"dose_rate": program_rate}]}],
        "events": events,
    }  # fmt: skip


def test_soft_limit_waits_for_confirmation() -> None:
    """GIP 6.1.4: 30 U/kg/h is above the 25 U/kg/h soft limit: the pump waits in programming
    until the scripted confirmation at 2 min, then runs; the breach is logged."""
    res = simulate(heparin_scenario("30 U/kg/h", [{"at": "2 min", "type": "confirm",
                                                    "pump": "A"}]))  # fmt: skip
    flow = res.timeseries["pump.A.flow[mL/h]"]
    assert flow.loc[60.0] == 0.0 and flow.loc[120.0] == pytest.approx(30 * 70 / 100)
    (ders,) = [e for e in res.events if e.kind == "ders"]
    assert (ders.details["level"], ders.details["bound"], ders.time_s) == ("soft", "upper", 0.0)
    assert res.timeseries["pump.A.state"].loc[60.0] == "programming"
    assert res.summary["requirements"]["GIP 6.1.3"]["status"] == "pass"


def test_soft_limit_without_confirmation_never_runs() -> None:
    res = simulate(heparin_scenario("30 U/kg/h", []))
    assert res.timeseries["pump.A.flow[mL/h]"].max() == 0.0
    assert "program_unfinished" in [e.details["alarm"] for e in res.events if e.kind == "alarm"]


def test_hard_limits_refuse_with_the_reason() -> None:
    """GIP 6.1.3: a hard-limit titration and bolus are refused with the reason; the running
    18 U/kg/h (Raschke) goes on unchanged."""
    res = simulate(heparin_scenario("18 U/kg/h", [
        {"at": "10 min", "type": "titrate", "pump": "A", "dose_rate": "45 U/kg/h"},
        {"at": "20 min", "type": "clinician_bolus", "pump": "A", "dose": "120 U/kg"},
    ]))  # fmt: skip
    refused = [e for e in res.events if e.kind.endswith("_refused")]
    assert [(e.kind, e.time_s) for e in refused] == [
        ("titrate_refused", 600.0),
        ("clinician_bolus_refused", 1200.0),
    ]
    assert "hard upper limit 40 U/kg/h" in refused[0].details["reason"]
    assert res.timeseries["pump.A.flow[mL/h]"].max() == pytest.approx(18 * 70 / 100)


def test_scenario_checks_care_area_and_concentration() -> None:
    sc = heparin_scenario("18 U/kg/h", [])
    sc["pumps"][0]["care_area"] = "theatre"
    with pytest.raises(ScenarioError) as err:
        load_scenario(sc)
    assert err.value.problems[0].path == "pumps[0].care_area"
    sc["pumps"][0].update(care_area="icu", concentration="50 U/mL")
    with pytest.raises(ScenarioError) as err:
        load_scenario(sc)
    assert err.value.problems[0].path == "pumps[0].concentration"
