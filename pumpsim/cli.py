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

    val = sub.add_parser("validate", help="check a scenario file; exit 1 with its problems")
    val.add_argument("scenario", type=Path)
    return parser


def _cmd_validate(args: argparse.Namespace) -> int:
    from pumpsim.scenario import load_scenario

    sc = load_scenario(args.scenario)
    print(f"{args.scenario}: valid ({sc.name}; {len(sc.pumps)} pump(s), {len(sc.events)} event(s))")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from pumpsim.engine import simulate
    from pumpsim.scenario import load_scenario

    sc = load_scenario(args.scenario)
    try:
        result = simulate(sc, seed=args.seed)
    except PumpsimError as exc:
        raise PumpsimError(f"{args.scenario}: {exc}") from exc
    out = args.out if args.out is not None else Path("out") / args.scenario.stem
    result.save(out, plots=not args.no_plots)
    if not args.quiet:
        _print_summary(result, out)
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
    handlers = {"run": _cmd_run, "validate": _cmd_validate}
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
