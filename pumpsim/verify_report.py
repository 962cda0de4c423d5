"""The conformance report of :mod:`pumpsim.verify` as Markdown and as JUnit XML (for CI)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from pumpsim._version import __version__
from pumpsim.analysis.requirements import ERROR, FAIL, NOT_EXERCISED, PASS

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.verify import Report

__all__ = ["markdown", "junit"]


def markdown(report: Report) -> str:
    from pumpsim.verify import why_not

    d = report.to_dict()
    s = d["summary"]
    lines = [
        f"# Conformance report: `{report.controller}`",
        "",
        f"pumpsim {__version__}. Requirements: GIP v1.0 (2009), OPCA v1.0.0 (2020), CRISYS "
        "(2013); see docs/references.md.",
        "",
        f"**{s['pass']} pass, {s['fail']} fail, {s['not exercised']} not exercised, "
        f"{s['error']} oracle error(s)** over {len(report.runs)} scenarios"
        + (f"; the controller raised in {s['crashed scenarios']}" if s["crashed scenarios"]
           else "") + ".",
        "",
        "## Traceability: requirement → scenario → verdict",
        "",
        "| requirement | also | requirement text | scenario(s) | verdict | time | evidence |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for rid, r in d["requirements"].items():
        scen = ", ".join(f"{f.removesuffix('.yaml')}: {v['status']}"
                         for f, v in r["scenarios"].items()
                         if v["status"] != NOT_EXERCISED or f in r["designed_in"])  # fmt: skip
        when = f"{r['time_s'] / 60:.2f} min" if r["time_s"] is not None else ""
        mark = {PASS: "pass", FAIL: "**FAIL**", ERROR: "**ERROR**"}.get(r["status"],
                                                                       "not exercised")
        evidence = (r["evidence"] or "").replace("|", "/").replace("\n", " ")
        if r["status"] == NOT_EXERCISED:
            evidence = why_not(r)
        lines.append(f"| {rid} | {', '.join(r['also'])} | {r['text']} | {scen or '-'} | "
                     f"{mark} | {when} | {evidence} |")  # fmt: skip
    bad = [(rid, r) for rid, r in d["requirements"].items() if r["status"] in (FAIL, ERROR)]
    if bad:
        lines += ["", "## Failures: how to reproduce", ""]
        for rid, r in bad:
            lines += [f"### {rid} ({r['status']}, {r['decided_by']})", "",
                      f"- evidence: {r['evidence']}",
                      f"- event log: `{r['event_log']}`",
                      f"- reproduce: `{r['reproduce']}`", ""]  # fmt: skip
    for run in report.runs:
        if run.crashed:
            lines += ["", f"## The controller raised in {run.file}", "",
                      f"reproduce: `{report.command(run)}`; event log up to the crash: "
                      f"`events/{Path(run.file).stem}.jsonl`", "", "```", run.crashed.rstrip(),
                      "```"]  # fmt: skip
    lines += ["", "## Scenarios", "", "| scenario | designed to exercise | status |",
              "|---|---|---|"]  # fmt: skip
    for run in report.runs:
        state = ("skipped: " + run.skipped if run.skipped else
                 "**controller raised**" if run.crashed else "ran")  # fmt: skip
        lines.append(f"| {run.file} ({run.name}) | {', '.join(run.exercises)} | {state} |")
    return "\n".join(lines) + "\n"


def junit(report: Report) -> str:
    """JUnit XML: a ``testsuite`` per controller; a ``testcase`` per requirement (failure,
    error or skipped = not exercised) and one per scenario the controller crashed in."""
    d = report.to_dict()
    cls = f"pumpsim.verify.{report.controller}"
    cases = []
    for rid, r in d["requirements"].items():
        case = ET.Element("testcase", classname=cls, name=f"{rid}: {r['text']}")
        body = (f"scenario: {r['decided_by']}\ntime_s: {r['time_s']}\n"
                f"evidence: {r['evidence']}\nreproduce: {r['reproduce']}\n"
                f"event log: {r['event_log']}")  # fmt: skip
        message = str(r["evidence"])
        if r["status"] == FAIL:
            ET.SubElement(case, "failure", message=message, type="requirement").text = body
        elif r["status"] == ERROR:
            ET.SubElement(case, "error", message=message, type="oracle").text = body
        elif r["status"] == NOT_EXERCISED:
            from pumpsim.verify import why_not

            ET.SubElement(case, "skipped", message=f"not exercised: {why_not(r)}")
        cases.append(case)
    for run in report.runs:
        if run.crashed:
            case = ET.Element("testcase", classname=cls, name=f"controller runs {run.file}")
            last = run.crashed.strip().splitlines()[-1]
            crash = ET.SubElement(case, "failure", message=f"the controller raised: {last}",
                                  type="controller")  # fmt: skip
            crash.text = f"scenario: {run.path}\nreproduce: {report.command(run)}\n\n{run.crashed}"
            cases.append(case)
    suite = ET.Element(
        "testsuite", name=f"pumpsim verify {report.controller}", tests=str(len(cases)),
        failures=str(sum(1 for c in cases if c.find("failure") is not None)),
        errors=str(sum(1 for c in cases if c.find("error") is not None)),
        skipped=str(sum(1 for c in cases if c.find("skipped") is not None)),
    )  # fmt: skip
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
