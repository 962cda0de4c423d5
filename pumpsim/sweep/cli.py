"""``pumpsim sweep`` and ``pumpsim ward``: argument parsers and handlers (thin shells)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_parsers", "cmd_sweep", "cmd_ward", "ward_aware"]


def add_parsers(sub: Any) -> None:
    """Add the ``sweep`` and ``ward`` subcommands to ``pumpsim``'s subparsers."""
    sw = sub.add_parser("sweep", help="run a scenario over a grid of values (Parquet results)")
    sw.add_argument("scenario", type=Path, help="scenario or ward scenario file")
    sw.add_argument("--grid", action="append", default=[], metavar="PATH=V1,V2,.. [UNIT]",
                    help='an axis, e.g. "pumps[0].program[0].rate=1,2,5 mL/h" (repeatable)')
    sw.add_argument("--population", type=int, default=None,
                    help="virtual patients per point (default: the scenario's, else one)")
    sw.add_argument("--replicates", type=int, default=0,
                    help="repeat every point with this many seeds (a 'replicate' axis)")
    sw.add_argument("--seed", type=int, default=0, help="the sweep's seed (default 0)")
    sw.add_argument("--target", action="append", default=[], metavar="DRUG=LOW-HIGH UNIT",
                    help='target plasma range for "time in range", e.g. "propofol=2-4 ug/mL"')
    sw.add_argument("--scheduler", default="local",
                    help="local | processes | threads | synchronous | tcp://HOST:PORT "
                         "(default local: worker processes on this machine)")
    sw.add_argument("--workers", type=int, default=None, help="local workers (default: cores)")
    sw.add_argument("--out", type=Path, required=True, help="output folder (resumable)")
    sw.add_argument("--no-plots", action="store_true", help="skip summary.png")
    sw.add_argument("--quiet", action="store_true", help="no progress bar or table")

    wd = sub.add_parser("ward", help="run a ward scenario (beds, pumps, nurses): alarm burden")
    wd.add_argument("scenario", type=Path)
    wd.add_argument("--seed", type=int, default=None, help="random seed (default: scenario's)")
    wd.add_argument("--out", type=Path, default=None, help="write burden.csv, alarms.csv here")
    wd.add_argument("--force", action="store_true",
                    help="replace an earlier pumpsim output in --out")
    wd.add_argument("--quiet", action="store_true")


def cmd_sweep(args: argparse.Namespace) -> int:
    from pumpsim.errors import Problem, ScenarioError
    from pumpsim.sweep.run import parse_target
    from pumpsim.sweep.runner import sweep

    targets = {}
    for text in args.target:
        try:
            drug, lo, hi = parse_target(text)
        except ValueError as exc:
            raise ScenarioError([Problem("--target", str(exc))], str(args.scenario)) from None
        targets[drug] = f"{lo.split()[0]}-{hi}"
    res = sweep(args.scenario, args.grid, args.out, population=args.population, seed=args.seed,
                replicates=args.replicates, targets=targets, scheduler=args.scheduler,
                workers=args.workers, progress=not args.quiet, plots=not args.no_plots)
    if not args.quiet:
        print(f"{len(res.ran)} points run, {len(res.skipped)} already written; "
              f"wrote {res.out}/ (points/, summary.csv"
              f"{', summary.png' if not args.no_plots else ''})")
    return 0


def cmd_ward(args: argparse.Namespace) -> int:
    from pumpsim.io import check_output
    from pumpsim.ward import load_ward, simulate_ward

    ward = load_ward(args.scenario)
    if args.out is not None:
        check_output(args.out, args.force)  # refused before the run, not after
    result = simulate_ward(ward, seed=args.seed)
    if args.out is not None:
        result.write(args.out, force=args.force)
    if not args.quiet:
        print(result.report())
        if args.out is not None:
            print(f"wrote {args.out}/")
    return 0


def is_ward_file(path: Path) -> bool:
    """Whether ``path`` is a ward scenario (its top level has ``beds``)."""
    from pumpsim.errors import ScenarioError
    from pumpsim.scenario.load import read_file

    try:
        return "beds" in read_file(path)
    except ScenarioError:
        return False  # the scenario command reports the problem


def ward_aware(command: str, handler: Any) -> Any:
    """``pumpsim run``/``validate`` of a ward file go to the ward; others to ``handler``."""

    def handle(args: argparse.Namespace) -> int:
        if not is_ward_file(args.scenario):
            return int(handler(args))
        if command == "validate":
            from pumpsim.ward import load_ward

            ward = load_ward(args.scenario)
            pumps = sum(len(b.pumps) for b in ward.expanded())
            print(f"{args.scenario}: valid ward ({ward.name}; {len(ward.expanded())} beds, "
                  f"{pumps} pumps, {ward.nurses.count} nurses)")  # fmt: skip
            return 0
        return cmd_ward(args)

    return handle
