"""The published JSON Schema of scenario files (docs/scenario.schema.json).

It is generated from the pydantic models, so it must equal a fresh generation; every
shipped scenario must validate against it with an independent validator (``jsonschema``),
and it must refuse what the loader refuses by shape (unknown keys, a bare number where a
quantity with its unit belongs, an unknown event type).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from pumpsim.cli import main
from pumpsim.scenario.json_schema import scenario_json_schema, scenario_json_schema_text

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "docs" / "scenario.schema.json"
# ward files (a ward of beds, `pumpsim ward`) have their own format, checked in test_ward
SHIPPED = sorted(p for p in (ROOT / "scenarios").glob("*.y*ml")
                 if not p.name.startswith("ward_")) + sorted(
    p for p in (ROOT / "pumpsim" / "data" / "conformance").glob("*.yaml") if p.name != "suite.yaml"
)


def _load(path: Path) -> object:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def validator() -> object:
    schema = json.loads(PUBLISHED.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_published_schema_is_up_to_date() -> None:
    assert PUBLISHED.read_text() == scenario_json_schema_text(), (
        "regenerate: pumpsim schema > docs/scenario.schema.json"
    )


def test_cli_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == scenario_json_schema()


def test_shipped_scenario_count() -> None:
    assert len(SHIPPED) >= 19


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_validates(validator: object, path: Path) -> None:
    errors = [e.message for e in validator.iter_errors(_load(path))]  # type: ignore[attr-defined]
    assert not errors, errors[:3]


def _base() -> dict:
    return copy.deepcopy(_load(ROOT / "scenarios" / "occlusion_syringe.yaml"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(durration="4 h"),  # a typo of a top-level key
        lambda d: d.update(duration=4),  # a quantity without its unit
        lambda d: d["pumps"][0].update(kind="teleporter"),
        lambda d: d["patient"].update(weight="seventy kg"),
        lambda d: d.setdefault("events", []).append({"at": "1 h", "type": "meteor"}),
    ],
    ids=["typo", "bare-number", "unknown-kind", "not-a-number", "unknown-event"],
)
def test_schema_refuses_what_the_loader_refuses(validator: object, change) -> None:
    from pumpsim import load_scenario
    from pumpsim.errors import PumpsimError

    doc = _base()
    load_scenario(copy.deepcopy(doc))  # the unchanged base is valid for both
    assert not list(validator.iter_errors(doc))  # type: ignore[attr-defined]
    change(doc)
    assert list(validator.iter_errors(doc))  # type: ignore[attr-defined]
    with pytest.raises(PumpsimError):
        load_scenario(doc)


def test_citation_cff_and_license_match_the_package() -> None:
    """CITATION.cff is CFF 1.2.0 with the package's version and license (pyproject's SPDX)."""
    from pumpsim import __version__

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff)
    assert cff["version"] == __version__
    assert cff["license"] == "BSD-3-Clause"
    assert 'license = "BSD-3-Clause"' in (ROOT / "pyproject.toml").read_text()
    assert "BSD 3-Clause License" in (ROOT / "LICENSE").read_text()
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()
