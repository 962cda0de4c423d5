"""Writing a run's files: nothing half-written.

``write_result`` writes into a temporary folder beside the target and moves
each file into place only when all were written, so a failure leaves the
output folder as it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.result import Result

__all__ = ["write_result", "OUTPUT_FILES"]

OUTPUT_FILES = ("timeseries.csv", "events.jsonl", "summary.json", "scenario.resolved.yaml")


def write_result(result: Result, out_dir: str | Path, plots: bool = True) -> Path:
    """Write timeseries.csv, events.jsonl, summary.json, scenario.resolved.yaml, plots/*.png."""
    from pumpsim.scenario.load import dump_scenario

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pumpsim-", dir=out.parent))
    try:
        result.timeseries.to_csv(tmp / "timeseries.csv", float_format="%.10g")
        with open(tmp / "events.jsonl", "w", encoding="utf-8") as fh:
            for record in result.events:
                fh.write(record.to_json() + "\n")
        (tmp / "summary.json").write_text(
            json.dumps(result.summary, indent=2, default=str) + "\n", encoding="utf-8"
        )
        resolved = dump_scenario(result.scenario)
        header = f"# resolved by pumpsim; seed {result.seed}\n"
        (tmp / "scenario.resolved.yaml").write_text(header + resolved, encoding="utf-8")
        if plots:
            from pumpsim.plot import save_plots

            save_plots(result, tmp / "plots")
        out.mkdir(parents=True, exist_ok=True)
        for item in tmp.iterdir():
            target = out / item.name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            shutil.move(str(item), str(target))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
