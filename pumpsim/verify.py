"""``pumpsim verify``: run the conformance suite with a controller and report each requirement.

The suite (``pumpsim/data/conformance/``) is a set of scenarios designed to
exercise every testable requirement (the sources are listed in ``docs/references.md``:
GIP, OPCA, CRISYS); ``suite.yaml`` says which scenario is meant for which requirement.
Every scenario runs with the controller under test and every oracle of
:mod:`pumpsim.analysis.requirements` judges every run. A requirement fails when any run
fails it, passes when at least one run exercises it and none fails, and is otherwise
"not exercised" — never "pass" without evidence. A scenario this build cannot run (a pump
kind or event not supported) is listed as skipped.

Three outcomes are kept apart:

* a requirement broken: ``fail`` (exit 1 from the CLI);
* the controller under test raised: a failure of that controller — the scenario is
  ``crashed``, its traceback is in the report and every requirement it was designed for
  fails (exit 1);
* an oracle raised: an error of verify itself (``error``; the report is still written,
  exit 2).

The report (Markdown, JSON and JUnit XML) has a traceability table: requirement →
scenario → verdict, with the time and the evidence of each failure, the command that
reproduces it and the saved event log of the failing run.

>>> report = verify("pumpsim.pump.faulty:LockoutIgnoringController")  # doctest: +SKIP
>>> report.failed                                                       # doctest: +SKIP
['OPCA R5.2.0(3)']
"""

from __future__ import annotations

import json
import shlex
import sys
import traceback
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pumpsim._version import __version__
from pumpsim.analysis.requirements import (
    ERROR,
    FAIL,
    NOT_EXERCISED,
    PASS,
    REQUIREMENTS,
    Verdict,
)

__all__ = ["verify", "Report", "ScenarioRun", "suite", "why_not", "load_factory"]


@dataclass
class ScenarioRun:
    """One conformance scenario run with the controller under test."""

    file: str
    name: str
    exercises: list[str]
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    skipped: str | None = None
    crashed: str | None = None  # the controller's traceback
    path: str = ""
    events: list[Any] = field(default_factory=list, repr=False)


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
        for want in (ERROR, FAIL, PASS):
            for v, f in found:
                if v.status == want:
                    return want, v, f
        return NOT_EXERCISED, None, None

    def _with(self, status: str) -> list[str]:
        return [q.id for q in REQUIREMENTS if self.status(q.id)[0] == status]

    @property
    def failed(self) -> list[str]:
        return self._with(FAIL)

    @property
    def passed(self) -> list[str]:
        return self._with(PASS)

    @property
    def not_exercised(self) -> list[str]:
        return self._with(NOT_EXERCISED)

    @property
    def errors(self) -> list[str]:
        """Requirements whose oracle raised (an error of verify, not of the controller)."""
        return self._with(ERROR)

    @property
    def crashed(self) -> list[str]:
        """Scenarios in which the controller under test raised."""
        return [r.file for r in self.runs if r.crashed]

    def exit_code(self) -> int:
        """0 all kept, 1 a requirement failed or the controller raised, 2 an oracle raised."""
        return 2 if self.errors else (1 if self.failed or self.crashed else 0)

    def command(self, run: ScenarioRun) -> str:
        """The shell command that reruns ``run`` with the controller under test."""
        out = f"out/repro-{Path(run.file).stem}"
        return shlex.join(["pumpsim", "run", run.path or run.file, "--controller",
                           self.controller, "--out", out])  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        reqs = {}
        by_file = {r.file: r for r in self.runs}
        for q in REQUIREMENTS:
            status, v, where = self.status(q.id)
            run = by_file.get(where or "")
            reqs[q.id] = {
                "text": q.text,
                "also": list(q.also),
                "needs": q.needs,
                "status": status,
                "decided_by": where,
                "time_s": v.time_s if v else None,
                "evidence": v.evidence if v else None,
                "reproduce": self.command(run) if run and status in (FAIL, ERROR) else None,
                "event_log": f"events/{Path(where or '').stem}.jsonl"
                if run and status in (FAIL, ERROR) else None,
                "scenarios": {
                    r.file: r.verdicts[q.id].as_dict() for r in self.runs if q.id in r.verdicts
                },  # fmt: skip
                "designed_in": [r.file for r in self.runs if q.id in r.exercises],
            }  # fmt: skip
        return {
            "controller": self.controller,
            "pumpsim_version": __version__,
            "summary": {
                "pass": len(self.passed),
                "fail": len(self.failed),
                "not exercised": len(self.not_exercised),
                "error": len(self.errors),
                "crashed scenarios": len(self.crashed),
            },  # fmt: skip
            "requirements": reqs,
            "scenarios": [
                {"file": r.file, "name": r.name, "exercises": r.exercises, "skipped": r.skipped,
                 "crashed": r.crashed, "path": r.path}
                for r in self.runs
            ],  # fmt: skip
        }

    def to_markdown(self) -> str:
        from pumpsim.verify_report import markdown

        return markdown(self)

    def to_junit(self) -> str:
        """The report as JUnit XML: one test case per requirement and per crashed scenario."""
        from pumpsim.verify_report import junit

        return junit(self)

    def save(self, out_dir: str | Path) -> Path:
        """Write ``report.md``, ``report.json``, ``junit.xml`` and the event log of every
        failing or crashed run (``events/<scenario>.jsonl``) into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        keep = {r["decided_by"] for r in self.to_dict()["requirements"].values()
                if r["status"] in (FAIL, ERROR)} | set(self.crashed)  # fmt: skip
        for run in self.runs:
            if run.file in keep:
                (out / "events").mkdir(exist_ok=True)
                text = "".join(e.to_json() + "\n" for e in run.events)
                (out / "events" / f"{Path(run.file).stem}.jsonl").write_text(text, "utf-8")
        (out / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        (out / "report.json").write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        (out / "junit.xml").write_text(self.to_junit(), encoding="utf-8")
        return out


def why_not(r: dict[str, Any]) -> str:
    """Why a requirement (a row of :meth:`Report.to_dict`) was not exercised."""
    designed = [r["scenarios"][f]["evidence"] for f in r["designed_in"] if f in r["scenarios"]]
    if designed:
        return str(designed[0])
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


def load_factory(controller: str | Callable[..., Any] | None) -> Callable[..., Any] | None:
    """The controller factory verify runs: the one place a ``--controller`` spec is turned
    into a factory (None: the reference controller)."""
    from pumpsim.pump.controller import load_controller

    return load_controller(controller) if isinstance(controller, str) else controller


def _run_one(sc: Any, factory: Any, run: ScenarioRun) -> None:
    """Run one scenario; a controller that raises marks the run crashed (with its traceback)."""
    from pumpsim.analysis.requirements import evaluate_result
    from pumpsim.engine.simulation import Simulation
    from pumpsim.errors import NotSupportedError

    try:
        sim = Simulation(sc, controller=factory)
    except NotSupportedError as exc:
        run.skipped = str(exc).splitlines()[0]
        return
    try:
        res = sim.run()
    except NotSupportedError as exc:
        run.skipped = str(exc).splitlines()[0]
        return
    except Exception:  # the controller under test (or what it commanded) raised
        run.crashed = traceback.format_exc()
        run.events = list(getattr(getattr(sim, "log", None), "records", []))
        last = run.crashed.strip().splitlines()[-1]
        run.verdicts = {rid: Verdict(rid, FAIL, f"the controller raised: {last}", None, None)
                        for rid in run.exercises}  # fmt: skip
        return
    run.events = res.events
    run.verdicts = evaluate_result(res)


def verify(
    controller: str | Callable[..., Any] | None = None,
    folder: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    only: Iterable[str] | None = None,
) -> Report:
    """Run the conformance suite with a controller and report the requirements it keeps.

    Parameters
    ----------
    controller : str, callable or None
        A ``"module:Class"`` spec, a factory taking a
        :class:`~pumpsim.pump.controller.PumpConfig`, or None for the reference.
    folder : path, optional
        A suite folder with ``suite.yaml`` (default: pumpsim's own).
    only : sequence of str, optional
        Run only these scenario files (names in ``suite.yaml``).
    progress : callable, optional
        Called with each scenario's file name before it runs.

    Returns
    -------
    Report
        Per scenario, the verdict (pass, fail with time and evidence, not
        exercised) of every requirement; ``to_markdown()`` is the printable
        report, ``to_junit()`` the JUnit XML.

    References
    ----------
    docs/references.md [GIP2009], [OPCA2020], [CRISYS2013].
    """
    from pumpsim.scenario.load import load_scenario

    factory = load_factory(controller)
    chosen = set(only) if only is not None else None
    runs = []
    for path, exercises in suite(folder):
        if chosen is not None and path.name not in chosen:
            continue
        sc = load_scenario(path)
        run = ScenarioRun(path.name, sc.name, exercises, path=str(path))
        if progress is not None:
            progress(path.name)
        _run_one(sc, factory, run)
        runs.append(run)
    return Report(_label(controller), runs)


def run_with_progress(controller: str | None, quiet: bool = False) -> Report:
    """:func:`verify` with a rich progress bar on stderr (none when ``quiet``)."""
    if quiet:
        return verify(controller)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = len(suite())
    with Progress(TextColumn("verify"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:  # fmt: skip
        task = bar.add_task("", total=total)
        seen: list[str] = []

        def tick(name: str) -> None:
            if seen:
                bar.advance(task)
            seen.append(name)
            bar.update(task, description=name)

        report = verify(controller, progress=tick)
        bar.advance(task)
    return report


class _CallableModule(types.ModuleType):
    """``pumpsim.verify(...)`` works whether ``pumpsim.verify`` names this module or its
    function (importing the module makes the package attribute the module)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Report:
        return verify(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
