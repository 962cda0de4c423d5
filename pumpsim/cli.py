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

    run = sub.add_parser("run", help="run a scenario and write its result files")
    run.add_argument("scenario", type=Path, help="scenario file (.yaml, .yml or .toml)")
    run.add_argument("--out", type=Path, default=None,
                     help="output folder (default: out/<scenario name>)")  # fmt: skip
    run.add_argument("--seed", type=int, default=None, help="random seed (default: scenario's)")
    run.add_argument("--no-plots", action="store_true", help="skip plots/*.png")
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.add_argument("--variant", default=None, help="run the scenario's named variant")
    run.add_argument("--controller", default=None, metavar="MODULE:CLASS",
                     help="controller of every pump, e.g. mypkg.mymodule:MyController "
                          "(default: the scenario's, else pumpsim's reference)")  # fmt: skip
    run.add_argument("--compare", action="store_true",
                     help="run the base and every variant and overlay them")  # fmt: skip

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
    routes.add_argument("--out", type=Path, default=Path("out") / "routes")
    routes.add_argument("--patient", default=None,
                        help='e.g. "age=40 y,weight=70 kg,height=170 cm,sex=male"')  # fmt: skip

    ver = sub.add_parser("verify", help="run the conformance suite with a controller and report "
                         "which safety requirements it keeps (exit 1 if any fails)")  # fmt: skip
    ver.add_argument("--controller", default=None, metavar="MODULE:CLASS",
                     help="controller under test (default: pumpsim's reference)")
    ver.add_argument("--out", type=Path, default=None,
                     help="report folder (default: out/verify-<controller>)")  # fmt: skip
    ver.add_argument("--quiet", action="store_true", help="print nothing but failures")

    val = sub.add_parser("validate", help="check a scenario file; exit 1 with its problems")
    val.add_argument("scenario", type=Path)

    mdl = sub.add_parser("models", help="list the PK models, their routes and citations")
    mdl.add_argument("--drug", default=None, help="only this drug's models")
    _add_bench_parser(sub)
    return parser


def _add_bench_parser(sub) -> None:  # type: ignore[no-untyped-def]
    bench = sub.add_parser("bench", help="simulated IEC 60601-2-24 bench tests of a pump")
    tests = bench.add_subparsers(dest="test", metavar="TEST", required=True)
    tr = tests.add_parser("trumpet", help="start-up graph and trumpet curve (0.5-min balance)")
    occ = tests.add_parser("occlusion", help="time to occlusion alarm and post-release bolus")
    for p in (tr, occ):
        p.add_argument("--pump", default="syringe",
                       choices=["ideal", "syringe", "volumetric", "elastomeric"])  # fmt: skip
        p.add_argument("--syringe", default="50 mL", help='syringe size, e.g. "50 mL"')
        p.add_argument("--rate", default=None, help='e.g. "5 mL/h" (trumpet default 5 mL/h '
                       'syringe, 25 mL/h volumetric; occlusion default 1 mL/h)')  # fmt: skip
        p.add_argument("--out", type=Path, default=None, help="output folder (default out/bench)")
        p.add_argument("--compliance", default=None, help='line compliance, e.g. "2.5 uL/mmHg"')
        p.add_argument("--resistance", default=None, help='e.g. "0.2 mmHg/(mL/h)"')
    tr.add_argument("--purge", action="store_true", help="purge the syringe before the test")
    tr.add_argument("--resolution", default=None, help='balance resolution, e.g. "0.1 mg"')
    tr.add_argument("--noise", default=None, help='balance noise (SD), e.g. "0.5 mg"')
    tr.add_argument("--seed", type=int, default=0, help="seed of the balance noise")
    occ.add_argument("--threshold", default="300 mmHg", help="occlusion alarm limit")
    occ.add_argument("--rates", default=None, help='a sweep, e.g. "0.5,1,5 mL/h"')
    occ.add_argument("--back-off", action="store_true", help="relieve pressure at the alarm")
    occ.add_argument("--no-purge", action="store_true", help="test an unpurged syringe")


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
    from pumpsim.plot_bench import save_occlusion_figure, save_trumpet_figures
    from pumpsim.units import parse

    out = args.out if args.out is not None else Path("out") / "bench"
    syringe = parse(args.syringe, "volume") if args.pump == "syringe" else None
    line = {k: v for k, v in (("compliance", args.compliance), ("resistance", args.resistance))
            if v is not None}  # fmt: skip
    if args.test == "trumpet":
        default = "25 mL/h" if args.pump == "volumetric" else "5 mL/h"
        rate = parse(args.rate or default, "flow") * 3600.0
        grams = {k: parse(v, "weight") * 1000.0 if v else None
                 for k, v in (("res", args.resolution), ("noise", args.noise))}  # fmt: skip
        balance = bench.Balance(grams["res"], grams["noise"] or 0.0)
        b = bench.trumpet_test(args.pump, rate, syringe, args.purge, balance, args.seed, line=line)
        out.mkdir(parents=True, exist_ok=True)
        table = b.table()
        table.to_csv(out / "trumpet.csv", float_format="%.6g")
        b.graph.to_frame().to_csv(out / "startup.csv", index=False, float_format="%.6g")
        b.balance_log.to_csv(out / "balance.csv", index=False, float_format="%.10g")
        paths = save_trumpet_figures(b, out)
        print(f"{args.pump} at {rate:g} mL/h: A = {b.trumpet.A:+.3f} %")
        print(table.to_string(float_format=lambda x: f"{x:+.3f}"))
    else:
        rates = _rate_list(args.rates or args.rate or "1 mL/h")
        threshold = parse(args.threshold, "pressure")
        results = [bench.occlusion_test(args.pump, r, threshold, syringe, not args.no_purge,
                                        args.back_off, line=line) for r in rates]  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        table = bench.occlusion_table(results)
        table.to_csv(out / "occlusion.csv", index=False, float_format="%.6g")
        paths = [save_occlusion_figure(results, out)]
        with pd.option_context("display.width", 200):
            print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print("wrote " + ", ".join(str(p) for p in [*paths, out]))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from pumpsim.scenario import load_scenario

    sc = load_scenario(args.scenario)
    print(f"{args.scenario}: valid ({sc.name}; {len(sc.pumps)} pump(s), {len(sc.events)} event(s))")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from pumpsim.engine import simulate
    from pumpsim.scenario import load_scenario

    sc = load_scenario(args.scenario, variant=args.variant)
    out = args.out if args.out is not None else Path("out") / args.scenario.stem
    if args.compare or (sc.compare and args.variant is None):
        from pumpsim.compare import run_comparison

        comparison = run_comparison(args.scenario, seed=args.seed)
        comparison.save(out)
        if not args.quiet:
            _print_table(comparison.table(), f"{sc.name}: {len(comparison.results)} arms")
            print(f"wrote {out}/")
        return 0
    try:
        result = simulate(sc, seed=args.seed, controller=args.controller)
    except PumpsimError as exc:
        raise PumpsimError(f"{args.scenario}: {exc}") from exc
    result.save(out, plots=not args.no_plots)
    if not args.quiet:
        _print_summary(result, out)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from pumpsim.verify import verify, why_not

    report = verify(args.controller)
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
    if not args.quiet:
        print(f"{len(report.passed)} pass, {len(report.failed)} fail, "
              f"{len(report.not_exercised)} not exercised; wrote {out}/report.md, report.json")
    return 1 if report.failed else 0


def _print_table(frame, title: str) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    table = Table(*[str(c) for c in frame.columns], title=title)
    for row in frame.itertuples(index=False):
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    Console(width=max(160, Console().width)).print(table)


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

    routes = [r.strip() for r in args.routes.split(",")] if args.routes else None
    try:
        comparison = compare_routes(
            args.drug, args.dose, routes=routes, patient=_patient(args.patient),
            duration=args.duration, salt=args.salt, pk_model=args.pk_model, over=args.over,
        )  # fmt: skip
    except KeyError as exc:
        raise PumpsimError(f"routes: {exc.args[0]}") from None
    thresholds = _threshold(args.threshold, args.drug)
    comparison.save(args.out, thresholds)
    _print_table(comparison.table(thresholds), comparison.results[next(iter(comparison.results))]
                 .scenario.name.split(" [")[0])  # fmt: skip
    for c in comparison.citations():
        print(f"  {c}")
    print(f"wrote {args.out}/")
    return 0


def _print_summary(result, out: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    console = Console()
    s = result.summary
    console.print(f"[bold]{s['scenario']}[/bold]  ({s['duration_s'] / 60:g} min, seed {s['seed']})")
    if s["pumps"]:
        table = Table("pump", "kind", "drug", "route", "infused [mL]", "state", "alarms")
        for pid, p in s["pumps"].items():
            table.add_row(pid, p["kind"], p["drug"], p["route"], f"{p['volume_infused_mL']:.3f}",
                          p["final_state"], str(p["alarms"]))  # fmt: skip
        console.print(table)
    if s["drugs"]:
        table = Table("drug", "model", "Cmax", "Tmax [min]", "AUC", "given")
        for name, d in s["drugs"].items():
            table.add_row(name, d["model"], f"{d['cmax']:.4g} {d['plasma_unit']}",
                          f"{d['tmax_s'] / 60:.1f}", f"{d['auc']:.4g} {d['auc_unit']}",
                          f"{d['given']:.4g} {d['amount_unit']}")  # fmt: skip
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
        console.print(f"[yellow]warning:[/yellow] {w}")
    verdicts = s.get("requirements", {})
    failed = [rid for rid, v in verdicts.items() if v["status"] == "fail"]
    if verdicts:
        passed = sum(1 for v in verdicts.values() if v["status"] == "pass")
        idle = len(verdicts) - passed - len(failed)
        console.print(f"safety requirements: {passed} pass, {len(failed)} fail, "
                      f"{idle} not exercised by this scenario"
                      + (f" ([red]{', '.join(failed)}[/red])" if failed else ""),
                      soft_wrap=True)  # one line: never break a requirement ID  # fmt: skip
    console.print(f"wrote {out}/")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {"run": _cmd_run, "validate": _cmd_validate, "routes": _cmd_routes,
                "verify": _cmd_verify,
                "models": _cmd_models, "bench": _cmd_bench}  # fmt: skip
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
    except Exception as exc:  # an internal error: say so, keep it one line
        if args.debug:
            raise
        print(f"pumpsim: internal error: {type(exc).__name__}: {exc} (run with --debug)",
              file=sys.stderr)  # fmt: skip
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
