"""A sweep's summary: population percentiles per grid point, as a table and a figure.

``summary.csv`` has one row per grid point and drug: the grid values, the number of
patients, the 5th, 50th and 95th percentiles over the population of Cmax, Tmax, AUC and
time in the target range, and the run's alarms and infused volume. ``summary.png``
plots the median with a 5-95 % band of each metric against the first numeric axis, one
line per combination of the other axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pumpsim.sweep.grid import Grid
    from pumpsim.sweep.store import SweepStore

__all__ = ["summarise", "plot_summary", "write_summary", "PERCENTILES"]

PERCENTILES = (5, 50, 95)
_SPREAD = ("cmax", "tmax_s", "auc", "time_in_range_s")
_RUN = ("alarms", "alarms_high", "volume_mL")


def summarise(frame: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """One row per point and drug with the population percentiles (see module doc)."""
    import pandas as pd

    cols = [a.column for a in grid.axes]
    rows = []
    for (point, drug), g in frame.groupby(["point", "drug"], sort=True):
        row: dict[str, Any] = {"point": point, **{c: g[c].iloc[0] for c in cols},
                               "drug": drug, "plasma_unit": g["plasma_unit"].iloc[0],
                               "n": len(g)}  # fmt: skip
        for metric in _SPREAD:
            values = g[metric].to_numpy(dtype=float)
            for p in PERCENTILES:
                row[f"{metric}_p{p}"] = (float(np.percentile(values, p))
                                         if not np.isnan(values).all() else np.nan)  # fmt: skip
        for metric in _RUN:
            row[metric] = g[metric].iloc[0]
        rows.append(row)
    return pd.DataFrame(rows)


def plot_summary(summary: pd.DataFrame, grid: Grid) -> Any:
    """Median and 5-95 % band of Cmax, AUC and time in range over the grid (a Figure)."""
    from matplotlib.figure import Figure

    numeric = [a for a in grid.axes if a.numbers is not None] or list(grid.axes)
    x_axis = numeric[0]
    others = [a for a in grid.axes if a is not x_axis]
    metrics = [("cmax", "Cmax"), ("auc", "AUC"), ("time_in_range_s", "time in range")]
    metrics = [m for m in metrics if summary[f"{m[0]}_p50"].notna().any()]
    drugs = list(dict.fromkeys(summary["drug"]))
    fig = Figure(figsize=(4.2 * len(metrics), 3.4 * len(drugs)))
    axes = fig.subplots(len(drugs), len(metrics), squeeze=False)
    groups = summary.groupby([a.column for a in others], sort=False) if others else [((), summary)]
    for r, drug in enumerate(drugs):
        unit = summary.loc[summary["drug"] == drug, "plasma_unit"].iloc[0]
        units = {"cmax": unit, "auc": f"{unit}·h", "time_in_range_s": "h"}
        for key, g in groups:
            g = g[g["drug"] == drug].sort_values(x_axis.column)
            key = key if isinstance(key, tuple) else (key,)
            name = ", ".join(f"{a.path.split('.')[-1]}={_fmt(v)}{' ' + a.unit if a.unit else ''}"
                             for a, v in zip(others, key, strict=True))  # fmt: skip
            x = g[x_axis.column]
            for c, (metric, title) in enumerate(metrics):
                scale = 1 / 3600.0 if metric == "time_in_range_s" else 1.0
                ax = axes[r][c]
                line, = ax.plot(x, g[f"{metric}_p50"] * scale, marker="o", label=name or None)
                ax.fill_between(x, g[f"{metric}_p5"] * scale, g[f"{metric}_p95"] * scale,
                                color=line.get_color(), alpha=0.18, linewidth=0)  # fmt: skip
                ax.set_title(f"{drug}: {title}")
                ax.set_ylabel(f"{title} [{units[metric]}]")
                ax.set_xlabel(x_axis.column)
                ax.grid(alpha=0.3)
    n = int(summary["n"].iloc[0]) if len(summary) else 0
    if others:
        axes[0][-1].legend(fontsize=8, title="median, 5-95 % band", title_fontsize=8)
    fig.suptitle(f"pumpsim sweep: {len(summary)} points x {n} patients", fontsize=11)
    fig.tight_layout()
    return fig


def write_summary(store: SweepStore, grid: Grid, plots: bool = True) -> pd.DataFrame:
    """Write ``summary.csv`` (and ``summary.png``) from every point written so far."""
    frame = store.read()
    if "priority" in frame.columns:  # a ward sweep
        from pumpsim.ward.sweep import plot_ward_summary, summarise_ward

        table = summarise_ward(frame, grid)
        plot = plot_ward_summary
    else:
        table = summarise(frame, grid)
        plot = plot_summary
    table.to_csv(store.out / "summary.csv", index=False, float_format="%.6g")
    if plots and len(table):
        plot(table, grid).savefig(store.out / "summary.png", dpi=110)  # a Figure: no pyplot
    return table


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
