"""Figures of the simulated test bench (matplotlib, imported lazily).

Each function draws into ``ax`` and returns the artists it drew; the
``save_*`` helpers build figures without pyplot (no GUI backend, no global
figure list) and write PNG files.

* :func:`plot_startup` — start-up graph: flow ``Q_i`` [mL/h] every 0.5 min over
  the whole test, the set rate, the analysis period shaded.
* :func:`plot_trumpet` — trumpet curve: Ep(max) and Ep(min) [%] against the
  observation window P [min], with the mean error A.
* :func:`plot_occlusion` — pressure from the occlusion on, one curve per rate,
  the alarm threshold and each alarm marked; :func:`plot_release` the volume
  delivered around the release (the bolus).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.bench import OcclusionBench, TrumpetBench

__all__ = [
    "plot_startup",
    "plot_trumpet",
    "plot_occlusion",
    "plot_release",
    "save_trumpet_figures",
    "save_occlusion_figure",
]


def plot_startup(bench: TrumpetBench, ax: Any) -> list[Any]:
    """Start-up graph (IEC 60601-2-24 fig. 201.104 [R]) of ``bench`` into ``ax``."""
    g = bench.graph
    prof = bench.profile
    handles = [
        ax.step(g.time_min, g.flow_ml_h, where="pre", lw=1.0, label="Q_i (0.5-min balance)")[0],
        ax.axhline(bench.rate_ml_h, color="k", ls="--", lw=0.8, label="set rate"),
        ax.axvspan(
            prof.analysis_start_min,
            prof.test_period_min,
            color="0.9",
            zorder=0,
            label="analysis period T2",
        ),  # fmt: skip
    ]
    ax.set_xlabel("time [min]")
    ax.set_ylabel("flow [mL/h]")
    ax.set_xlim(0, prof.test_period_min)
    top = max(float(np.max(g.flow_ml_h)), bench.rate_ml_h)
    ax.set_ylim(min(0.0, float(np.min(g.flow_ml_h))), 1.15 * top)
    ax.set_title(f"Start-up graph: {bench.pump} at {bench.rate_ml_h:g} mL/h", fontsize="medium")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return handles


def plot_trumpet(bench: TrumpetBench, ax: Any) -> list[Any]:
    """Trumpet curve (IEC 60601-2-24 fig. 201.106 [R]) of ``bench`` into ``ax``."""
    tr = bench.trumpet
    p = np.array([w.window_min for w in tr.windows])
    hi = np.array([w.ep_max_pct for w in tr.windows])
    lo = np.array([w.ep_min_pct for w in tr.windows])
    handles = [
        ax.plot(p, hi, "o-", color="tab:red", label="Ep(max)")[0],
        ax.plot(p, lo, "s-", color="tab:blue", label="Ep(min)")[0],
        ax.axhline(tr.A, color="k", ls="--", lw=0.9, label=f"A = {tr.A:+.2f} %"),
        ax.axhline(0.0, color="0.6", lw=0.6),
    ]
    for x, a, b in zip(p, hi, lo, strict=True):
        handles.append(ax.annotate(f"{a:+.2f}", (x, a), textcoords="offset points", xytext=(4, 4),
                                   fontsize="x-small", color="tab:red"))  # fmt: skip
        handles.append(ax.annotate(f"{b:+.2f}", (x, b), textcoords="offset points", xytext=(4, -10),
                                   fontsize="x-small", color="tab:blue"))  # fmt: skip
    span = max(1.0, float(np.max(np.abs(np.concatenate([hi, lo])))))
    ax.set_ylim(-1.25 * span, 1.25 * span)
    ax.set_xlim(0, float(p[-1]) + 2)
    ax.set_xticks(p)
    ax.set_xlabel("observation window P [min]")
    ax.set_ylabel("flow error [%]")
    ax.set_title(
        f"Trumpet curve: {bench.pump} at {bench.rate_ml_h:g} mL/h "
        f"(2nd hour, S = {tr.sample_interval_min:g} min)",
        fontsize="medium",
    )
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(alpha=0.3)
    return handles


def plot_occlusion(results: Sequence[OcclusionBench], ax: Any) -> list[Any]:
    """Pressure [mmHg] against time since the occlusion [min], alarms marked."""
    handles: list[Any] = []
    for i, r in enumerate(results):
        ts = r.timeseries
        t = (ts.index.to_numpy(dtype=float) - r.occluded_at_s) / 60.0
        keep = (t >= -5) & (ts.index.to_numpy(dtype=float) <= r.released_at_s + 60)
        (line,) = ax.plot(t[keep], ts["pump.P.pressure[mmHg]"].to_numpy()[keep],
                          label=f"{r.rate_ml_h:g} mL/h")  # fmt: skip
        handles.append(line)
        if np.isfinite(r.alarm_at_s):
            ta = r.time_to_alarm_s / 60.0
            handles.append(ax.plot([ta], [r.threshold_mmhg], "x", color=line.get_color(), ms=9,
                                   mew=2)[0])  # fmt: skip
            handles.append(ax.annotate(f"alarm at {ta:.1f} min", (ta, r.threshold_mmhg),
                                       textcoords="offset points", xytext=(-8, -14 - 12 * (i % 4)),
                                       ha="right", fontsize="small", color=line.get_color(),
                                       bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                                             "ec": "none", "alpha": 0.85}))  # fmt: skip
    if results:
        handles.append(
            ax.axhline(
                results[0].threshold_mmhg,
                color="tab:red",
                ls=":",
                lw=1,
                label=f"alarm limit {results[0].threshold_mmhg:g} mmHg",
            )
        )
        ax.set_ylim(top=1.2 * results[0].threshold_mmhg)
    ax.axvline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel("time since occlusion [min]")
    ax.set_ylabel("line pressure [mmHg]")
    ax.set_title("Occlusion: pressure ramp to the alarm, then release", fontsize="medium")
    ax.legend(loc="upper left", fontsize="small", ncols=2)
    ax.grid(alpha=0.3)
    return handles


def plot_release(results: Sequence[OcclusionBench], ax: Any) -> list[Any]:
    """Volume delivered since the release [mL]: the post-occlusion bolus."""
    handles: list[Any] = []
    for r in results:
        if not np.isfinite(r.released_at_s):
            continue
        ts = r.timeseries
        t = ts.index.to_numpy(dtype=float) - r.released_at_s
        col = "pump.P.delivered[mL]"
        v = ts[col].to_numpy()
        v0 = float(v[t < 0][-1])
        keep = (t >= -60) & (t <= 120)
        handles += ax.step(t[keep], v[keep] - v0, where="post",
                           label=f"{r.rate_ml_h:g} mL/h: {r.bolus_ml:.2f} mL")  # fmt: skip
    ax.axvline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel("time since release [s]")
    ax.set_ylabel("delivered since release [mL]")
    title = "Post-occlusion bolus" + (" (back-off)" if results and results[0].back_off else "")
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return handles


def save_trumpet_figures(
    bench: TrumpetBench, folder: str | Path, formats: Sequence[str] = ("png",), dpi: int = 110
) -> list[Path]:
    """Write ``startup.png`` and ``trumpet.png`` into ``folder`` (and .svg / .pdf copies
    per ``formats``; PNG at ``dpi``)."""
    from matplotlib.figure import Figure

    from pumpsim.plot import save_figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in (("startup.png", plot_startup), ("trumpet.png", plot_trumpet)):
        fig = Figure(figsize=(8, 4.5), layout="constrained")
        draw(bench, fig.add_subplot())
        paths += save_figure(fig, folder / name, formats, dpi)
    return paths


def save_occlusion_figure(results: Sequence[OcclusionBench], folder: str | Path,
                          formats: Sequence[str] = ("png",), dpi: int = 110) -> Path:  # fmt: skip
    """Write ``occlusion.png`` (pressure ramps and alarms; release bolus) into ``folder``
    (and .svg / .pdf copies per ``formats``; PNG at ``dpi``); returns the first file."""
    from matplotlib.figure import Figure

    from pumpsim.plot import save_figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(9, 7.5), layout="constrained")
    top, bottom = fig.subplots(2, 1)
    plot_occlusion(results, top)
    plot_release(results, bottom)
    return save_figure(fig, folder / "occlusion.png", formats, dpi)[0]
