"""The IEC 60601-2-24 start-up graph and trumpet curve of a syringe pump.

A simulated balance weighs what a 50 mL syringe pump delivers at 5 mL/h every
0.5 min for 2 h (:func:`pumpsim.bench.trumpet_test`); the start-up graph is
the flow from each weighing, the trumpet curve the largest and smallest mean
error over observation windows of 2-31 min in the second hour.
"""

from __future__ import annotations

from typing import Any

from pumpsim.figures import OKABE_ITO, ClassicFigure

__all__ = ["FIGURE", "compute", "draw"]

RATE_ML_H = 5.0


def compute() -> Any:
    """Trumpet table (P [min], Ep(max), Ep(min), A [%]) and the start-up flow [mL/h]."""
    import pandas as pd

    from pumpsim.bench import trumpet_test

    bench = trumpet_test("syringe", RATE_ML_H, syringe_ml=50.0, purge=False, seed=0)
    g = bench.graph
    startup = pd.DataFrame({"part": "startup", "time[min]": g.time_min,
                            "flow[mL/h]": g.flow_ml_h})  # fmt: skip
    windows = bench.trumpet.windows
    tr = pd.DataFrame({"part": "trumpet", "P[min]": [w.window_min for w in windows],
                       "Ep_max[%]": [w.ep_max_pct for w in windows],
                       "Ep_min[%]": [w.ep_min_pct for w in windows],
                       "A[%]": bench.trumpet.mean_error_pct})  # fmt: skip
    return pd.concat([startup, tr], ignore_index=True)


def draw(table: Any, fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    st = table[table["part"] == "startup"]
    ax1.step(st["time[min]"], st["flow[mL/h]"], where="post", color=OKABE_ITO[5], linewidth=1.5,
             label="flow from each 0.5-min weighing")  # fmt: skip
    ax1.axhline(RATE_ML_H, color="0.3", linestyle="--", label=f"set rate {RATE_ML_H:g} mL/h")
    ax1.set_xlabel("time [min]")
    ax1.set_ylabel("flow [mL/h]")
    ax1.set_title("Start-up graph (unpurged 50 mL syringe)")
    ax1.legend(frameon=False)
    tr = table[table["part"] == "trumpet"]
    ax2.plot(tr["P[min]"], tr["Ep_max[%]"], color=OKABE_ITO[6], marker="^", linewidth=2,
             label="Ep(max)")  # fmt: skip
    ax2.plot(tr["P[min]"], tr["Ep_min[%]"], color=OKABE_ITO[2], marker="v", linewidth=2,
             label="Ep(min)")  # fmt: skip
    a = float(tr["A[%]"].iloc[0])
    ax2.axhline(a, color="0.3", linestyle="--", label=f"mean error A = {a:.2f} %")
    ax2.axhline(0.0, color="0.6", linewidth=0.8)
    ax2.set_xlabel("observation window P [min]")
    ax2.set_ylabel("flow error [%]")
    ax2.set_title("Trumpet curve (second hour)")
    ax2.legend(frameon=False)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)


FIGURE = ClassicFigure(
    name="trumpet",
    title=f"IEC 60601-2-24 accuracy test of a syringe pump at {RATE_ML_H:g} mL/h",
    compute=compute,
    draw=draw,
    sources=("IEC 60601-2-24:2012, 201.12.1 (start-up graph and trumpet curve; "
             "docs/references.md [IEC60601-2-24]).",),
)
