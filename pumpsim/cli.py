"""The ``pumpsim`` command: a thin shell over the library.

Every user error prints one line per problem (file: field path: what is
allowed) and exits 1; ``--debug`` shows the traceback instead. Nothing is
written when a run fails.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pumpsim._version import __version__
from pumpsim.errors import PumpsimError, ScenarioError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pumpsim",
        description="Infusion pump simulator and controller emulator with exact PK by route.",
    )
    parser.add_argument("--version", action="version", version=f"pumpsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from pumpsim.connect.serve import add_serve_parser  # argparse only: no FastAPI here

    add_serve_parser(sub)
    run = sub.add_parser("run", help="run a scenario and write its result files")
    run.add_argument("scenario", type=Path, help="scenario file (.yaml, .yml or .toml)")
    run.add_argument("--out", type=Path, default=None,
                     help="output folder (default: out/<scenario name>)")  # fmt: skip
    run.add_argument("--seed", type=int, default=None, help="random seed (default: scenario's)")
    run.add_argument("--no-plots", action="store_true", help="skip plots/*.png")
    _add_plot_options(run)
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.add_argument("--variant", default=None, help="run the scenario's named variant")
    run.add_argument("--controller", default=None, metavar="MODULE:CLASS",
                     help="controller of every pump, e.g. mypkg.mymodule:MyController, "
                          "'exec:./my_firmware ARGS' or tcp://127.0.0.1:PORT "
                          "(default: the scenario's, else pumpsim's reference)")  # fmt: skip
    run.add_argument("--compare", action="store_true",
                     help="run the base and every variant and overlay them")  # fmt: skip
    run.add_argument("--force", action="store_true",
                     help="replace an earlier pumpsim output in --out")  # fmt: skip
    _add_load_options(run)
    run.add_argument("--hl7-out", type=Path, default=None, metavar="FILE",
                     help="also write the IHE PCD HL7 v2 messages the run would have sent")
    run.add_argument("--hl7-every", default="1 min",
                     help="period of the PCD-01 device reports (default 1 min)")

    routes = sub.add_parser("routes", help="the same dose by several routes, side by side")
    routes.add_argument("--drug", required=True)
    routes.add_argument("--dose", required=True, help='e.g. "10 mg" or "0.1 mg/kg"')
    routes.add_argument("--routes", default=None,
                        help="comma-separated, e.g. iv,sc,im (default: every route with data)")
    routes.add_argument("--salt", default=None, help="e.g. sulfate: the dose is of the salt")
    routes.add_argument("--pk-model", default=None)
    routes.add_argument("--duration", default="4 h")
    routes.add_argument("--over", default=None,
                        help='give each dose over this time, e.g. "1 min" (default: a push)')
    routes.add_argument("--threshold", default=None,
                        help='plasma concentration for "time above", e.g. "20 ng/mL"')
    routes.add_argument("--out", type=Path, default=None,
                        help="output folder (default: out/routes)")  # fmt: skip
    routes.add_argument("--force", action="store_true",
                        help="replace an earlier pumpsim output in --out")  # fmt: skip
    routes.add_argument("--patient", default=None,
                        help='e.g. "age=40 y,weight=70 kg,height=170 cm,sex=male"')  # fmt: skip
    _add_plot_options(routes)

    ver = sub.add_parser("verify", help="run the conformance suite with a controller and report "
                         "which safety requirements it keeps (exit 1 if any fails or the "
                         "controller raises, 2 if an oracle raises); writes report.md, "
                         "report.json, junit.xml")  # fmt: skip
    ver.add_argument("--controller", default=None, metavar="MODULE:CLASS",
                     help="controller under test: MODULE:CLASS, 'exec:COMMAND ARGS', "
                          "tcp://HOST:PORT or fmu:PATH.fmu (default: the reference)")  # fmt: skip
    ver.add_argument("--out", type=Path, default=None,
                     help="report folder (default: out/verify-<controller>)")  # fmt: skip
    ver.add_argument("--quiet", action="store_true", help="print nothing but failures")

    fmu = sub.add_parser("fmu", help="FMI 2.0 co-simulation (the fmi extra)")
    fmu_sub = fmu.add_subparsers(dest="fmu_command", metavar="COMMAND", required=True)
    fmu_exp = fmu_sub.add_parser("export", help="the plant (first pump, line, patient) of a "
                                 "scenario as a co-simulation FMU; input motor_rate [mL/h]")
    fmu_exp.add_argument("scenario", type=Path)
    fmu_exp.add_argument("--out", type=Path, default=Path("plant.fmu"), help="default plant.fmu")

    val = sub.add_parser("validate", help="check a scenario file; exit 1 with its problems")
    val.add_argument("scenario", type=Path)
    _add_load_options(val)

    sub.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")

    mdl = sub.add_parser("models", help="list the PK models, their routes and citations")
    mdl.add_argument("--drug", default=None, help="only this drug's models")
    _add_bench_parser(sub)
    fig = sub.add_parser("figure", help="write a classic teaching figure (PNG, SVG and its CSV)")
    fig.add_argument("name", nargs="?", default=None, help="figure name (see --list)")
    fig.add_argument("--list", action="store_true", help="list the figures and their sources")
    fig.add_argument("--out", type=Path, default=Path("out") / "figures")
    fig.add_argument("--dpi", type=int, default=150, help="PNG resolution (default 150)")
    fig.add_argument("--large", action="store_true", help="large fonts, for a lecture hall")
    app = sub.add_parser("app", help="open the classroom pages (routes, pump, figures) locally")
    app.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    app.add_argument("--no-browser", action="store_true", help="do not open a browser")
    from pumpsim.sweep.cli import add_parsers  # sweep, ward

    add_parsers(sub)
    return parser


def _add_load_options(p: argparse.ArgumentParser) -> None:
    """What a scenario file may do beyond data, and how big a run may be (README: Security)."""
    p.add_argument("--allow-controller", action="store_true",
                   help="let a controller the file names (module:Class, file.py:Class) run")
    p.add_argument("--allow-path", action="append", default=[], type=Path, metavar="DIR",
                   help="a folder besides the scenario's own that its drug_library may "
                        "come from (repeatable)")
    p.add_argument("--max-output-rows", type=int, default=None, metavar="N",
                   help="most time-series rows a run may record (default 1,000,000)")
    p.add_argument("--max-events", type=int, default=None, metavar="N",
                   help="most simulated events (presses, strokes) a run may have "
                        "(default 1,000,000)")  # fmt: skip


def _load_options(args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    """``load_scenario`` keywords from the command line."""
    from pumpsim.scenario.checks import Limits

    limits = {}
    for name in ("max_output_rows", "max_events"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise PumpsimError(f"--{name.replace('_', '-')}: {value}; allowed: 1 or more")
        if value is not None:
            limits[name] = value
    named = getattr(args, "controller", None) is not None  # named on the command line: chosen
    return {"allow_controller": args.allow_controller or named,
            "allow_paths": list(args.allow_path), "limits": Limits(**limits)}  # fmt: skip


def _seed(value: int | None, option: str = "--seed") -> int | None:
    if value is not None and value < 0:
        raise PumpsimError(f"{option}: {value} is negative; a seed is 0 or more")
    return value


def _add_bench_parser(sub) -> None:  # type: ignore[no-untyped-def]
    bench = sub.add_parser("bench", help="simulated IEC 60601-2-24 bench tests of a pump")
    tests = bench.add_subparsers(dest="test", metavar="TEST", required=True)
    tr = tests.add_parser("trumpet", help="start-up graph and trumpet curve (0.5-min balance)")
    occ = tests.add_parser("occlusion", help="time to occlusion alarm and post-release bolus")
    for p in (tr, occ):
        p.add_argument("--pump", default="syringe",
                       choices=["ideal", "syringe", "volumetric", "elastomeric"])  # fmt: skip
        p.add_argument("--syringe", default=None,
                       help='syringe size of a syringe pump (default "50 mL")')
        p.add_argument("--force", action="store_true",
                       help="replace an earlier pumpsim output in --out")  # fmt: skip
        p.add_argument("--rate", default=None, help='e.g. "5 mL/h" (trumpet default 5 mL/h '
                       'syringe, 25 mL/h volumetric; occlusion default 1 mL/h)')  # fmt: skip
        p.add_argument("--out", type=Path, default=None, help="folder (default out/bench-TEST)")
        p.add_argument("--compliance", default=None, help='line compliance, e.g. "2.5 uL/mmHg"')
        p.add_argument("--resistance", default=None, help='e.g. "0.2 mmHg/(mL/h)"')
        _add_plot_options(p)
    tr.add_argument("--purge", action="store_true", help="purge the syringe before the test")
    tr.add_argument("--resolution", default=None, help='balance resolution, e.g. "0.1 mg"')
    tr.add_argument("--noise", default=None, help='balance noise (SD), e.g. "0.5 mg"')
    tr.add_argument("--seed", type=int, default=0, help="seed of the balance noise")
    occ.add_argument("--threshold", default="300 mmHg", help="occlusion alarm limit")
    occ.add_argument("--rates", default=None, help='a sweep, e.g. "0.5,1,5 mL/h"')
    occ.add_argument("--back-off", action="store_true", help="relieve pressure at the alarm")
    occ.add_argument("--no-purge", action="store_true", help="test an unpurged syringe")


def _add_plot_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plot-format", default="png", metavar="FORMATS",
                   help="figure files, comma-separated from png,svg,pdf (default png)")
    p.add_argument("--dpi", type=int, default=110, help="PNG resolution (default 110)")


def _plot_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--plot-format`` and ``--dpi`` as ``formats=`` / ``dpi=`` keywords (checked)."""
    from pumpsim.plot import PLOT_FORMATS

    formats = [f.strip().lower().lstrip(".") for f in args.plot_format.split(",") if f.strip()]
    bad = [f for f in formats if f not in PLOT_FORMATS]
    if bad or not formats:
        raise PumpsimError(f"--plot-format: {args.plot_format!r}; allowed: comma-separated "
                           f"{', '.join(PLOT_FORMATS)}")  # fmt: skip
    if not 30 <= args.dpi <= 1200:
        raise PumpsimError(f"--dpi: must be between 30 and 1200, got {args.dpi}")
    return {"formats": tuple(dict.fromkeys(formats)), "dpi": args.dpi}


def _rate_list(text: str) -> list[float]:
    """``"0.5,1,5 mL/h"`` -> rates [mL/h] (one unit after the numbers)."""
    import re

    from pumpsim.errors import UnitError
    from pumpsim.units import parse

    m = re.fullmatch(r"\s*([-+.\deE]+(?:\s*,\s*[-+.\deE]+)*)\s*(\S.*)", text)
    if m is None:
        raise UnitError(f"{text!r}: write rates as numbers and one unit, e.g. '0.5,1,5 mL/h'")
    return [parse(f"{x.strip()} {m[2]}", "flow") * 3600.0 for x in m[1].split(",")]


def _cmd_bench(args: argparse.Namespace) -> int:
    """``pumpsim bench trumpet|occlusion``: run :mod:`pumpsim.bench`, write CSV and PNG."""
    import pandas as pd

    from pumpsim import bench
    from pumpsim.io import check_output, output_folder
    from pumpsim.plot_bench import save_occlusion_figure, save_trumpet_figures
    from pumpsim.progress import bar
    from pumpsim.units import parse

    out = args.out if args.out is not None else Path("out") / f"bench-{args.test}"
    if args.syringe is not None and args.pump != "syringe":
        raise PumpsimError(f"--syringe: a {args.pump} pump has no syringe; "
                           "use --syringe with --pump syringe")  # fmt: skip
    syringe = parse(args.syringe or "50 mL", "volume") if args.pump == "syringe" else None
    force = args.force or args.out is None  # pumpsim's own default folder: replaced
    check_output(out, force)
    plot_opts = _plot_options(args)
    line = {k: v for k, v in (("compliance", args.compliance), ("resistance", args.resistance))
            if v is not None}  # fmt: skip
    if args.test == "trumpet":
        default = "25 mL/h" if args.pump == "volumetric" else "5 mL/h"
        rate = parse(args.rate or default, "flow") * 3600.0
        grams = {k: parse(v, "weight") * 1000.0 if v else None
                 for k, v in (("res", args.resolution), ("noise", args.noise))}  # fmt: skip
        balance = bench.Balance(grams["res"], grams["noise"] or 0.0)
        if args.purge and args.pump != "syringe":
            raise PumpsimError(f"--purge: only a syringe pump is purged, not {args.pump}")
        with bar(f"trumpet test, {args.pump} pump", None):
            b = bench.trumpet_test(args.pump, rate, syringe, args.purge, balance,
                                   _seed(args.seed) or 0, line=line)  # fmt: skip
        table = b.table()
        with output_folder(out, force) as tmp:
            table.to_csv(tmp / "trumpet.csv", float_format="%.6g")
            b.graph.to_frame().to_csv(tmp / "startup.csv", index=False, float_format="%.6g")
            b.balance_log.to_csv(tmp / "balance.csv", index=False, float_format="%.10g")
            paths = [out / p.relative_to(tmp)
                     for p in save_trumpet_figures(b, tmp, **plot_opts)]  # fmt: skip
        print(f"{args.pump} at {rate:g} mL/h: A = {b.trumpet.A:+.3f} %")
        print(table.to_string(float_format=lambda x: f"{x:+.3f}"))
    else:
        if args.rates is not None and args.rate is not None:
            raise PumpsimError("--rate and --rates: give one rate or a sweep, not both")
        rates = _rate_list(args.rates or args.rate or "1 mL/h")
        threshold = parse(args.threshold, "pressure")
        results = []
        with bar("occlusion tests", len(rates)) as advance:
            for r in rates:
                results.append(bench.occlusion_test(args.pump, r, threshold, syringe,
                                                    not args.no_purge, args.back_off, line=line))
                advance()  # fmt: skip
        table = bench.occlusion_table(results)
        with output_folder(out, force) as tmp:
            table.to_csv(tmp / "occlusion.csv", index=False, float_format="%.6g")
            first = save_occlusion_figure(results, tmp, **plot_opts)
            paths = [out / first.relative_to(tmp)]
        with pd.option_context("display.width", 200):
            print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print("wrote " + ", ".join(str(p) for p in [*paths, out]))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from pumpsim.scenario import load_scenario

    sc = load_scenario(args.scenario, **_load_options(args))
    print(f"{args.scenario}: valid ({sc.name}; {len(sc.pumps)} pump(s), {len(sc.events)} event(s))")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from pumpsim.engine import simulate
    from pumpsim.io import check_output
    from pumpsim.progress import bar
    from pumpsim.scenario import load_scenario

    if args.compare and args.variant is not None:
        raise PumpsimError("--compare runs every variant; --variant runs one: give one of them")
    options = _load_options(args)
    seed = _seed(args.seed)
    sc = load_scenario(args.scenario, variant=args.variant, **options)
    out = args.out if args.out is not None else Path("out") / args.scenario.stem
    force = args.force or args.out is None  # pumpsim's own default folder: replaced
    check_output(out, force)  # before the run, not after
    plot_opts = _plot_options(args)
    plots = not args.no_plots and sc.output.plots  # the file's `output: {plots: false}` too
    if args.compare or (sc.compare and args.variant is None):
        from pumpsim.compare import run_comparison

        arms = len(sc.variants) + (not any(v == {} for v in sc.variants.values()))
        with bar(f"{sc.name}: comparing arms", arms) as advance:
            comparison = run_comparison(args.scenario, seed=seed, controller=args.controller,
                                        progress=advance, **options)  # fmt: skip
        comparison.save(out, plots=plots, force=force, **plot_opts)
        if not args.quiet:
            _print_comparison(comparison.table(), f"{sc.name}: {len(comparison.results)} arms")
            print(f"wrote {out}/")
        return 0
    pop = sc.patient.population if sc.patient is not None else None
    try:
        with bar(f"simulating {pop.n} patients" if pop else f"simulating {sc.name}", None):
            result = simulate(sc, seed=seed, controller=args.controller)
    except PumpsimError as exc:
        raise PumpsimError(f"{args.scenario}: {exc}") from exc
    hl7 = _hl7_messages(result, args) if args.hl7_out is not None else None
    from pumpsim.io import write_result

    write_result(result, out, plots=plots, force=force, **plot_opts)
    if hl7 is not None:
        from pumpsim.connect.hl7 import write_messages

        write_messages(args.hl7_out, hl7)
    if not args.quiet:
        _print_summary(result, out)
        if hl7 is not None:
            print(f"wrote {len(hl7)} HL7 messages to {args.hl7_out}")
    return 0


def _hl7_messages(result, args: argparse.Namespace) -> list[str]:  # type: ignore[no-untyped-def]
    """The run's HL7 stream (checked before anything is written)."""
    from pumpsim.units import parse

    try:
        every = parse(args.hl7_every, "time")
    except PumpsimError as exc:
        raise PumpsimError(f"--hl7-every: {exc}") from None
    if not every > 0:
        raise PumpsimError("--hl7-every: must be a time > 0, e.g. '1 min'")
    if args.hl7_out.is_dir() or not args.hl7_out.parent.is_dir():
        raise PumpsimError(f"--hl7-out: {args.hl7_out} must be a file in an existing folder")
    try:
        from pumpsim.connect.hl7 import messages_from_result
    except ImportError as exc:
        raise PumpsimError(f"--hl7-out needs the hl7 extra: pip install \"pumpsim[hl7]\" "
                           f"({exc})") from None  # fmt: skip
    return messages_from_result(result, every_s=every)


def _cmd_verify(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from pumpsim.verify import run_with_progress, why_not

    report = run_with_progress(args.controller, quiet=args.quiet)
    name = (args.controller or "reference").replace(":", "-").replace("/", "-").replace(".", "_")
    out = args.out if args.out is not None else Path("out") / f"verify-{name}"
    report.save(out)
    console = Console()
    if not args.quiet:
        table = Table("requirement", "verdict", "scenario", "evidence",
                      title=f"conformance: {report.controller}")  # fmt: skip
        for rid, r in report.to_dict()["requirements"].items():
            style = {"pass": "green", "fail": "bold red"}.get(r["status"], "dim")
            table.add_row(rid, f"[{style}]{r['status']}[/{style}]", r["decided_by"] or "-",
                          r["evidence"] or why_not(r))  # fmt: skip
        console.print(table)
    for rid in report.failed:
        status, v, where = report.status(rid)
        assert v is not None
        when = f" at {v.time_s / 60:.2f} min" if v.time_s is not None else ""
        print(f"FAIL {rid} ({where}{when}): {v.evidence}", file=sys.stderr)
    for file in report.crashed:
        print(f"FAIL the controller raised in {file} (traceback in {out}/report.md)",
              file=sys.stderr)  # fmt: skip
    for rid in report.errors:
        print(f"ERROR oracle {rid}: {report.status(rid)[1].evidence}", file=sys.stderr)  # type: ignore[union-attr]
    if not args.quiet:
        print(f"{len(report.passed)} pass, {len(report.failed)} fail, "
              f"{len(report.not_exercised)} not exercised; wrote {out}/report.md, report.json, "
              "junit.xml")  # fmt: skip
    return report.exit_code()


def _console():  # type: ignore[no-untyped-def]
    """The terminal's width on a terminal; wide enough for any table in a pipe or file."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]  # one line, not silence
    return console


def _broken_pipe() -> None:
    raise BrokenPipeError("stdout closed")


def _cell(value: object) -> str:
    """A table cell: numbers to 4 significant digits (NaN as '-'), text escaped for rich."""
    from rich.markup import escape

    if isinstance(value, float | int) and not isinstance(value, bool):
        return "-" if value != value else f"{value:.4g}"
    return escape(str(value))


def _table(names: Sequence[str], numeric: Sequence[bool], title: str | None = None):  # type: ignore[no-untyped-def]
    """A rich table whose headers are shown as written ('[mL]' stays), numbers to the
    right, and long cells folded (never cut) to fit the terminal."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title) if title else None)
    for name, number in zip(names, numeric, strict=True):
        table.add_column(escape(str(name)), justify="right" if number else "left",
                         overflow="fold")  # fmt: skip
    return table


def _print_table(frame, title: str) -> None:  # type: ignore[no-untyped-def]
    table = _table([str(c) for c in frame.columns],
                   [frame[c].dtype.kind in "fiu" for c in frame.columns], title)  # fmt: skip
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    _console().print(table)


def _print_comparison(frame, title: str) -> None:  # type: ignore[no-untyped-def]
    """One table per drug, so every column names its drug (the title) and its unit."""
    drugs = list(dict.fromkeys(frame["drug"])) if len(frame) else []
    for drug in drugs:
        part = frame[frame["drug"] == drug].dropna(axis=1, how="all").drop(columns="drug")
        _print_table(part, f"{title}: {drug}" if len(drugs) > 1 else title)


def _threshold(text: str | None, drug: str) -> dict[str, float] | None:
    """A plasma threshold in the drug's plasma unit, from e.g. '20 ng/mL'."""
    if text is None:
        return None
    from pumpsim.pk.registry import get_drug
    from pumpsim.units import parse_amount

    info = get_drug(drug)
    amount = parse_amount(text, "concentration")  # amount per mL
    return {drug: amount.value * 1000.0 * info.plasma_factor}  # per mL -> per L -> plasma unit


def _patient(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(p) != 2 for p in pairs):
        raise PumpsimError(f"--patient: {text!r}; write e.g. 'age=40 y,weight=70 kg'")
    return {k.strip(): v.strip() for k, v in pairs}


def _cmd_models(args: argparse.Namespace) -> int:
    import pandas as pd

    from pumpsim.pk.registry import DRUGS, models

    rows, cites = [], []
    seen: set[str] = set()
    for spec in sorted(models().values(), key=lambda s: (s.drug, s.key)):
        if spec.key in seen or (args.drug and spec.drug != args.drug):
            continue
        seen.add(spec.key)
        rows.append({
            "drug": spec.drug, "model": spec.key, "aliases": ", ".join(spec.aliases),
            "default": "yes" if DRUGS[spec.drug].default_model == spec.key else "",
            "routes": ", ".join(spec.routes), "variability": "yes" if spec.variability else "",
        })  # fmt: skip
        for c in [*spec.citations, *(a.citation for a in spec.routes.values() if a.citation)]:
            if str(c) not in cites:
                cites.append(str(c))
    if not rows:
        raise PumpsimError(f"models: unknown drug {args.drug!r}; known: {', '.join(sorted(DRUGS))}")
    _print_table(pd.DataFrame(rows), "pumpsim PK models")
    for text in cites:
        print(f"  {text}")
    return 0


def _cmd_routes(args: argparse.Namespace) -> int:
    from pumpsim.compare import compare_routes
    from pumpsim.io import check_output
    from pumpsim.progress import bar

    out = args.out if args.out is not None else Path("out") / "routes"
    force = args.force or args.out is None  # pumpsim's own default folder: replaced
    check_output(out, force)
    plot_opts = _plot_options(args)
    routes = [r.strip() for r in args.routes.split(",")] if args.routes else None
    try:
        with bar(f"{args.dose} {args.drug} by route", len(routes) if routes else None) as step:
            comparison = compare_routes(
                args.drug, args.dose, routes=routes, patient=_patient(args.patient),
                duration=args.duration, salt=args.salt, pk_model=args.pk_model, over=args.over,
                progress=step,
            )  # fmt: skip
    except KeyError as exc:
        raise PumpsimError(f"routes: {exc.args[0]}") from None
    thresholds = _threshold(args.threshold, args.drug)
    comparison.save(out, thresholds, force=force, **plot_opts)
    _print_comparison(comparison.table(thresholds), comparison.results[
        next(iter(comparison.results))].scenario.name.split(" [")[0])  # fmt: skip
    for c in comparison.citations():
        print(f"  {c}")
    print(f"wrote {out}/")
    return 0


def _print_summary(result, out: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    console = _console()
    s = result.summary
    console.print(f"[bold]{escape(s['scenario'])}[/bold]  ({s['duration_s'] / 60:g} min, "
                  f"seed {s['seed']})")  # fmt: skip
    if s["pumps"]:
        table = _table(["pump", "kind", "drug", "route", "infused [mL]", "state", "alarms"],
                       [False] * 4 + [True, False, True])  # fmt: skip
        for pid, p in s["pumps"].items():
            table.add_row(*[_cell(v) for v in (pid, p["kind"], p["drug"], p["route"])],
                          f"{p['volume_infused_mL']:.3f}", _cell(p["final_state"]),
                          _cell(p["alarms"]))  # fmt: skip
        console.print(table)
    if s["drugs"]:  # one row per drug, each value with that drug's unit
        table = _table(["drug", "model", "Cmax", "Tmax [min]", "AUC", "given"],
                       [False, False, True, True, True, True])  # fmt: skip
        for name, d in s["drugs"].items():
            table.add_row(_cell(name), _cell(d["model"]),
                          _cell(f"{d['cmax']:.4g} {d['plasma_unit']}"),
                          f"{d['tmax_s'] / 60:.1f}", _cell(f"{d['auc']:.4g} {d['auc_unit']}"),
                          _cell(f"{d['given']:.4g} {d['amount_unit']}"))  # fmt: skip
        console.print(table)
    for pid, m in s.get("tci", {}).items():  # TCI prediction (Varvel 1992), median if many
        med = {k: m[k]["p50"] if isinstance(m[k], dict) else m[k]
               for k in ("mdpe", "mdape", "wobble", "divergence")}  # fmt: skip
        console.print(f"TCI pump {pid}: MDPE {med['mdpe']:.1f} %, MDAPE {med['mdape']:.1f} %, "
                      f"wobble {med['wobble']:.1f} %, divergence {med['divergence']:.1f} %/h"
                      + (" (medians over patients)" if isinstance(m["mdpe"], dict) else ""),
                      soft_wrap=True)
    if "bis" in s:
        b = s["bis"]
        console.print(f"BIS: {b['time_in_range_pct']:.0f} % of maintenance in 40-60, "
                      f"MDAPE {b['mdape']:.1f} %, global score {b['global_score']:.3f}")
    for w in s["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {escape(str(w))}")
    verdicts = s.get("requirements", {})
    failed = [rid for rid, v in verdicts.items() if v["status"] == "fail"]
    if verdicts:
        passed = sum(1 for v in verdicts.values() if v["status"] == "pass")
        idle = len(verdicts) - passed - len(failed)
        console.print(f"safety requirements: {passed} pass, {len(failed)} fail, "
                      f"{idle} not exercised by this scenario"
                      + (f" ([red]{escape(', '.join(failed))}[/red])" if failed else ""),
                      soft_wrap=True)  # one line: never break a requirement ID  # fmt: skip
    console.print(f"wrote {escape(str(out))}/")


def _cmd_schema(args: argparse.Namespace) -> int:
    """``pumpsim schema``: the scenario JSON Schema on stdout."""
    from pumpsim.scenario.json_schema import scenario_json_schema_text

    sys.stdout.write(scenario_json_schema_text())
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from pumpsim.connect.serve import serve

    return serve(args)


def _cmd_figure(args: argparse.Namespace) -> int:
    from pumpsim.figures import figure_names, get_figure, save_figure

    if args.list or args.name is None:
        for name in figure_names():
            spec = get_figure(name)
            print(f"{name:14s} {spec.title}")
        return 0 if args.list else 2
    if args.name not in figure_names():
        raise PumpsimError(f"figure: unknown name {args.name!r}; allowed: "
                           f"{', '.join(figure_names())}")  # fmt: skip
    if not 30 <= args.dpi <= 1200:
        raise PumpsimError(f"--dpi: must be between 30 and 1200, got {args.dpi}")
    for path in save_figure(args.name, args.out, dpi=args.dpi, large=args.large):
        print(f"wrote {path}")
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    try:
        from pumpsim.connect.classroom import run_app
    except ImportError as exc:  # pragma: no cover - the live extra is absent
        raise PumpsimError(f"pumpsim app needs the live extra: pip install "
                           f"'pumpsim[live]' ({exc})") from None  # fmt: skip
    if not 0 <= args.port <= 65535:
        raise PumpsimError(f"--port: must be between 0 and 65535, got {args.port}")
    run_app(port=args.port, open_browser=not args.no_browser)
    return 0


def _cmd_fmu(args: argparse.Namespace) -> int:
    from pumpsim.connect.fmi import export_plant

    print(export_plant(args.scenario, args.out))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {"run": _cmd_run, "validate": _cmd_validate, "routes": _cmd_routes,
                "verify": _cmd_verify,
                "models": _cmd_models, "bench": _cmd_bench, "schema": _cmd_schema,
                "serve": _cmd_serve,
                "figure": _cmd_figure, "app": _cmd_app, "fmu": _cmd_fmu}  # fmt: skip
    from pumpsim.sweep.cli import cmd_sweep, cmd_ward, ward_aware  # run/validate take wards

    handlers.update(sweep=cmd_sweep, ward=cmd_ward, run=ward_aware("run", _cmd_run),
                    validate=ward_aware("validate", _cmd_validate))  # fmt: skip
    try:
        return handlers[args.command](args)
    except ScenarioError as exc:
        if args.debug:
            traceback.print_exc()
        for line in exc.lines():
            print(line, file=sys.stderr)
        return 1
    except PumpsimError as exc:
        if args.debug:
            traceback.print_exc()
        print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `pumpsim run ... | head -1`: the reader left
        _quiet_stdout()
        print("pumpsim: the output pipe was closed before pumpsim finished writing "
              "(its files are complete)", file=sys.stderr)  # fmt: skip
        return 1
    except MemoryError:
        print("pumpsim: out of memory; lengthen output.interval, shorten the duration or the "
              "population", file=sys.stderr)  # fmt: skip
        return 1
    except OSError as exc:  # a file or folder the system refused
        if args.debug:
            traceback.print_exc()
        where = f": {exc.filename}" if exc.filename else ""
        print(f"pumpsim: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except Exception as exc:  # an internal error: say so, keep it one line
        if args.debug:
            raise
        print(f"pumpsim: internal error: {type(exc).__name__}: {exc} (run with --debug)",
              file=sys.stderr)  # fmt: skip
        return 2


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush does not fail on a closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (e.g. captured): nothing to flush
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
