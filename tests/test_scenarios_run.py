"""Every scenario in scenarios/ has a one-line purpose, validates and runs."""

from __future__ import annotations

import pytest

from pumpsim import load_scenario, simulate
from tests.conftest import ROOT

FILES = sorted(p for p in (ROOT / "scenarios").iterdir() if p.suffix in (".yaml", ".yml", ".toml"))


def test_there_are_scenarios() -> None:
    assert FILES


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_scenario_runs(path, tmp_path) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# Purpose: "), f"{path.name} lacks its one-line purpose"
    sc = load_scenario(path)
    res = simulate(sc)
    assert len(res.timeseries) > 1
    assert res.events[0].kind == "start" and res.events[-1].kind == "end"
    for drug in res.summary["drugs"].values():
        assert abs(drug["mass_balance_error"]) <= 1e-9 * max(drug["given"], 1.0)
