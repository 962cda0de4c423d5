"""The command line: outputs, reproducibility and every error path."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pumpsim.cli import main
from tests.conftest import ROOT

SCENARIO = ROOT / "scenarios" / "propofol_rate_change.yaml"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_run_writes_every_output(tmp_path, capsys) -> None:
    code, out, _ = run(["run", str(SCENARIO), "--out", str(tmp_path / "o")], capsys)
    assert code == 0 and "schnider1998" in out
    files = {p.relative_to(tmp_path / "o").as_posix() for p in (tmp_path / "o").rglob("*")}
    assert {"timeseries.csv", "events.jsonl", "summary.json", "scenario.resolved.yaml",
            "plots/overview.png"} <= files  # fmt: skip
    header = (tmp_path / "o" / "timeseries.csv").read_text().splitlines()[0]
    assert header.startswith("time_s,pump.A.flow[mL/h]")
    for line in (tmp_path / "o" / "events.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert {"time_s", "source", "kind", "details"} <= set(record)
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["drugs"]["propofol"]["model"] == "schnider1998"
    # the resolved scenario runs again to the same result
    code, _, _ = run(["run", str(tmp_path / "o" / "scenario.resolved.yaml"), "--out",
                      str(tmp_path / "o2"), "--no-plots", "--quiet"], capsys)  # fmt: skip
    assert code == 0
    a = (tmp_path / "o" / "timeseries.csv").read_text()
    assert a == (tmp_path / "o2" / "timeseries.csv").read_text()


def test_same_seed_identical_files(tmp_path, capsys) -> None:
    for name in ("a", "b"):
        assert main(["run", str(SCENARIO), "--out", str(tmp_path / name), "--seed", "7",
                     "--no-plots", "--quiet"]) == 0  # fmt: skip
    for f in ("timeseries.csv", "events.jsonl", "summary.json", "scenario.resolved.yaml"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_validate_ok(capsys) -> None:
    code, out, _ = run(["validate", str(SCENARIO)], capsys)
    assert code == 0 and "valid" in out


BAD = {
    "typo": ("pumps:\n  - {id: A, drug: fluid, program: [{rat: 2 mL/h}]}\n",
             "bad.yaml: pumps[0].program[0].rat: unknown key 'rat' (did you mean 'rate'?)"),
    "negative": ("pumps:\n  - {id: A, drug: fluid, program: [{rate: -2 mL/h}]}\n",
                 "bad.yaml: pumps[0].program[0].rate: must not be negative"),
    "drug": ("pumps:\n  - {id: A, drug: unobtainium, program: [{rate: 2 mL/h}]}\n",
             "bad.yaml: pumps[0].drug: unknown drug 'unobtainium'; allowed:"),
    "unit": ("pumps:\n  - {id: A, drug: fluid, program: [{rate: 2 mL/fortnite}]}\n",
             "bad.yaml: pumps[0].program[0].rate: '2 mL/fortnite': unknown unit"),
    "vtbi": ("pumps:\n  - {id: A, drug: fluid, container: 50 mL,"
             " program: [{rate: 2 mL/h, vtbi: 80 mL}]}\n",
             "bad.yaml: pumps[0].program[0].vtbi: the program's volumes to be infused add up"),
    "late": ("duration: 1 h\npumps:\n  - {id: A, drug: fluid, program: [{rate: 2 mL/h}, "
             "{at: 2 h, rate: 0 mL/h}]}\n",
             "bad.yaml: pumps[0].program[1].at: 7200 s is after the end of the scenario"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_input_one_line_exit_1_nothing_written(tmp_path, capsys, case, command) -> None:
    text, expected = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out_dir = tmp_path / "out"
    argv = [command, str(path)] + (["--out", str(out_dir)] if command == "run" else [])
    code, _, err = run(argv, capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(str(tmp_path)) and expected in lines[0], lines[0]
    assert not out_dir.exists()
    assert not list(tmp_path.glob(".pumpsim-*"))


def test_debug_shows_traceback(tmp_path, capsys) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD["typo"][0])
    code, _, err = run(["--debug", "validate", str(path)], capsys)
    assert code == 1 and "Traceback" in err


def test_version_and_module_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "pumpsim", "--version"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert out.stdout.startswith("pumpsim ")


def test_models_lists_every_drug_with_citations(capsys) -> None:
    code, out, _ = run(["models"], capsys)
    assert code == 0
    for key in ("schnider1998", "eleveld2018", "minto1997", "lotsch2002", "hovorka2004",
                "heparin_mm", "goti2018", "burm1987_bupivacaine", "sanzcodina2023"):
        assert key in out
    assert "doi:10.1016/j.bja.2018.01.018" in out
    code, _, err = run(["models", "--drug", "unobtainium"], capsys)
    assert code == 1 and "unknown drug" in err
