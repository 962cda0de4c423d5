"""Syringe start-up delay and time to occlusion alarm, against rate and syringe size.

Why a syringe at 1 mL/h takes so long to deliver anything: the drive first
takes up the free play of the plunger, then the stopper breaks loose, and
only then does fluid leave at the set rate (Neff 2001, Neff 2007). And why an
occlusion at a low rate goes unnoticed for so long: the pump must build
pressure in the compliant syringe and line until the alarm limit (time ≈
C·ΔP/Q; Dönmez 2005 measured 117 ± 9 min at 0.5 mL/h in a 50 mL syringe).

Both panels are measured on pumpsim's simulated bench (:mod:`pumpsim.bench`):
start-up from the volume leaving an unpurged syringe, read like a balance;
occlusion with :func:`pumpsim.bench.occlusion_test` at a 300 mmHg limit
(purged syringe).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pumpsim.figures import LINESTYLES, OKABE_ITO, ClassicFigure

__all__ = ["FIGURE", "RATES_ML_H", "SIZES_ML", "compute", "draw", "startup"]

SIZES_ML = (10.0, 20.0, 50.0)
RATES_ML_H = (0.5, 1.0, 2.0, 5.0, 10.0)
OCCLUSION_LIMIT_MMHG = 300.0


def startup(size_ml: float, rate_ml_h: float) -> tuple[float, float]:
    """(time to first fluid, time to 90 % of the set flow) [s] of an unpurged syringe.

    From the engine: the delivered volume at the tip every 5 s; first fluid is
    the first sample above 1 µL, and the flow is the 1-min moving difference.
    """
    from pumpsim import simulate
    from pumpsim.bench import bench_scenario

    q = rate_ml_h / 3600.0
    horizon = 4 * 3600.0 + 0.2 / q  # long enough for the slowest case
    sc = bench_scenario("syringe", rate_ml_h, horizon, size_ml, False, interval_s=5.0)
    ts = simulate(sc).timeseries
    t = ts.index.to_numpy(dtype=float)
    col = "pump.P.delivered[mL]" if "pump.P.delivered[mL]" in ts else "pump.P.infused[mL]"
    v = ts[col].to_numpy(dtype=float)
    first = t[np.argmax(v > 1e-3)] if np.any(v > 1e-3) else np.inf
    lag = 12  # samples in one minute
    flow = (v[lag:] - v[:-lag]) / 60.0
    steady = np.flatnonzero(flow >= 0.9 * q)
    t90 = t[steady[0] + lag] if steady.size else np.inf
    return float(first), float(t90)


def compute() -> Any:
    """One row per syringe size and rate: start-up and occlusion-alarm times [min]."""
    import pandas as pd

    from pumpsim.bench import occlusion_test

    rows = []
    for size in SIZES_ML:
        for rate in RATES_ML_H:
            first, t90 = startup(size, rate)
            occ = occlusion_test("syringe", rate, OCCLUSION_LIMIT_MMHG, syringe_ml=size)
            rows.append({"syringe[mL]": size, "rate[mL/h]": rate,
                         "first_fluid[min]": first / 60.0, "flow_90pct[min]": t90 / 60.0,
                         "occlusion_alarm[min]": occ.time_to_alarm_s / 60.0,
                         "occlusion_alarm_closed_form[min]": occ.predicted_s / 60.0,
                         "compliance[uL/mmHg]": occ.compliance_ml_per_mmhg * 1000.0})  # fmt: skip
    return pd.DataFrame(rows)


def draw(table: Any, fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    for i, (size, part) in enumerate(table.groupby("syringe[mL]")):
        color, ls = OKABE_ITO[(2 * i + 1) % 8], LINESTYLES[i]
        ax1.plot(part["rate[mL/h]"], part["flow_90pct[min]"], color=color, linestyle=ls,
                 marker="o", linewidth=2, label=f"{size:g} mL: flow within 10 %")  # fmt: skip
        ax1.plot(part["rate[mL/h]"], part["first_fluid[min]"], color=color, linestyle=":",
                 marker="s", linewidth=1.5, label=f"{size:g} mL: first fluid")  # fmt: skip
        ax2.plot(part["rate[mL/h]"], part["occlusion_alarm[min]"], color=color, linestyle=ls,
                 marker="o", linewidth=2, label=f"{size:g} mL syringe")  # fmt: skip
    ax2.errorbar([0.5, 5.0], [117.0, 15.0], yerr=[9.0, 7.0], fmt="D", color="0.3", capsize=4,
                 label="Dönmez 2005, 50 mL (mean ± SD)")  # fmt: skip
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("set rate [mL/h]")
        ax.grid(alpha=0.3, which="both")
        ax.legend(frameon=False, fontsize="small")
    ax1.set_ylabel("time after start [min] (unpurged)")
    ax1.set_title("Start-up delay")
    ax2.set_ylabel(f"time to occlusion alarm at {OCCLUSION_LIMIT_MMHG:g} mmHg [min]")
    ax2.set_title("Occlusion alarm delay")


FIGURE = ClassicFigure(
    name="syringe",
    title="Syringe pumps at low rates: start-up delay and occlusion-alarm delay",
    compute=compute,
    draw=draw,
    sources=(
        "Start-up: Neff T et al. Paediatr Anaesth 2001;11:561-565; Neff SB et al. Eur J "
        "Anaesthesiol 2007;24:602-608 (docs/references.md [Neff2001], [Neff2007]).",
        "Occlusion: Dönmez A et al. Paediatr Anaesth 2005 (docs/references.md [Donmez2005]); "
        "time to alarm ≈ C·ΔP/Q.",
    ),
)
