"""Figures of a run (matplotlib, imported lazily).

Each panel function takes ``ax=`` and returns the artists it drew;
:func:`overview` stacks them on a shared time axis with alarms and scripted
events marked.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.result import Result

__all__ = [
    "overview",
    "plot_flows",
    "plot_pressures",
    "plot_concentrations",
    "plot_vitals",
    "mark_events",
    "save_plots",
    "save_figure",
    "display_unit",
    "add_citations",
    "PLOT_FORMATS",
]

#: file formats a figure can be written in (``--plot-format``)
PLOT_FORMATS = ("png", "svg", "pdf")
#: default resolution of PNG files [dots per inch]
DEFAULT_DPI = 110
_MICRO = re.compile(r"(?<![A-Za-z])u(?=(g|L|mol|m)(?![a-z]))")


def display_unit(text: str) -> str:
    """``ug/mL`` -> ``µg/mL`` for display (column names keep their ASCII units)."""
    return _MICRO.sub("\u00b5", text)


def save_figure(fig: Any, path: str | Path, formats: Sequence[str] = ("png",),
                dpi: int = DEFAULT_DPI) -> list[Path]:  # fmt: skip
    """Write ``fig`` as ``path`` with each suffix in ``formats`` (png, svg, pdf).

    ``dpi`` sets the PNG resolution; SVG and PDF are vector files.
    """
    stem = Path(path).with_suffix("")
    out = []
    for fmt in formats:
        if fmt not in PLOT_FORMATS:
            raise ValueError(f"plot format {fmt!r}: allowed {', '.join(PLOT_FORMATS)}")
        target = stem.with_suffix("." + fmt)
        fig.savefig(target, dpi=dpi, format=fmt)
        out.append(target)
    return out


def add_citations(fig: Any, lines: Sequence[str], fontsize: float = 6.0) -> Any:
    """Citations under the axes, wrapped to the figure's width, never cut.

    They are the figure's ``supxlabel``, so a constrained layout reserves
    room for every line.
    """
    if not lines:
        return None
    width_in = float(fig.get_figwidth())
    chars = max(40, int(width_in * 72.0 / (0.6 * fontsize)))  # a character ~0.6 em wide
    text = "\n".join(textwrap.fill(line, chars, subsequent_indent="  ") for line in lines)
    return fig.supxlabel(text, x=0.01, ha="left", fontsize=fontsize, linespacing=1.2)

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
        _clip_spikes(result, ax, [c for c, _, _ in _columns(result, "pump.", ".flow")])
    return handles


def _clip_spikes(result: Result, ax: Any, cols: list[str]) -> None:
    """Keep a seconds-long spike (a release bolus) from flattening the flow axis."""
    values = np.concatenate([result.timeseries[c].to_numpy(dtype=float) for c in cols])
    typical, peak = float(np.percentile(values, 99)), float(values.max())
    if typical > 0 and peak > 5 * typical:
        ax.set_ylim(bottom=0.0, top=1.6 * typical)
        ax.annotate(f"peak {peak:.4g} mL/h (axis clipped)", (0.01, 0.97),
                    xycoords="axes fraction", va="top", fontsize="x-small")  # fmt: skip


def plot_pressures(result: Result, ax: Any) -> list[Any]:
    """Line pressure of every pump with a line model [mmHg]; its occlusion limit dotted."""
    t, _, _ = _time_axis(result)
    handles = []
    for col, path, _unit in _columns(result, "pump.", "pressure"):
        pid = path.split(".")[1]
        upstream = path.endswith("upstream_pressure")
        if upstream and not result.timeseries[col].any():
            continue  # an upstream sensor that never saw anything
        (h,) = ax.plot(t, result.timeseries[col], "--" if upstream else "-",
                       label=f"{pid} upstream" if upstream else pid)  # fmt: skip
        handles.append(h)
        pump = next((p for p in result.scenario.pumps if p.id == pid), None)
        limit = getattr(getattr(pump, "settings", None), "occlusion_limit", None)
        if limit is not None and not upstream:
            handles.append(ax.axhline(limit, color=h.get_color(), ls=":", lw=0.9,
                                      label=f"{pid} limit {limit:g} mmHg"))  # fmt: skip
    ax.set_ylabel("pressure [mmHg]")
    if handles:
        ax.legend(loc="upper left", fontsize="small")
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
    ax.set_ylabel(display_unit(f"{drug}\n[{', '.join(sorted(units))}]"))
    if handles:
        ax.legend(loc="upper right", fontsize="small")
    return handles


def _vital_columns(result: Result) -> dict[str, str]:
    """Vital -> column (the median band for a virtual population)."""
    out: dict[str, str] = {}
    for col, path, _unit in _columns(result, "patient.vitals.", ""):
        parts = path.split(".")
        if len(parts) == 3 or parts[3] == "p50":
            out.setdefault(parts[2], col)
    return out


def plot_vitals(result: Result, ax: Any) -> list[Any]:
    """HR, MAP and SpO2 on ``ax``, RR on a twin axis on the right; monitor limits dotted."""
    t, _, _ = _time_axis(result)
    cols = _vital_columns(result)
    styles = {"hr": ("HR [1/min]", "tab:red"), "map": ("MAP [mmHg]", "tab:purple"),
              "spo2": ("SpO2 [%]", "tab:blue")}  # fmt: skip
    handles = []
    for name, (label, color) in styles.items():
        if name in cols:
            (h,) = ax.plot(t, result.timeseries[cols[name]], color=color, label=label)
            handles.append(h)
    if "spo2" in cols:
        handles.append(ax.axhline(90.0, color="tab:blue", ls=":", lw=0.8))
    ax.set_ylabel("HR, MAP, SpO2")
    ax.set_ylim(bottom=0.0)
    if "rr" in cols:
        rr_ax = ax.twinx()
        (h,) = rr_ax.plot(t, result.timeseries[cols["rr"]], color="tab:green", label="RR [1/min]")
        handles += [h, rr_ax.axhline(8.0, color="tab:green", ls=":", lw=0.8)]
        rr_ax.set_ylabel("RR [1/min]", color="tab:green")
        rr_ax.set_ylim(bottom=0.0, top=max(30.0, float(result.timeseries[cols["rr"]].max()) * 1.2))
    lines = [h for h in handles if h.get_label() and not h.get_label().startswith("_")]
    if lines:
        ax.legend(lines, [h.get_label() for h in lines], loc="lower left", fontsize="small",
                  ncol=4, bbox_to_anchor=(0.0, 1.0), frameon=False, borderaxespad=0.1)  # fmt: skip
    return handles


#: fault records marked on the overview: kind -> label from the record's details
FAULT_MARKS: dict[str, Any] = {
    "infiltration": lambda d: "infiltration",
    "disconnection": lambda d: "disconnected",
    "reconnection": lambda d: "reconnected",
    "door": lambda d: "door open" if d.get("open") else "door closed",
    "power": lambda d: "mains restored" if d.get("mains") else "mains lost",
    "power_off": lambda d: "power off",
    "free_flow": lambda d: "free flow",
}


#: event marker categories: name in the legend -> colour of the dotted line
EVENT_COLORS = {
    "alarm": "tab:red",
    "bolus": "0.4",
    "occlusion": "tab:purple",
    "bedside fault": "tab:brown",
    "adverse reaction": "tab:orange",
    "clinician / interlock": "tab:green",
}


def _event_mark(ev: Any) -> tuple[str, str] | None:
    """(category, label) of an event record drawn on the overview, or None."""
    if ev.kind == "alarm":
        return "alarm", str(ev.details.get("alarm", "alarm"))
    if ev.kind == "bolus":
        return "bolus", f"bolus {ev.details.get('drug', '')}".strip()
    if ev.kind in ("occlusion", "occlusion_cleared"):
        return "occlusion", ev.kind.replace("_", " ")
    if ev.kind in FAULT_MARKS:  # bedside faults (pumpsim.engine.faults)
        return "bedside fault", str(FAULT_MARKS[ev.kind](ev.details))
    if ev.kind == "adverse_reaction" and ev.details.get("phase") == "onset":
        return "adverse reaction", str(ev.details.get("reaction", "reaction"))
    if ev.source in ("clinician", "interlock") and ev.kind in ("action", "pause"):
        # pumpsim.engine.clinician / .interlock
        return "clinician / interlock", f"{ev.source} {ev.details.get('action', ev.kind)}"
    return None


def mark_events(result: Result, axes: list[Any], labels: bool = True) -> list[Any]:
    """Dotted vertical lines at alarms, doses, faults and actions on every axis.

    A legend above the panels names the colour of each kind of mark. With
    ``labels``, each mark is named at the top of the first axis; marks closer
    than a label's width share one label (e.g. ``alarm x3``), so no two labels
    overprint. Call it after everything else is drawn: the labels are placed
    from the laid-out axes.
    """
    _, _, scale = _time_axis(result)
    handles: list[Any] = []
    marks: list[tuple[float, str, str]] = []
    for ev in result.events:
        mark = _event_mark(ev)
        if mark is None:
            continue
        x = ev.time_s / scale
        marks.append((x, *mark))
        for ax in axes:
            handles.append(ax.axvline(x, color=EVENT_COLORS[mark[0]], lw=0.8, ls=":"))
    if not marks:
        return handles
    from matplotlib.lines import Line2D

    kinds = [k for k in EVENT_COLORS if any(m[1] == k for m in marks)]
    proxies = [Line2D([], [], color=EVENT_COLORS[k], lw=1.2, ls=":") for k in kinds]
    fig = axes[0].figure
    handles.append(fig.legend(proxies, kinds, loc="outside lower center", ncols=len(kinds),
                              fontsize="small", frameon=False, title="event marks",
                              title_fontsize="small", alignment="left"))  # fmt: skip
    if labels:
        handles += _event_labels(axes[0], sorted(marks, key=lambda m: m[0]))
    return handles


def _event_labels(ax: Any, marks: list[tuple[float, str, str]]) -> list[Any]:
    """Rotated labels at the top of ``ax``; marks within a label's width share one."""
    from collections import Counter

    fig = ax.figure
    fig.draw_without_rendering()  # lay the figure out: axes in their final place
    fontsize = 7.0
    line_px = fontsize * 1.35 * fig.dpi / 72.0  # width of a rotated one-line label
    box = ax.get_window_extent()
    max_chars = max(8, int(0.95 * box.height / (0.6 * fontsize * fig.dpi / 72.0)))
    lo, hi = sorted(ax.get_xlim())
    groups: list[list[tuple[float, str, str]]] = []
    anchor = -np.inf
    for m in marks:
        if not lo <= m[0] <= hi:
            continue
        px = float(ax.transData.transform((m[0], 0.0))[0])
        if groups and px - anchor < 1.25 * line_px:
            groups[-1].append(m)
        else:
            groups.append([m])
            anchor = px
    out = []
    for group in groups:
        counts = Counter(text for _, _, text in group)
        parts = [t if n == 1 else f"{t} x{n}" for t, n in counts.items()]
        text = ", ".join(parts)
        if len(text) > max_chars:
            text = text[: max_chars - 3].rstrip(", ") + "..."
        colors = {EVENT_COLORS[kind] for _, kind, _ in group}
        color = colors.pop() if len(colors) == 1 else "0.15"
        out.append(ax.annotate(text, (group[0][0], 1.0), xycoords=("data", "axes fraction"),
                               xytext=(-1.5, -2.0), textcoords="offset points",
                               fontsize=fontsize, color=color, rotation=90, va="top", ha="right",
                               gid="event-label", annotation_clip=False))  # fmt: skip
    return out


def _panels(result: Result) -> tuple[bool, list[str]]:
    return bool(_columns(result, "pump.", ".flow")), list(result.summary.get("drugs", {}))


def _has_pressure(result: Result) -> bool:
    return bool(_columns(result, "pump.", "pressure"))


def _figsize(result: Result) -> tuple[float, float]:
    has_pumps, drugs = _panels(result)
    n = int(has_pumps) + int(_has_pressure(result)) + len(drugs) + int(bool(_vital_columns(result)))
    return 9.0, 2.2 * max(n, 1) + 1.0


def overview(result: Result, fig: Any = None) -> Any:
    """Flows, concentrations per drug, aligned in time, with alarms and doses marked.

    Draws into ``fig`` if given, else a new pyplot figure; returns the figure.
    """
    has_pumps, drugs = _panels(result)
    has_vitals = bool(_vital_columns(result))
    n = max(int(has_pumps) + int(_has_pressure(result)) + len(drugs) + int(has_vitals), 1)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=_figsize(result), layout="constrained")
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0].tolist()
    i = 0
    if has_pumps:
        plot_flows(result, axes[i])
        i += 1
    if _has_pressure(result):
        plot_pressures(result, axes[i])
        i += 1
    for drug in drugs:
        plot_concentrations(result, axes[i], drug)
        i += 1
    if has_vitals:
        plot_vitals(result, axes[i])
        i += 1
    _, label, _ = _time_axis(result)
    axes[-1].set_xlabel(label)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(result.scenario.name, fontsize="medium")
    cites = result.summary.get("drugs", {})
    models = ", ".join(f"{d}: {v['model']}" for d, v in cites.items())
    if models:
        add_citations(fig, [f"PK models - {models}"])
    mark_events(result, axes)  # last: its labels are placed from the laid-out axes
    return fig


def save_plots(result: Result, folder: str | Path, formats: Sequence[str] = ("png",),
               dpi: int = DEFAULT_DPI) -> list[Path]:  # fmt: skip
    """Write ``overview.png`` into ``folder`` (and ``tci.png`` / ``bis.png`` for TCI and
    BIS runs, :mod:`pumpsim.plot_tci`); each also as SVG / PDF if ``formats`` asks."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figure list

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = overview(result, fig=Figure(figsize=_figsize(result), layout="constrained", dpi=dpi))
    paths = save_figure(fig, folder / "overview.png", formats, dpi)
    from pumpsim.plot_tci import bis_figure, has_bis, has_tci, tci_figure  # TCI, closed loop

    for name, wanted, draw, size in (("tci", has_tci, tci_figure, (10.0, 4.2)),
                                     ("bis", has_bis, bis_figure, (9.0, 6.0))):  # fmt: skip
        if wanted(result):
            paths += save_figure(draw(result, Figure(figsize=size, layout="constrained")),
                                 folder / f"{name}.png", formats, dpi)  # fmt: skip
    return paths
