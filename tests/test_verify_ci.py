"""``pumpsim verify`` for CI systems: JUnit XML beside the reports, a reproduce command and the
saved event log for each failure, a crashing controller reported as its failure (with the
traceback), a crashing oracle as an error of verify (exit 2); ``hw.log`` refuses reserved
field names; the requirement verdicts are computed only when read.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import pumpsim
from pumpsim.cli import main
from pumpsim.pump.controller import ControllerError
from pumpsim.pump.reference import ReferenceController
from pumpsim.verify import verify

SUITE = Path(pumpsim.__file__).parent / "data" / "conformance"
ONE = ["pca_lockout_limit.yaml"]


class RaisesOnPress(ReferenceController):
    """A controller with a crash bug: the first PCA press raises."""

    def _pca_request(self, hw):  # type: ignore[no-untyped-def]
        raise KeyError("demand_table")


class LogsReservedField(ReferenceController):
    def on_start(self, hw):  # type: ignore[no-untyped-def]
        hw.log("my_event", time_s=hw.now)
        super().on_start(hw)


def test_junit_reproduce_and_event_log(tmp_path) -> None:
    report = verify("faulty-lockout", only=ONE)
    out = report.save(tmp_path)
    root = ET.parse(out / "junit.xml").getroot()  # well-formed XML
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name", "").split(":")[0] for c in failed] == ["OPCA R5.2.0(3)"]
    body = failed[0].find("failure").text or ""  # type: ignore[union-attr]
    assert "pumpsim run " in body and "pca_lockout_limit.yaml" in body
    assert "--controller faulty-lockout" in body and "events/pca_lockout_limit.jsonl" in body
    skipped = [c for c in suite.iter("testcase") if c.find("skipped") is not None]
    assert skipped and all("not exercised" in c.find("skipped").get("message", "")  # type: ignore[union-attr]
                           for c in skipped)  # fmt: skip
    log = (out / "events" / "pca_lockout_limit.jsonl").read_text().splitlines()
    assert log and {"time_s", "source", "kind", "details"} <= set(json.loads(log[0]))
    row = json.loads((out / "report.json").read_text())["requirements"]["OPCA R5.2.0(3)"]
    assert row["reproduce"].startswith("pumpsim run ") and row["event_log"]
    assert "## Failures: how to reproduce" in (out / "report.md").read_text()


def test_controller_that_raises_fails_with_its_traceback(tmp_path) -> None:
    report = verify(RaisesOnPress, only=ONE)
    assert report.crashed == ["pca_lockout_limit.yaml"] and report.exit_code() == 1
    run = report.runs[0]
    assert "KeyError: 'demand_table'" in (run.crashed or "") and "_pca_request" in run.crashed
    assert set(report.failed) == set(run.exercises)  # what it was designed for is not kept
    out = report.save(tmp_path)
    assert "Traceback (most recent call last)" in (out / "report.md").read_text()
    junit = (out / "junit.xml").read_text()
    assert "controller runs pca_lockout_limit.yaml" in junit and "demand_table" in junit
    assert (out / "events" / "pca_lockout_limit.jsonl").is_file()


def test_oracle_that_raises_is_exit_2_with_report(tmp_path, monkeypatch, capsys) -> None:
    import pumpsim.analysis.requirements as reqs

    def broken(pv):  # type: ignore[no-untyped-def]
        raise RuntimeError("oracle bug")

    first = reqs.REQUIREMENTS[0]
    monkeypatch.setattr(reqs, "REQUIREMENTS", (type(first)(first.id, first.text, first.also,
                                                           first.needs, broken),
                                               *reqs.REQUIREMENTS[1:]))  # fmt: skip
    monkeypatch.setattr("pumpsim.verify.suite", lambda folder=None: [(SUITE / ONE[0], [])])
    code = main(["verify", "--out", str(tmp_path), "--quiet"])
    assert code == 2
    assert f"ERROR oracle {first.id}" in capsys.readouterr().err
    assert (tmp_path / "report.md").is_file() and (tmp_path / "junit.xml").is_file()
    assert "<error" in (tmp_path / "junit.xml").read_text()


def test_hw_log_refuses_reserved_field_names() -> None:
    with pytest.raises(ControllerError, match=r"hw.log\('my_event', \.\.\.\): detail name\(s\) "
                       r"time_s are reserved"):  # fmt: skip
        pumpsim.simulate(SUITE / "reservoir_near_empty.yaml", controller=LogsReservedField)


def test_requirements_are_computed_only_when_read() -> None:
    res = pumpsim.simulate(SUITE / "reservoir_near_empty.yaml")
    lazy = res._verdicts
    assert lazy is not None and lazy.value is None  # simulate() ran no oracle
    assert res.summary["pumps"]["A"]["volume_infused_mL"] > 0 and lazy.value is None
    assert "requirements" in res.summary and lazy.value is None
    assert res.summary["requirements"]["OPCA R6.8.0(9)"]["status"] == "pass"
    assert lazy.value is not None and res.requirements["OPCA R6.8.0(9)"].status == "pass"
    assert json.loads(json.dumps(res.summary))["requirements"]  # a plain dict when written
    import pickle

    again = pickle.loads(pickle.dumps(res))  # results cross process boundaries (sweeps)
    assert again.summary == res.summary and again.requirements.keys() == res.requirements.keys()


def test_cli_verify_progress_bar(monkeypatch) -> None:
    from pumpsim.verify import run_with_progress

    monkeypatch.setattr("pumpsim.verify.suite", lambda folder=None: [(SUITE / ONE[0], [])])
    report = run_with_progress(None)  # the rich bar on stderr, then the report
    assert report.exit_code() == 0 and [r.file for r in report.runs] == ONE
