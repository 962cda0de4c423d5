"""``pumpsim verify``: run the conformance suite with a controller and report each requirement.

The suite (``pumpsim/data/conformance/``) is a set of scenarios designed to
exercise every testable requirement of docs/references.md [GIP2009] [OPCA2020]
[CRISYS2013]; ``suite.yaml`` says
which scenario is meant for which requirement. Every scenario runs with the
controller under test and every oracle of :mod:`pumpsim.analysis.requirements`
judges every run. A requirement fails when any run fails it, passes when at
least one run exercises it and none fails, and is otherwise not exercised. A
scenario this build cannot run (a pump kind or event not supported) is listed
as skipped.

The report (Markdown and JSON) has a traceability table: requirement →
scenario → verdict, with the time and the evidence of each failure.

>>> report = verify("pumpsim.pump.faulty:LockoutIgnoringController")  # doctest: +SKIP
>>> report.failed                                                       # doctest: +SKIP
['OPCA R5.2.0(3)']
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pumpsim._version import __version__
from pumpsim.analysis.requirements import FAIL, NOT_EXERCISED, PASS, REQUIREMENTS, Verdict

__all__ = ["verify", "Report", "ScenarioRun", "suite", "why_not"]


@dataclass
class ScenarioRun:
    """One conformance scenario run with the controller under test."""

    file: str
    name: str
    exercises: list[str]
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    skipped: str | None = None


@dataclass
class Report:
    """The conformance report of one controller."""

    controller: str
    runs: list[ScenarioRun]

    def status(self, rid: str) -> tuple[str, Verdict | None, str | None]:
        """(overall status, the deciding verdict, its scenario) of requirement ``rid``."""
        found = [(r.verdicts[rid], r.file) for r in self.runs if rid in r.verdicts]
        found.sort(
            key=lambda vf: not any(r.file == vf[1] and rid in r.exercises for r in self.runs)
        )  # designed-for runs first
        for want in (FAIL, PASS):
            for v, f in found:
                if v.status == want:
                    return want, v, f
        return NOT_EXERCISED, None, None

    @property
    def failed(self) -> list[str]:
        return [q.id for q in REQUIREMENTS if self.status(q.id)[0] == FAIL]

    @property
    def passed(self) -> list[str]:
        return [q.id for q in REQUIREMENTS if self.status(q.id)[0] == PASS]

    @property
    def not_exercised(self) -> list[str]:
        return [q.id for q in REQUIREMENTS if self.status(q.id)[0] == NOT_EXERCISED]

    def to_dict(self) -> dict[str, Any]:
        reqs = {}
        for q in REQUIREMENTS:
            status, v, where = self.status(q.id)
            reqs[q.id] = {
                "text": q.text,
                "also": list(q.also),
                "needs": q.needs,
                "status": status,
                "decided_by": where,
                "time_s": v.time_s if v else None,
                "evidence": v.evidence if v else None,
                "scenarios": {
                    r.file: r.verdicts[q.id].as_dict() for r in self.runs if q.id in r.verdicts
                },  # fmt: skip
                "designed_in": [r.file for r in self.runs if q.id in r.exercises],
            }
        return {
            "controller": self.controller,
            "pumpsim_version": __version__,
            "summary": {
                "pass": len(self.passed),
                "fail": len(self.failed),
                "not exercised": len(self.not_exercised),
            },  # fmt: skip
            "requirements": reqs,
            "scenarios": [
                {"file": r.file, "name": r.name, "exercises": r.exercises, "skipped": r.skipped}
                for r in self.runs
            ],  # fmt: skip
        }

    def to_markdown(self) -> str:
        d = self.to_dict()
        s = d["summary"]
        lines = [
            f"# Conformance report: `{self.controller}`",
            "",
            f"pumpsim {__version__}. Requirements: docs/references.md [GIP2009] [OPCA2020] "
            "[CRISYS2013] (GIP v1.0 2009, OPCA "
            "v1.0.0 2020, CRISYS 2013).",
            "",
            f"**{s['pass']} pass, {s['fail']} fail, {s['not exercised']} not exercised** "
            f"over {len(self.runs)} scenarios.",
            "",
            "## Traceability: requirement → scenario → verdict",
            "",
            "| requirement | also | requirement text | scenario(s) | verdict | time | evidence |",
            "|---|---|---|---|---|---|---|",
        ]
        for rid, r in d["requirements"].items():
            scen = ", ".join(f"{f.removesuffix('.yaml')}: {v['status']}"
                             for f, v in r["scenarios"].items()
                             if v["status"] != NOT_EXERCISED or f in r["designed_in"])  # fmt: skip
            when = f"{r['time_s'] / 60:.2f} min" if r["time_s"] is not None else ""
            mark = {"pass": "pass", "fail": "**FAIL**"}.get(r["status"], "not exercised")
            evidence = (r["evidence"] or "").replace("|", "/")
            if r["status"] == NOT_EXERCISED:
                evidence = why_not(r)
            lines.append(f"| {rid} | {', '.join(r['also'])} | {r['text']} | {scen or '-'} | "
                         f"{mark} | {when} | {evidence} |")  # fmt: skip
        lines += ["", "## Scenarios", "", "| scenario | designed to exercise | status |",
                  "|---|---|---|"]  # fmt: skip
        for run in self.runs:
            lines.append(f"| {run.file} ({run.name}) | {', '.join(run.exercises)} | "
                         f"{'skipped: ' + run.skipped if run.skipped else 'ran'} |")  # fmt: skip
        return "\n".join(lines) + "\n"

    def save(self, out_dir: str | Path) -> Path:
        """Write ``report.md`` and ``report.json`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        (out / "report.json").write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        return out


def why_not(r: dict[str, Any]) -> str:
    """Why a requirement (a row of :meth:`Report.to_dict`) was not exercised."""
    designed = [r["scenarios"][f]["evidence"] for f in r["designed_in"] if f in r["scenarios"]]
    if designed:
        return designed[0]
    if r["designed_in"]:
        return "its scenarios were skipped by this build"
    return "no scenario exercises it"


def suite(folder: str | Path | None = None) -> list[tuple[Path, list[str]]]:
    """The conformance scenarios: (file, requirement IDs it is designed for)."""
    from pumpsim.errors import Problem, ScenarioError
    from pumpsim.safeyaml import ReadError, load_text, read_bytes

    base = Path(folder) if folder is not None else Path(
        str(resources.files("pumpsim").joinpath("data/conformance")))  # fmt: skip
    label = str(base / "suite.yaml")
    try:  # bounded and data only (pumpsim.safeyaml)
        data = load_text(read_bytes(base / "suite.yaml"), "yaml")
    except ReadError as exc:
        raise ScenarioError([Problem(exc.path, exc.message)], label) from None
    out = []
    for i, row in enumerate(data["scenarios"]):
        path = base / row["file"]
        if not path.resolve().is_relative_to(base.resolve()):  # a suite stays in its folder
            raise ScenarioError([Problem(f"scenarios[{i}].file", f"{row['file']!r} is outside "
                                         f"the suite's folder {base}")], label)  # fmt: skip
        out.append((path, list(row.get("exercises", []))))
    return out


def _label(controller: Any) -> str:
    if controller is None:
        return "pumpsim.pump.reference:ReferenceController"
    if isinstance(controller, str):
        return controller
    return f"{getattr(controller, '__module__', '?')}:{getattr(controller, '__qualname__', '?')}"


def verify(
    controller: str | Callable[..., Any] | None = None,
    folder: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the conformance suite with a controller and report the requirements it keeps.

    Parameters
    ----------
    controller : str, callable or None
        A ``"module:Class"`` spec, a factory taking a
        :class:`~pumpsim.pump.controller.PumpConfig`, or None for the reference.
    folder : path, optional
        A suite folder with ``suite.yaml`` (default: pumpsim's own).
    progress : callable, optional
        Called with each scenario's file name before it runs.

    Returns
    -------
    Report
        Per scenario, the verdict (pass, fail with time and evidence, not
        exercised) of every requirement; ``to_markdown()`` is the printable report.

    References
    ----------
    docs/references.md [GIP2009] [OPCA2020] [CRISYS2013].
    """
    from pumpsim.engine.simulation import simulate
    from pumpsim.errors import NotSupportedError
    from pumpsim.pump.controller import load_controller
    from pumpsim.scenario.load import load_scenario

    factory = load_controller(controller) if isinstance(controller, str) else controller
    runs = []
    for path, exercises in suite(folder):
        sc = load_scenario(path)
        run = ScenarioRun(path.name, sc.name, exercises)
        if progress is not None:
            progress(path.name)
        try:
            res = simulate(sc, controller=factory)
        except NotSupportedError as exc:
            run.skipped = str(exc).splitlines()[0]
        else:
            run.verdicts = {rid: Verdict(rid, v["status"], v["evidence"], v["time_s"], v["pump"])
                            for rid, v in res.summary["requirements"].items()}  # fmt: skip
        runs.append(run)
    return Report(_label(controller), runs)
