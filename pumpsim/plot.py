"""Figures of a run (matplotlib, imported lazily).

Each panel function takes ``ax=`` and returns the artists it drew;
:func:`overview` stacks them on a shared time axis with alarms and scripted
events marked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.result import Result

__all__ = ["overview", "plot_flows", "plot_concentrations", "mark_events", "save_plots"]

_COLUMN = re.compile(r"^(?P<path>.+)\[(?P<unit>.*)\]$")


def _time_axis(result: Result) -> tuple[np.ndarray, str, float]:
    t = result.timeseries.index.to_numpy(dtype=float)
    if t.size and t[-1] > 3 * 3600:
        return t / 3600.0, "time [h]", 3600.0
    return t / 60.0, "time [min]", 60.0


def _columns(result: Result, prefix: str, suffix: str) -> list[tuple[str, str, str]]:
    out = []
    for col in result.timeseries.columns:
        m = _COLUMN.match(col)
        if m and col.startswith(prefix) and m["path"].endswith(suffix):
            out.append((col, m["path"], m["unit"]))
    return out


def plot_flows(result: Result, ax: Any) -> list[Any]:
    """Delivered flow of every pump [mL/h] as steps."""
    t, label, _ = _time_axis(result)
    handles = []
    for col, path, _unit in _columns(result, "pump.", ".flow"):
        (h,) = ax.step(t, result.timeseries[col], where="post", label=path.split(".")[1])
        handles.append(h)
    ax.set_ylabel("flow [mL/h]")
    if handles:
        ax.legend(title="pump", loc="upper right", fontsize="small")
    return handles


def plot_concentrations(result: Result, ax: Any, drug: str) -> list[Any]:
    """Plasma (solid) and effect-site (dashed) concentration of ``drug``.

    For a virtual population: the median with a band between the lowest and
    highest percentile recorded (5-95 % by default).
    """
    t, _, _ = _time_axis(result)
    handles = []
    units = set()
    bands: dict[str, dict[float, str]] = {}
    for col, path, unit in _columns(result, f"patient.{drug}.", ""):
        units.add(unit)
        parts = path.split(".")
        if parts[-1].startswith("p") and parts[-1][1:].replace(".", "").isdigit():
            bands.setdefault(parts[-2], {})[float(parts[-1][1:])] = col
            continue
        kind = parts[-1]
        (h,) = ax.plot(t, result.timeseries[col], "-" if kind == "plasma" else "--", label=kind)
        handles.append(h)
    for kind, cols in bands.items():
        pcts = sorted(cols)
        mid = min(pcts, key=lambda p: abs(p - 50.0))
        style = "-" if kind == "plasma" else "--"
        (h,) = ax.plot(t, result.timeseries[cols[mid]], style, label=f"{kind} p{mid:g}")
        handles.append(h)
        if len(pcts) > 1:
            handles.append(ax.fill_between(t, result.timeseries[cols[pcts[0]]],
                                           result.timeseries[cols[pcts[-1]]], alpha=0.25,
                                           color=h.get_color(),
                                           label=f"{kind} p{pcts[0]:g}-p{pcts[-1]:g}"))  # fmt: skip
    ax.set_ylabel(f"{drug}\n[{', '.join(sorted(units))}]")
    if handles:
        ax.legend(loc="upper right", fontsize="small")
    return handles


def mark_events(result: Result, axes: list[Any]) -> list[Any]:
    """Vertical lines at alarms (red) and scripted doses (grey) on every axis."""
    _, _, scale = _time_axis(result)
    handles = []
    for ev in result.events:
        if ev.kind == "alarm":
            color, text = "tab:red", ev.details.get("alarm", "alarm")
        elif ev.kind == "bolus":
            color, text = "0.4", f"bolus {ev.details.get('drug', '')}"
        else:
            continue
        for ax in axes:
            handles.append(ax.axvline(ev.time_s / scale, color=color, lw=0.8, ls=":"))
        handles.append(
            axes[0].annotate(text, (ev.time_s / scale, 1.0), xycoords=("data", "axes fraction"),
                             fontsize="x-small", color=color, rotation=90, va="top", ha="right")
        )  # fmt: skip
    return handles


def _panels(result: Result) -> tuple[bool, list[str]]:
    return bool(_columns(result, "pump.", ".flow")), list(result.summary.get("drugs", {}))


def _figsize(result: Result) -> tuple[float, float]:
    has_pumps, drugs = _panels(result)
    return 9.0, 2.2 * max(int(has_pumps) + len(drugs), 1) + 1.0


def overview(result: Result, fig: Any = None) -> Any:
    """Flows, concentrations per drug, aligned in time, with alarms and doses marked.

    Draws into ``fig`` if given, else a new pyplot figure; returns the figure.
    """
    has_pumps, drugs = _panels(result)
    n = max(int(has_pumps) + len(drugs), 1)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=_figsize(result), layout="constrained")
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0].tolist()
    i = 0
    if has_pumps:
        plot_flows(result, axes[i])
        i += 1
    for drug in drugs:
        plot_concentrations(result, axes[i], drug)
        i += 1
    mark_events(result, axes)
    _, label, _ = _time_axis(result)
    axes[-1].set_xlabel(label)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(result.scenario.name, fontsize="medium")
    cites = result.summary.get("drugs", {})
    models = ", ".join(f"{d}: {v['model']}" for d, v in cites.items())
    if models:
        fig.text(0.01, 0.002, f"PK models - {models}", fontsize="x-small", va="bottom")
    return fig


def save_plots(result: Result, folder: str | Path) -> list[Path]:
    """Write ``overview.png`` into ``folder``."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figure list

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = overview(result, fig=Figure(figsize=_figsize(result), layout="constrained"))
    path = folder / "overview.png"
    fig.savefig(path, dpi=110)
    return [path]
