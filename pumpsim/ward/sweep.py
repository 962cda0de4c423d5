"""Wards through the sweep machinery: one task per grid point, rows per alarm priority.

``pumpsim sweep ward.yaml --grid "nurses.count=3,4,5" --replicates 8`` runs 24 wards on
the cluster; each task returns its burden table (one row per priority) with the costs
repeated on each row, and the summary gives, per point, the mean and the 5-95 %
range over the replicates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

    from pumpsim.sweep.grid import Grid

__all__ = ["run_ward_point", "summarise_ward", "plot_ward_summary"]

_COSTS = ("interrupted_h_all", "not_given_mL_all", "dry_runs_all", "interrupted_h_critical",
          "dry_runs_critical", "nurse_utilisation_mean")  # fmt: skip


def run_ward_point(data: dict[str, Any], columns: dict[str, Any], point: int,
                   seed: int) -> pa.Table:  # fmt: skip
    """Run one ward (seed from the point's SeedSequence child) -> its burden rows."""
    import pyarrow as pa

    from pumpsim.ward import simulate_ward

    res = simulate_ward(data, seed=seed)
    table = res.burden()
    costs = res.costs()
    for key in _COSTS:
        table[key] = float(costs[key])
    for col, value in columns.items():
        table[col] = value
    table.insert(0, "point", point)
    return pa.Table.from_pandas(table, preserve_index=False)


def summarise_ward(frame: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """Per point of the non-replicate axes and priority: mean and 5/95 % over replicates."""
    import pandas as pd

    keys = [a.column for a in grid.axes if a.path != "replicate"] + ["priority"]
    metrics = ["per_bed_day", "per_nurse_hour", "respond_median_min", "respond_p90_min",
               "wait_median_min", *_COSTS]  # fmt: skip
    rows = []
    for key, g in frame.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row["runs"] = len(g)
        for m in metrics:
            v = g[m].to_numpy(dtype=float)
            row[f"{m}_mean"] = float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
            row[f"{m}_p5"] = float(np.nanpercentile(v, 5)) if np.isfinite(v).any() else np.nan
            row[f"{m}_p95"] = float(np.nanpercentile(v, 95)) if np.isfinite(v).any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def plot_ward_summary(summary: pd.DataFrame, grid: Grid) -> Any:
    """90th percentile of the time to respond, interrupted hours and nurse time on alarms
    against the first axis (mean and 5-95 % over the replicates)."""
    from matplotlib.figure import Figure

    axes_ = [a for a in grid.axes if a.path != "replicate"]
    x = axes_[0].column if axes_ else "priority"
    fig = Figure(figsize=(12.6, 3.6))
    panels = fig.subplots(1, 3)
    for prio in ("high", "medium", "low"):
        g = summary[summary["priority"] == prio].sort_values(x)
        if g.empty or not g["respond_p90_min_mean"].notna().any():
            continue  # no alarm of this priority
        m = "respond_p90_min"
        panels[0].errorbar(g[x], g[f"{m}_mean"], marker="o", label=prio, capsize=3,
                           yerr=[g[f"{m}_mean"] - g[f"{m}_p5"], g[f"{m}_p95"] - g[f"{m}_mean"]])
    g = summary[summary["priority"] == "all"].sort_values(x)
    for ax, m, label in ((panels[1], "interrupted_h_all", "pumps interrupted [h]"),
                         (panels[2], "nurse_utilisation_mean", "nurse time on alarms")):
        ax.errorbar(g[x], g[f"{m}_mean"], yerr=[g[f"{m}_mean"] - g[f"{m}_p5"],
                    g[f"{m}_p95"] - g[f"{m}_mean"]], marker="o", capsize=3)  # fmt: skip
        ax.set_ylabel(label)
    panels[0].set_ylabel("time to respond, 90th percentile [min]")
    panels[0].legend(title="priority", fontsize=8)
    for ax in panels:
        ax.set_xlabel(x)
        ax.grid(alpha=0.3)
    fig.suptitle("pumpsim ward sweep: mean and 5-95 % over replicates", fontsize=11)
    fig.tight_layout()
    return fig
