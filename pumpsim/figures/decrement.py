"""Context-sensitive half-time and 80 % decrement time against infusion duration.

Hughes, Glass and Jacobs 1992 drew this figure for the intravenous
anaesthetics of their day; pumpsim draws it with the parameter sets it ships,
named in the legend. They are not all the sets Hughes used, and the propofol
curves in particular differ: the Marsh, Schnider and Eleveld models give much
shorter propofol half-times than Hughes' curve. Patient: 40 y, 70 kg,
170 cm, male. Numbers: :func:`pumpsim.analysis.decrement.decrement_time`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pumpsim.figures import LINESTYLES, OKABE_ITO, ClassicFigure

__all__ = ["FIGURE", "MODELS", "compute", "draw"]

#: (drug, model) pairs drawn, opioids first
MODELS = (
    ("fentanyl", "shafer1990"),
    ("alfentanil", "maitre1987"),
    ("sufentanil", "gepts1995"),
    ("remifentanil", "minto1997"),
    ("propofol", "marsh1991"),
    ("propofol", "schnider1998"),
    ("propofol", "eleveld2018"),
)
DURATIONS_MIN = np.arange(0, 601, 20.0)  # 0 (a bolus) to 10 h
FRACTIONS = (0.5, 0.8)


def compute() -> Any:
    """One row per model and infusion duration: 50 % and 80 % plasma decrement times [min]."""
    import pandas as pd

    from pumpsim.analysis.decrement import decrement_curve

    rows = []
    for drug, model in MODELS:
        curve = decrement_curve(drug, DURATIONS_MIN * 60.0, FRACTIONS, model=model)
        for j, d in enumerate(DURATIONS_MIN):
            rows.append({"drug": drug, "model": model, "infusion_duration[min]": d,
                         "decrement_50[min]": curve.times_s[0, j] / 60.0,
                         "decrement_80[min]": curve.times_s[1, j] / 60.0})  # fmt: skip
    return pd.DataFrame(rows)


def draw(table: Any, fig: Any) -> None:
    """Two panels: 50 % (context-sensitive half-time) and 80 % decrement times."""
    axes = fig.subplots(1, 2)
    for k, (col, label) in enumerate((("decrement_50[min]", "50 % decrement (CSHT)"),
                                      ("decrement_80[min]", "80 % decrement"))):  # fmt: skip
        ax = axes[k]
        for i, (drug, model) in enumerate(MODELS):
            part = table[(table["drug"] == drug) & (table["model"] == model)]
            ax.plot(part["infusion_duration[min]"] / 60.0, part[col],
                    color=OKABE_ITO[i % len(OKABE_ITO)], linestyle=LINESTYLES[i % len(LINESTYLES)],
                    linewidth=2, label=f"{drug} ({model})")  # fmt: skip
        ax.set_xlabel("infusion duration [h]")
        ax.set_ylabel(f"{label} [min]")
        ax.set_title(label)
        ax.set_xlim(0, DURATIONS_MIN[-1] / 60.0)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left", frameon=False)


FIGURE = ClassicFigure(
    name="decrement",
    title="Context-sensitive half-time and 80 % decrement time (plasma), 40 y 70 kg male",
    compute=compute,
    draw=draw,
    sources=(
        "Concept: Hughes MA, Glass PSA, Jacobs JR. Anesthesiology 1992;76:334-341 "
        "(docs/references.md [Hughes1992]); its parameter sets differ from these, notably for "
        "propofol (Marsh, Schnider and Eleveld give shorter half-times).",
        "Models: Shafer 1990 (fentanyl), Maitre 1987 (alfentanil), Gepts 1995 (sufentanil), "
        "Minto 1997 (remifentanil), Marsh 1991, Schnider 1998, Eleveld 2018 (propofol).",
    ),
)
