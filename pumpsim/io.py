"""Writing a run's files: nothing half-written, nothing of the user's touched.

Every output folder is written as a whole: :func:`output_folder` gives a fresh
temporary folder beside the target, and only when everything in it has been
written is it renamed into place. An interrupted or failed run leaves no folder
that looks complete, and never a mix of old and new files.

The target must be new or empty. A folder pumpsim wrote before (it holds the
marker file :data:`MARKER`) is replaced only with ``force=True`` (``--force``);
a non-empty folder pumpsim did not write is never replaced: pumpsim deletes no
file it did not write.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pumpsim.errors import PumpsimError

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.result import Result

__all__ = ["write_result", "write_files", "output_folder", "check_output", "OutputError",
           "OUTPUT_FILES", "MARKER"]  # fmt: skip

OUTPUT_FILES = ("timeseries.csv", "events.jsonl", "summary.json", "scenario.resolved.yaml")
#: the file that says "pumpsim wrote this folder" (and may replace it with --force)
MARKER = ".pumpsim-output"


class OutputError(PumpsimError):
    """The output folder cannot be written: one line saying where and why."""


def _check_target(out: Path, force: bool) -> bool:
    """Whether ``out`` exists (as a folder that may be replaced); raise if it may not."""
    if not out.exists():
        if out.is_symlink():
            raise OutputError(f"{out}: a broken symbolic link; give a new or empty folder")
        return False
    if not out.is_dir():
        raise OutputError(f"{out}: is a file, not a folder; give a new or empty folder")
    entries = list(out.iterdir())
    if not entries:
        return True
    if not (out / MARKER).is_file():
        raise OutputError(f"{out}: the folder is not empty and pumpsim did not write it; "
                          "pumpsim writes only into a new or empty folder (it never deletes "
                          "files it did not write): give another --out")  # fmt: skip
    if not force:
        raise OutputError(f"{out}: holds the results of an earlier run; pumpsim replaces them "
                          "only with --force (Python: force=True), or give another --out")
    return True


def check_output(target: str | Path, force: bool = False) -> None:
    """Raise :class:`OutputError` now if :func:`output_folder` would refuse ``target``
    (so a long run is not started for nothing)."""
    try:
        _check_target(Path(target), force)
    except OSError as exc:
        raise _fail(Path(target), exc) from None


def _fail(out: Path, exc: OSError) -> OutputError:
    where = str(exc.filename or "")
    where = "" if not where or ".pumpsim-" in where else f" {where}"  # not our temporary name
    return OutputError(f"{out}: cannot write{where}: {exc.strerror or exc}")


@contextmanager
def output_folder(target: str | Path, force: bool = False) -> Iterator[Path]:
    """A fresh folder to write into; renamed to ``target`` when the block ends without error.

    Raises
    ------
    OutputError
        ``target`` is a file, a non-empty folder pumpsim did not write, an earlier
        run's folder without ``force``, or a place that cannot be written.
    """
    out = Path(target)
    try:
        exists = _check_target(out, force)
        out.absolute().parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".pumpsim-", dir=out.absolute().parent))
    except OSError as exc:
        raise _fail(out, exc) from None
    try:
        try:
            (tmp / MARKER).write_text("written by pumpsim; `--force` may replace this folder\n",
                                      encoding="utf-8")  # fmt: skip
            yield tmp
            if exists:  # checked again: it may have changed while the run went on
                _check_target(out, force)
                old = Path(tempfile.mkdtemp(prefix=".pumpsim-old-", dir=out.absolute().parent))
                os.replace(out, old / "previous")
                os.replace(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out)
        except OSError as exc:
            raise _fail(out, exc) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_files(result: Result, folder: Path, plots: bool = True,
                formats: Sequence[str] = ("png",), dpi: int | None = None) -> None:  # fmt: skip
    """Write timeseries.csv, events.jsonl, summary.json, scenario.resolved.yaml and
    plots/*.png (and .svg / .pdf per ``formats``; PNG at ``dpi``) into ``folder``
    (created; no atomicity: see :func:`write_result`)."""
    from pumpsim.scenario.load import dump_scenario

    folder.mkdir(parents=True, exist_ok=True)
    result.timeseries.to_csv(folder / "timeseries.csv", float_format="%.10g")
    with open(folder / "events.jsonl", "w", encoding="utf-8") as fh:
        for record in result.events:
            fh.write(record.to_json() + "\n")
    (folder / "summary.json").write_text(
        json.dumps(result.summary, indent=2, default=str) + "\n", encoding="utf-8"
    )
    resolved = dump_scenario(result.scenario)
    header = f"# resolved by pumpsim; seed {result.seed}\n"
    (folder / "scenario.resolved.yaml").write_text(header + resolved, encoding="utf-8")
    if plots:
        from pumpsim.plot import save_plots

        if dpi is None:
            save_plots(result, folder / "plots", formats)
        else:
            save_plots(result, folder / "plots", formats, dpi)


def write_result(result: Result, out_dir: str | Path, plots: bool = True,
                 force: bool = False, formats: Sequence[str] = ("png",),
                 dpi: int | None = None) -> Path:  # fmt: skip
    """Write a run's files into the new or empty folder ``out_dir`` (see :func:`output_folder`)."""
    with output_folder(out_dir, force) as tmp:
        write_files(result, tmp, plots, formats, dpi)
    return Path(out_dir)
