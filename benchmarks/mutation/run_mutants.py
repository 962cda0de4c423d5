"""Run every mutant of ``tests/mutants/mutants.py`` through ``pumpsim verify`` and print the kill
ratio (a mutant is killed when at least one requirement fails, or its controller crashes).

    python benchmarks/mutation/run_mutants.py [--jobs 2] [NAME ...]

Each mutant is the reference controller with one realistic firmware bug; the ratio is the share
of them the conformance suite catches. Not part of the test run (``tests/test_verify_mutants.py``
runs a fast subset).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTANTS_FILE = ROOT / "tests" / "mutants" / "mutants.py"


def judge(name: str, file: Path = MUTANTS_FILE) -> tuple[str, list[str], list[str], float]:
    from pumpsim.verify import verify

    t0 = time.perf_counter()
    report = verify(f"{file}:{name}")
    crashed = sorted({r.file for r in report.runs if r.crashed})
    return name, report.failed, crashed, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--file", type=Path, default=MUTANTS_FILE,
                        help="a module of mutants with a MUTANTS dict (default: the suite)")
    args = parser.parse_args(argv)
    import importlib.util

    spec = importlib.util.spec_from_file_location("pumpsim_mutants", args.file.resolve())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants: dict[str, str] = module.MUTANTS

    names = args.names or list(mutants)
    files = [args.file.resolve()] * len(names)
    rows = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(judge, names, files))
    else:
        rows = [judge(n, f) for n, f in zip(names, files, strict=True)]
    killed = 0
    print(f"{'mutant':32s} {'area':9s} {'killed':6s} failed requirements / crashed scenarios")
    for name, failed, crashed, secs in rows:
        dead = bool(failed or crashed)
        killed += dead
        what = ", ".join(failed) + (f" (crashed in {', '.join(crashed)})" if crashed else "")
        print(f"{name:32s} {mutants[name]:9s} {'yes' if dead else 'NO':6s} {what}  [{secs:.0f} s]")
    print(f"kill ratio: {killed}/{len(rows)} = {100 * killed / max(len(rows), 1):.0f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
