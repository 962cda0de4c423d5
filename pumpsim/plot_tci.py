"""Figures of TCI and closed-loop runs (matplotlib, imported lazily by the caller).

* :func:`tci_figure` — for each TCI pump: the firmware's predicted plasma concentration
  and target against the patient's (the population's median and 5-95 % band), and
  the distribution of the Varvel metrics over the virtual patients;
* :func:`bis_figure` — BIS (noise-free and as the monitor read it) with the 40-60 band,
  the propofol dose rate, and the TCI target and prediction when there is one.

Each takes a :class:`~pumpsim.engine.result.Result` and a figure, and returns it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["tci_figure", "bis_figure", "has_tci", "has_bis"]


def has_tci(result: Any) -> bool:
    return bool(result.summary.get("tci"))


def has_bis(result: Any) -> bool:
    return any(c.startswith(("patient.bis", "monitor.bis")) for c in result.timeseries.columns)


def _minutes(result: Any) -> np.ndarray:
    return np.asarray(result.timeseries.index.to_numpy(dtype=float) / 60.0)


def tci_figure(result: Any, fig: Any) -> Any:
    """Predicted vs patient concentration and the Varvel metrics' distributions."""
    ts, t = result.timeseries, _minutes(result)
    tci = result.summary["tci"]
    metrics = ("mdpe", "mdape", "wobble", "divergence")
    axes = fig.subplots(len(tci), 2, squeeze=False, width_ratios=(2.2, 1.0))
    for row, (pid, entry) in enumerate(tci.items()):
        ax, box = axes[row]
        drug = entry["drug"]
        pred = next(c for c in ts.columns if c.startswith(f"pump.{pid}.tci.predicted_plasma"))
        unit = pred.rsplit("[", 1)[1].rstrip("]")
        bands = sorted((c for c in ts.columns if c.startswith(f"patient.{drug}.plasma.p")),
                       key=lambda c: float(c.rsplit(".p", 1)[1].split("[")[0]))
        if bands:
            lo, hi = bands[0], bands[-1]
            mid = min(bands, key=lambda c: abs(float(c.rsplit(".p", 1)[1].split("[")[0]) - 50))
            ax.fill_between(t, ts[lo], ts[hi], alpha=0.25, color="C0",
                            label=f"patients {lo.split('.')[-1].split('[')[0]}-"
                                  f"{hi.split('.')[-1].split('[')[0]}")  # fmt: skip
            ax.plot(t, ts[mid], color="C0", label="patients median")
        else:
            ax.plot(t, ts[f"patient.{drug}.plasma[{unit}]"], color="C0", label="patient")
        ax.plot(t, ts[pred], color="C3", ls="--", label="pump's prediction")
        ax.plot(t, ts[f"pump.{pid}.tci.target[{unit}]"], color="k", lw=0.8, ls=":",
                label="target")  # fmt: skip
        ax.set_ylabel(f"{drug} plasma [{unit}]".replace("[ug/", "[µg/"))
        ax.set_xlabel("time [min]")
        ax.set_title(f"pump {pid}: TCI prediction against the patient", fontsize="small")
        ax.legend(fontsize="x-small", loc="lower right")
        ax.grid(alpha=0.3)
        values = [result.population.get("tci", {}).get(f"{pid}.{m}") for m in metrics]
        if all(v is not None for v in values):
            box.boxplot([np.asarray(v) for v in values], tick_labels=["MDPE", "MDAPE",
                        "wobble", "diverg.\n[%/h]"], showfliers=False)  # fmt: skip
            box.axhline(0.0, color="k", lw=0.6)
            box.set_title(f"Varvel 1992, {len(values[0])} patients", fontsize="small")
        else:
            box.bar(range(4), [entry[m] for m in metrics], tick_label=["MDPE", "MDAPE",
                    "wobble", "diverg.\n[%/h]"])  # fmt: skip
            box.set_title("Varvel 1992", fontsize="small")
        box.set_ylabel("[%]")
        box.grid(alpha=0.3)
    return fig


def bis_figure(result: Any, fig: Any) -> Any:
    """BIS with its target range, and what the propofol pump did."""
    ts, t = result.timeseries, _minutes(result)
    ax, rate = fig.subplots(2, 1, sharex=True, height_ratios=(1.6, 1.0))
    if "monitor.bis[1]" in ts:
        ax.plot(t, ts["monitor.bis[1]"], color="0.6", lw=0.7, label="monitor (delay, noise)")
    bands = sorted((c for c in ts.columns if c.startswith("patient.bis.p")),
                   key=lambda c: float(c.rsplit(".p", 1)[1].split("[")[0]))
    if bands:
        ax.fill_between(t, ts[bands[0]], ts[bands[-1]], alpha=0.3, label="patients band")
    if "patient.bis[1]" in ts:
        ax.plot(t, ts["patient.bis[1]"], color="C0", label="BIS (noise-free)")
    ax.axhspan(40, 60, color="C2", alpha=0.12, label="40-60")
    ax.set_ylabel("BIS")
    ax.set_ylim(0, 100)
    m = result.summary.get("bis")
    if m:
        ax.set_title(f"time in 40-60: {m['time_in_range_pct']:.0f} %, MDAPE "
                     f"{m['mdape']:.1f} %, global score {m['global_score']:.3f}",
                     fontsize="small")  # fmt: skip
    ax.legend(fontsize="x-small", loc="upper right")
    ax.grid(alpha=0.3)
    pumps = [p for p in result.scenario.pumps if p.drug == "propofol"]
    for p in pumps:
        rate.plot(t, ts[f"pump.{p.id}.flow[mL/h]"], label=f"pump {p.id} flow [mL/h]")
        target = f"pump.{p.id}.tci.target[ug/mL]"
        if target in ts:
            twin = rate.twinx()
            twin.plot(t, ts[target], color="k", ls=":", label="TCI target [µg/mL]")
            twin.plot(t, ts["patient.propofol.effect[ug/mL]"], color="C1", lw=0.8,
                      label="effect site [µg/mL]")  # fmt: skip
            twin.set_ylabel("propofol [µg/mL]")
            twin.legend(fontsize="x-small", loc="upper right")
    rate.set_ylabel("propofol\nflow [mL/h]")
    rate.set_xlabel("time [min]")
    rate.legend(fontsize="x-small", loc="upper left")
    rate.grid(alpha=0.3)
    return fig
