"""Output a user can trust, and scenario files that are data, not code.

Driven through ``pumpsim.cli.main`` (and the Python API, and one real subprocess):
``--out`` is written whole or not at all and never mixes with or deletes the user's
files; tables show units and numbers; options are never silently ignored; a file's
controller runs only when the user allows it, and its paths stay in its folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pumpsim import simulate
from pumpsim.cli import main
from pumpsim.compare import compare_routes
from pumpsim.errors import ScenarioError
from pumpsim.io import MARKER, OutputError
from pumpsim.scenario import load_scenario
from tests.conftest import ROOT

FLUID = "duration: 10 min\npumps: [{id: A, drug: fluid, program: [{rate: 10 mL/h}]}]\n"
PCA = ("duration: 1 h\npumps: [{id: A, drug: fluid, program: "
       "[{mode: pca, demand_dose: 1 mL, lockout: 6 min}]}]\n"
       "events: [{at: 0 min, type: pca_press, pump: A, every: 1 min}]\n")  # fmt: skip
#: a controller module that leaves a mark when it is imported (so a test can see it was not)
MARKING = '''
from pathlib import Path
Path(__file__).with_name("imported.txt").write_text("ran")
from pumpsim.pump.reference import ReferenceController as Mine
'''


def scenario(tmp_path: Path, text: str = FLUID, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "internal error" not in lines[0] and "Traceback" not in lines[0]
    return lines[0]


def no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".pumpsim-")]


# -- --out: whole or nothing, never the user's files ---------------------------------------


def test_out_refuses_a_folder_with_the_users_files(tmp_path, capsys) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    argv = ["run", str(scenario(tmp_path)), "--out", str(out), "--no-plots"]
    assert main(argv) == 1
    assert "not empty and pumpsim did not write it" in one_line(capsys)
    assert main([*argv, "--force"]) == 1  # --force never deletes what pumpsim did not write
    assert "not empty and pumpsim did not write it" in one_line(capsys)
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]
    no_leftovers(tmp_path)


def test_out_replaces_an_earlier_run_only_with_force(tmp_path, capsys) -> None:
    out = tmp_path / "o"
    argv = ["run", str(scenario(tmp_path)), "--out", str(out), "--no-plots", "--quiet"]
    assert main(argv) == 0
    assert (out / MARKER).is_file() and (out / "summary.json").is_file()
    (out / "stale.csv").write_text("from before")
    assert main(argv) == 1
    assert "holds the results of an earlier run; pumpsim replaces them only with --force" in (
        one_line(capsys))
    assert (out / "stale.csv").exists()  # untouched
    assert main([*argv, "--force"]) == 0
    assert not (out / "stale.csv").exists()  # replaced as a whole, not mixed
    assert {"timeseries.csv", "summary.json", MARKER} <= {p.name for p in out.iterdir()}
    no_leftovers(tmp_path)


def test_default_out_folder_is_pumpsims_own_and_is_replaced(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = scenario(tmp_path)
    for _ in range(2):
        assert main(["run", str(path), "--no-plots", "--quiet"]) == 0
    assert (tmp_path / "out" / "s" / "summary.json").is_file()


@pytest.mark.parametrize("where", ["file", "under a file"])
def test_out_a_file_or_an_impossible_place_is_one_line(tmp_path, capsys, where) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep")
    out = blocker if where == "file" else blocker / "sub"
    assert main(["run", str(scenario(tmp_path)), "--out", str(out), "--no-plots"]) == 1
    line = one_line(capsys)
    assert line.startswith(str(out)) and ("is a file" in line or "cannot write" in line), line
    assert blocker.read_text() == "keep"
    no_leftovers(tmp_path)


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_an_interrupted_or_failed_write_leaves_nothing(tmp_path, capsys, monkeypatch,
                                                      failure) -> None:  # fmt: skip
    import pumpsim.plot

    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(pumpsim.plot, "save_plots", broken)
    out = tmp_path / "o"
    code = main(["run", str(scenario(tmp_path)), "--out", str(out)])
    assert code == (130 if failure is KeyboardInterrupt else 1)
    if code == 1:
        assert "No space left on device" in one_line(capsys)
    assert not out.exists()
    no_leftovers(tmp_path)


def test_closed_pipe_is_one_line_exit_1_and_files_complete(tmp_path) -> None:
    """``pumpsim run ... | head -0``: a real process whose reader left before it printed."""
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "pumpsim", "run", str(scenario(tmp_path)),
                             "--out", str(out), "--no-plots"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before pumpsim writes a byte
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    lines = err.strip().splitlines()
    assert lines == ["pumpsim: the output pipe was closed before pumpsim finished writing "
                     "(its files are complete)"], err  # fmt: skip
    assert json.loads((out / "summary.json").read_text())["pumps"]["A"]


# -- tables: units, drugs and numbers --------------------------------------------------------


def test_tables_show_units_and_name_each_drug(tmp_path, capsys) -> None:
    text = ("duration: 30 min\noutput: {interval: 30 s}\n"
            "patient: {age: 40 y, weight: 70 kg, height: 170 cm, sex: male}\n"
            "events:\n  - {at: 0 min, type: bolus, drug: propofol, dose: 1 mg/kg, route: iv}\n"
            "  - {at: 0 min, type: bolus, drug: morphine, dose: 5 mg, route: iv}\n"
            "variants: {late: {'events[0].at': 5 min}}\n")  # fmt: skip
    path = scenario(tmp_path, text)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--compare", "--no-plots"]) == 0
    out = capsys.readouterr().out
    # one table per drug, its title naming the drug, each concentration column its unit
    assert "2 arms: propofol" in out and "2 arms: morphine" in out
    assert "Cmax [ug/mL]" in out and "Cmax [ng/mL]" in out and "Tmax [min]" in out
    assert not (tmp_path / "o" / "plots").exists()  # --no-plots is honoured by --compare
    assert main(["run", str(path), "--out", str(tmp_path / "p"), "--no-plots"]) == 0
    assert "infused [mL]" not in capsys.readouterr().out  # no pump: no pump table
    assert main(["run", str(scenario(tmp_path, FLUID, "f.yaml")), "--out", str(tmp_path / "q"),
                 "--no-plots"]) == 0  # fmt: skip
    assert "infused [mL]" in capsys.readouterr().out


def test_route_table_numbers_are_numbers() -> None:
    comp = compare_routes("morphine", "5 mg", routes=["iv", "sc"], duration="1 h")
    table = comp.table()
    assert table["F"].dtype.kind == "f"
    # the bioavailability of the route data as published in the model (IV is 1 by definition)
    assert table.set_index("route").loc["iv", "F"] == 1.0


def test_markup_in_names_is_shown_literally(tmp_path, capsys) -> None:
    text = "name: dose [bold]x[/bold] [mL]\n" + FLUID
    assert main(["run", str(scenario(tmp_path, text)), "--out", str(tmp_path / "o"),
                 "--no-plots"]) == 0  # fmt: skip
    assert "dose [bold]x[/bold] [mL]" in capsys.readouterr().out


def test_long_jobs_show_progress_on_a_terminal(tmp_path, capsys, monkeypatch) -> None:
    argv = ["routes", "--drug", "morphine", "--dose", "5 mg", "--routes", "iv,sc",
            "--duration", "10 min", "--out", str(tmp_path / "r")]  # fmt: skip
    assert main(argv) == 0
    assert "by route" not in capsys.readouterr().err  # not a terminal: no bar in the output
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stderr as a terminal
    assert main([*argv, "--force"]) == 0
    err = capsys.readouterr().err
    assert "5 mg morphine by route" in err and "/2" in err  # a bar of the two routes


# -- options never silently ignored ----------------------------------------------------------


def test_compare_runs_the_controller_under_test(tmp_path, capsys) -> None:
    path = scenario(tmp_path, PCA + "variants: {short: {duration: 30 min}}\n")
    out = tmp_path / "o"
    assert main(["run", str(path), "--compare", "--out", str(out), "--no-plots", "--controller",
                 "pumpsim.pump.faulty:LockoutIgnoringController"]) == 0  # fmt: skip
    for arm in ("base", "short"):
        summary = json.loads((out / "arms" / arm / "summary.json").read_text())
        # the faulty controller gives a dose at every press, inside the lockout: the
        # lockout requirement fails in both arms (the reference controller passes it)
        assert summary["requirements"]["OPCA R5.2.0(3)"]["status"] == "fail", arm
    assert main(["run", str(path), "--compare", "--out", str(tmp_path / "r"), "--no-plots"]) == 0
    summary = json.loads((tmp_path / "r" / "arms" / "base" / "summary.json").read_text())
    assert summary["requirements"]["OPCA R5.2.0(3)"]["status"] == "pass"


@pytest.mark.parametrize(("argv", "expected"), [
    (["run", "{s}", "--compare", "--variant", "v"], "--compare runs every variant"),
    (["bench", "trumpet", "--pump", "volumetric", "--syringe", "20 mL"], "--syringe: a volumetric"),
    (["bench", "occlusion", "--rate", "1 mL/h", "--rates", "1,2 mL/h"], "--rate and --rates"),
    (["bench", "trumpet", "--pump", "volumetric", "--purge"], "--purge: only a syringe pump"),
])  # fmt: skip
def test_conflicting_options_are_refused(tmp_path, capsys, argv, expected) -> None:
    path = scenario(tmp_path, FLUID + "variants: {v: {duration: 5 min}}\n")
    argv = [a.replace("{s}", str(path)) for a in argv] + ["--out", str(tmp_path / "o")]
    assert main(argv) == 1
    assert expected in one_line(capsys)
    assert not (tmp_path / "o").exists()


# -- a scenario file is data, not code -------------------------------------------------------


def test_a_files_controller_runs_only_when_allowed(tmp_path, capsys) -> None:
    (tmp_path / "mine.py").write_text(MARKING)
    path = scenario(tmp_path, "controller: mine.py:Mine\n" + FLUID)
    mark = tmp_path / "imported.txt"
    for argv in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "o")]):
        assert main(argv) == 1
        line = one_line(capsys)
        assert "controller: 'mine.py:Mine' is code: a scenario file runs no code unless you " \
               "allow it; run with --allow-controller" in line
        assert not mark.exists()
    assert main(["validate", str(path), "--allow-controller"]) == 0
    assert not mark.exists()  # validating never imports, even when allowed
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--allow-controller",
                 "--no-plots", "--quiet"]) == 0  # fmt: skip
    assert mark.read_text() == "ran"
    mark.unlink()
    # naming a controller on the command line is the user's choice: the file's is not run
    assert main(["run", str(path), "--out", str(tmp_path / "p"), "--no-plots", "--quiet",
                 "--controller", "reference"]) == 0  # fmt: skip
    assert not mark.exists()


def test_python_api_needs_the_same_permission(tmp_path) -> None:
    (tmp_path / "mine.py").write_text(MARKING)
    path = scenario(tmp_path, "controller: mine.py:Mine\n" + FLUID)
    with pytest.raises(ScenarioError, match="allow_controller=True"):
        simulate(path)
    assert not (tmp_path / "imported.txt").exists()
    res = simulate(path, allow_controller=True)
    assert (tmp_path / "imported.txt").exists()
    assert res.summary["pumps"]["A"]["volume_infused_mL"] == pytest.approx(10.0 / 6.0)
    # pumpsim's own controllers are not foreign code
    assert load_scenario({**json.loads(json.dumps({"controller": "faulty-lockout"})),
                          "pumps": []}).controller == "faulty-lockout"  # fmt: skip


LIBRARY = ROOT / "pumpsim" / "data" / "druglib.yaml"


def test_library_paths_stay_in_the_scenarios_folder(tmp_path, capsys) -> None:
    home = tmp_path / "scenarios"
    home.mkdir()
    common = tmp_path / "common"
    common.mkdir()
    (home / "lib.yaml").write_text(LIBRARY.read_text())
    (common / "lib.yaml").write_text(LIBRARY.read_text())
    inside = scenario(home, "drug_library: lib.yaml\n" + FLUID, "in.yaml")
    assert main(["validate", str(inside)]) == 0
    outside = scenario(home, "drug_library: ../common/lib.yaml\n" + FLUID, "out.yaml")
    assert main(["validate", str(outside)]) == 1
    assert "drug_library: '../common/lib.yaml' is outside the scenario's folder" in (
        one_line(capsys))
    assert main(["validate", str(outside), "--allow-path", str(common)]) == 0
    link = home / "sneaky.yaml"
    link.symlink_to(common / "lib.yaml")  # a link inside that points outside is outside
    linked = scenario(home, "drug_library: sneaky.yaml\n" + FLUID, "link.yaml")
    assert main(["validate", str(linked)]) == 1
    assert "is outside the scenario's folder" in one_line(capsys)


def test_python_save_is_whole_and_asks_before_replacing(tmp_path) -> None:
    res = simulate(load_scenario({"duration": "10 min", "pumps": [
        {"id": "A", "drug": "fluid", "program": [{"rate": "10 mL/h"}]}]}))  # fmt: skip
    out = tmp_path / "o"
    res.save(out, plots=False)
    with pytest.raises(OutputError, match="only with --force \\(Python: force=True\\)"):
        res.save(out, plots=False)
    res.save(out, plots=False, force=True)
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "events.jsonl",
        "scenario.resolved.yaml", "summary.json", "timeseries.csv"])  # fmt: skip
    no_leftovers(tmp_path)


def test_the_files_own_plot_setting_is_honoured(tmp_path, capsys) -> None:
    path = scenario(tmp_path, FLUID + "output: {plots: false}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert not (tmp_path / "o" / "plots").exists()
