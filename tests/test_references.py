"""The project cites its own documents: docs/references.md and docs/design.md.

Every citation in the package, tests, notebooks, scenarios, benchmarks and README points
into the repository, and every key it names is defined in docs/references.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "docs" / "references.md"
# the banned strings, built so that this file does not contain them literally
BANNED = ("REFERENCES" + ".md", "DESIGN" + ".md", ".." + "/shared", "shared" + "/REFERENCES")
SEARCHED = ("pumpsim", "tests", "notebooks", "scenarios", "benchmarks", "README.md", "docs")
SUFFIXES = {".py", ".ipynb", ".yaml", ".yml", ".toml", ".md", ".json", ".txt", ".csv"}
TAGS = {"V", "R", "D", "I"}


def _files() -> list[Path]:
    out: list[Path] = []
    for name in SEARCHED:
        p = ROOT / name
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out += [f for f in p.rglob("*") if f.is_file() and f.suffix in SUFFIXES
                    and ".ipynb_checkpoints" not in f.parts]  # fmt: skip
    return out


def _keys() -> set[str]:
    return set(re.findall(r"^- \*\*\[([^\]]+)\]\*\*", REFERENCES.read_text(), flags=re.M))


def test_reference_keys_are_unique() -> None:
    keys = re.findall(r"^- \*\*\[([^\]]+)\]\*\*", REFERENCES.read_text(), flags=re.M)
    assert len(keys) > 50
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_no_citation_points_outside_the_repository() -> None:
    hits = []
    for f in _files():
        text = f.read_text(errors="replace")
        for banned in BANNED:
            if banned in text:
                hits.append(f"{f.relative_to(ROOT)}: {banned}")
    assert not hits, hits


def test_every_cited_key_is_defined() -> None:
    keys = _keys()
    missing = []
    for f in _files():
        text = f.read_text(errors="replace")
        for m in re.finditer(r"docs/references\.md((?:,? ?\[[^\]\n]+\])+)", text):
            for key in re.findall(r"\[([^\]\n]+)\]", m.group(1)):
                if key not in keys and key not in TAGS:
                    missing.append(f"{f.relative_to(ROOT)}: [{key}]")
    assert not missing, missing


def test_every_model_citation_has_an_entry() -> None:
    """Each ``Citation("key", ...)`` a run can record has an entry (case and _ ignored);
    "user" (values given in a scenario) and "pumpsim" (illustrative choices) are not sources."""
    norm = {re.sub(r"[^a-z0-9]", "", k.lower()) for k in _keys()}
    missing = []
    for f in (ROOT / "pumpsim").rglob("*.py"):
        for key in re.findall(r'Citation\(\s*"(\w+)"', f.read_text()):
            if key not in ("user", "pumpsim") and re.sub(r"[^a-z0-9]", "", key.lower()) not in norm:
                missing.append(f"{f.relative_to(ROOT)}: {key}")
    assert not missing, missing


@pytest.mark.parametrize("doc", ["references.md", "design.md"])
def test_documents_are_in_the_repository(doc: str) -> None:
    assert (ROOT / "docs" / doc).stat().st_size > 1000
