"""Time to steady state with and without a loading dose.

A constant-rate infusion approaches its steady state C_ss = rate / CL only
over several terminal half-lives; a loading dose gets there at once. The
figure uses vancomycin (Goti 2018; 40 y, 70 kg, 170 cm, male, creatinine
1.0 mg/dL), a drug given this way: a continuous infusion at CL·C_ss for a
C_ss of 20 mg/L, alone, with a loading dose of V_c·C_ss (fills the central
volume only, so the level dips as drug distributes) and with V_ss·C_ss
(fills every volume). The loading doses are given as a push here to show
the principle; in practice vancomycin is loaded over 1-2 h.

Everything is run through :func:`pumpsim.simulate` with an ideal pump.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pumpsim.figures import LINESTYLES, OKABE_ITO, ClassicFigure

__all__ = ["FIGURE", "PATIENT", "TARGET_MG_L", "compute", "draw", "scenario"]

PATIENT = {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male",
           "creatinine": "1.0 mg/dL"}  # fmt: skip
TARGET_MG_L = 20.0
DURATION_H = 72.0
COLUMN = "patient.vancomycin.plasma[mg/L]"


def parameters() -> dict[str, float]:
    """The patient's vancomycin disposition: CL [L/h], Vc, Vp, Vss [L]."""
    from pumpsim.pk.covariates import Covariates
    from pumpsim.pk.registry import get_model

    cov = Covariates(age=40.0, weight=70.0, height=170.0, sex="male", creatinine=1.0)
    d = get_model("vancomycin").parameters(cov).as_dict()
    return {"cl": d["cl1"] * 60.0, "vc": d["v1"], "vp": d["v2"], "vss": d["v1"] + d["v2"]}


def scenario(loading_mg: float | None) -> dict[str, Any]:
    """The run for one arm: maintenance infusion, with an optional loading push [mg]."""
    p = parameters()
    rate_mg_h = p["cl"] * TARGET_MG_L
    events = []
    if loading_mg:
        events.append({"at": "0 s", "type": "bolus", "drug": "vancomycin",
                       "dose": f"{loading_mg:.12g} mg", "route": "iv"})  # fmt: skip
    return {
        "name": "vancomycin to steady state",
        "duration": f"{DURATION_H:g} h",
        "output": {"interval": "10 min", "plots": False},
        "patient": dict(PATIENT),
        "pumps": [{"id": "M", "kind": "ideal", "drug": "vancomycin",
                   "concentration": "5 mg/mL", "container": "5000 mL",
                   "program": [{"rate": f"{rate_mg_h / 5.0:.12g} mL/h"}]}],
        "events": events,
    }  # fmt: skip


def compute() -> Any:
    """Plasma concentration [mg/L] every 10 min for the three arms, and each arm's t90 [h]."""
    import pandas as pd

    from pumpsim import simulate

    p = parameters()
    arms = {"infusion only": None, "loading Vc·Css": p["vc"] * TARGET_MG_L,
            "loading Vss·Css": p["vss"] * TARGET_MG_L}  # fmt: skip
    frames = []
    for arm, load in arms.items():
        ts = simulate(scenario(load), seed=0).timeseries
        t_h = ts.index.to_numpy(dtype=float) / 3600.0
        c = ts[COLUMN].to_numpy(dtype=float)
        within = np.abs(c - TARGET_MG_L) <= 0.1 * TARGET_MG_L
        # t90: from then on the level stays within 10 % of the steady state
        outside = np.flatnonzero(~within)
        t90 = 0.0 if outside.size == 0 else (
            t_h[outside[-1] + 1] if outside[-1] + 1 < t_h.size else np.inf)  # fmt: skip
        frames.append(pd.DataFrame({"arm": arm, "loading_dose[mg]": load or 0.0,
                                    "time[h]": t_h, "plasma[mg/L]": c,
                                    "within_10pct_from[h]": t90}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def draw(table: Any, fig: Any) -> None:
    ax = fig.subplots(1, 1)
    for i, (arm, part) in enumerate(table.groupby("arm", sort=False)):
        t90 = float(part["within_10pct_from[h]"].iloc[0])
        load = float(part["loading_dose[mg]"].iloc[0])
        label = f"{arm}" + (f" ({load:.0f} mg)" if load else "") + f": within 10 % from {t90:.1f} h"
        ax.plot(part["time[h]"], part["plasma[mg/L]"], color=OKABE_ITO[(i * 2 + 1) % 8],
                linestyle=LINESTYLES[i], linewidth=2, label=label)  # fmt: skip
        ax.axvline(t90, color=OKABE_ITO[(i * 2 + 1) % 8], linestyle=LINESTYLES[i], alpha=0.5)
    ax.axhspan(0.9 * TARGET_MG_L, 1.1 * TARGET_MG_L, color="0.85", zorder=0,
               label=f"steady state {TARGET_MG_L:g} mg/L ± 10 %")  # fmt: skip
    ax.set_xlabel("time [h]")
    ax.set_ylabel("vancomycin plasma [mg/L]")
    ax.set_xlim(0, DURATION_H)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", frameon=False)


FIGURE = ClassicFigure(
    name="steady_state",
    title="Time to steady state: infusion alone and with a loading dose (vancomycin)",
    compute=compute,
    draw=draw,
    sources=("Goti V et al. Ther Drug Monit 2018;40:212-221 (docs/references.md [Goti2018]); "
             "40 y, 70 kg, creatinine 1.0 mg/dL; rate = CL x 20 mg/L.",),
    size=(9.0, 5.0),
)
