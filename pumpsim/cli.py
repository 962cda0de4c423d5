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
    routes.add_argument("--threshold", default=None,
                        help='plasma concentration for "time above", e.g. "20 ng/mL"')
    routes.add_argument("--out", type=Path, default=Path("out") / "routes")
    routes.add_argument("--patient", default=None,
                        help='e.g. "age=40 y,weight=70 kg,height=170 cm,sex=male"')  # fmt: skip

    val = sub.add_parser("validate", help="check a scenario file; exit 1 with its problems")
    val.add_argument("scenario", type=Path)

    mdl = sub.add_parser("models", help="list the PK models, their routes and citations")
    mdl.add_argument("--drug", default=None, help="only this drug's models")
    return parser


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
        result = simulate(sc, seed=args.seed)
    except PumpsimError as exc:
        raise PumpsimError(f"{args.scenario}: {exc}") from exc
    result.save(out, plots=not args.no_plots)
    if not args.quiet:
        _print_summary(result, out)
    return 0


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
            duration=args.duration, salt=args.salt, pk_model=args.pk_model,
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
    for w in s["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"wrote {out}/")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {"run": _cmd_run, "validate": _cmd_validate, "routes": _cmd_routes,
                "models": _cmd_models}  # fmt: skip
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
