"""Scenario schema v1: loading YAML/TOML/dicts, and located, one-line errors."""

from __future__ import annotations

import copy

import pytest

from pumpsim import ScenarioError, load_scenario
from pumpsim.scenario import dump_scenario

BASE = {
    "name": "base",
    "duration": "2 h",
    "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
    "pumps": [
        {"id": "A", "drug": "propofol", "concentration": "10 mg/mL", "container": "50 mL",
         "program": [{"rate": "20 mL/h", "vtbi": "20 mL"}]}  # fmt: skip
    ],
    "events": [{"at": "30 min", "type": "bolus", "drug": "propofol", "dose": "1 mg/kg"}],
}


def with_change(path: str, value) -> dict:
    """A copy of BASE with one field (dotted path, [i] for lists) set or deleted."""
    data = copy.deepcopy(BASE)
    parts = path.replace("[", ".").replace("]", "").split(".")
    node = data
    for p in parts[:-1]:
        node = node[int(p)] if p.isdigit() else node[p]
    key = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return data


DELETE = object()


def problems(data: dict) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    return info.value.lines()


def test_base_loads_and_converts_units() -> None:
    sc = load_scenario(BASE)
    assert sc.duration == 7200.0
    assert sc.pumps[0].program[0].rate == pytest.approx(20 / 3600)
    assert sc.events[0].dose.per_kg and sc.events[0].dose.value == 1.0


def test_scenario_is_frozen() -> None:
    sc = load_scenario(BASE)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's ValidationError on frozen
        sc.name = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("path", "value", "where", "what"),
    [
        ("pumps[0].program[0].rat", "2 mL/h", "pumps[0].program[0].rat", "did you mean 'rate'"),
        ("pumps[0].program[0].rate", "-2 mL/h", "pumps[0].program[0].rate", "must not be negative"),
        ("pumps[0].drug", "propofool", "pumps[0].drug", "unknown drug 'propofool'; allowed:"),
        ("pumps[0].concentration", "10 mg/furlong", "pumps[0].concentration",
         "not a concentration"),
        ("pumps[0].concentration", "10 zorgs/mL", "pumps[0].concentration", "unknown unit"),
        ("pumps[0].program[0].vtbi", "60 mL", "pumps[0].program[0].vtbi", "more than the 50 mL"),
        ("events[0].at", "3 h", "events[0].at", "after the end of the scenario"),
        ("pumps[0].pk_model", "minto", "pumps[0].pk_model", "allowed: eleveld2018"),
        ("pumps[0].route", "nasal", "pumps[0].route", "allowed: 'iv'"),
        ("pumps[0].kind", "magic", "pumps[0].kind", "allowed: 'ideal'"),
        ("events[0].type", "bolux", "events[0]", "unknown type 'bolux'"),
        ("patient.weight", "-70 kg", "patient.weight", "between 0.3 and 350 kg"),
        ("patient.sex", "unknown", "patient.sex", "allowed: 'male' or 'female'"),
        ("pumps[0].program[0].rate", "2000 mL/h", "pumps[0].program[0].rate", "maximum"),
        ("pumps[0].concentration", DELETE, "pumps[0].concentration", "required for propofol"),
        ("duration", "30", "duration", "has no unit"),
        ("pumps[0].program[0].rate", "2 mL", "pumps[0].program[0].rate", "is not a flow"),
    ],
)
def test_bad_input_is_one_located_line(path: str, value, where: str, what: str) -> None:
    lines = problems(with_change(path, value))
    assert any(line.startswith(f"<dict>: {where}: ") and what in line for line in lines), lines
    assert all("\n" not in line for line in lines)


def test_program_step_needs_exactly_one_rate() -> None:
    data = with_change("pumps[0].program[0].dose_rate", "1 mg/kg/h")
    assert any("exactly one of 'rate'" in line for line in problems(data))


def test_event_for_unknown_pump() -> None:
    data = copy.deepcopy(BASE)
    data["events"].append({"at": "1 h", "type": "occlusion", "pump": "B"})
    assert any("events[1].pump: no pump 'B'; allowed: A" in line for line in problems(data))


def test_drug_without_pk_needs_no_concentration_and_no_patient() -> None:
    sc = load_scenario({"pumps": [{"id": "F", "drug": "fluid", "program": [{"rate": "100 mL/h"}]}]})
    assert sc.patient is None and sc.duration == 3600.0


def test_obese_patient_refused_by_schnider_not_by_eleveld() -> None:
    data = with_change("patient", {"age": "40 y", "weight": "150 kg", "height": "165 cm",
                                   "sex": "female"})  # fmt: skip
    assert any("patient: schnider1998 uses James lean body mass" in x for x in problems(data))
    data["pumps"][0]["pk_model"] = "eleveld"
    data["events"][0]["pk_model"] = "eleveld"
    load_scenario(data)


def test_one_model_per_drug() -> None:
    data = with_change("events[0].pk_model", "marsh")
    expected = "events[0].pk_model: propofol already uses schnider1998"
    assert any(expected in x for x in problems(data))


def test_design_md_example_loads_as_written(tmp_path) -> None:
    """The scenario printed in docs/design.md, verbatim, validates (every field is known)."""
    text = """\
name: Downstream occlusion on a syringe pump at 1 mL/h
duration: 4 h
output: {interval: 30 s}
patient: {age: 40 y, weight: 70 kg, height: 170 cm, sex: male}
pumps:
  - id: A
    kind: syringe            # ideal | syringe | volumetric | elastomeric
    syringe: 50 mL
    drug: morphine           # a drug the library knows, or `fluid`
    pk_model: lotsch2002     # optional; each drug has a default
    concentration: 1 mg/mL
    route: iv                # iv | sc | im | io | epidural
    line: {dead_volume: 0.3 mL, compliance: 2.5 uL/mmHg}
    program:
      - {mode: continuous, rate: 1 mL/h, vtbi: 20 mL}
events:
  - {at: 30 min, type: occlusion, pump: A, side: downstream}
  - {at: 2 h, type: clear_occlusion, pump: A}
  - {at: 3 h, type: bolus, drug: propofol, dose: 2 mg/kg, route: iv}   # manual push, no pump
  - {at: 3 h, type: adverse_reaction, reaction: anaphylaxis, severity: moderate}
"""
    path = tmp_path / "design.yaml"
    path.write_text(text)
    try:
        sc = load_scenario(path)
    except ScenarioError as exc:  # morphine arrives with the routes-and-drugs work
        pytest.fail(str(exc))
    assert sc.pumps[0].line.compliance == pytest.approx(2.5e-3)
    assert sc.events[0].type == "occlusion"


def test_toml_and_yaml_give_the_same_scenario(tmp_path) -> None:
    yaml_path = tmp_path / "s.yaml"
    toml_path = tmp_path / "s.toml"
    yaml_path.write_text(dump_scenario(load_scenario(BASE)))
    toml_path.write_text(
        """
name = "base"
duration = "2 h"
[patient]
age = "40 y"
weight = "70 kg"
height = "170 cm"
sex = "male"
[[pumps]]
id = "A"
drug = "propofol"
concentration = "10 mg/mL"
container = "50 mL"
program = [{rate = "20 mL/h", vtbi = "20 mL"}]
[[events]]
at = "30 min"
type = "bolus"
drug = "propofol"
dose = "1 mg/kg"
"""
    )
    assert load_scenario(yaml_path) == load_scenario(toml_path) == load_scenario(BASE)


def test_resolved_dump_reads_back_identically() -> None:
    sc = load_scenario(BASE)
    import yaml

    assert load_scenario(yaml.safe_load(dump_scenario(sc))) == sc


def test_file_errors_name_the_file(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: not valid YAML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "missing.yaml")
    other = tmp_path / "s.json"
    other.write_text("{}")
    with pytest.raises(ScenarioError, match="allowed: .yaml, .yml, .toml"):
        load_scenario(other)
