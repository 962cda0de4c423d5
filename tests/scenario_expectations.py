"""Expected times of the shipped scenarios' key events, computed WITHOUT pumpsim's engine.

Each function derives one event time from the scenario's numbers and the model's
documented equations and constants: closed forms (line compliance, plug flow,
windowed rates), a table integral (the elastomeric fill profile), or an independent
ODE solve with ``scipy.integrate.solve_ivp`` (PK, effect site, PaO2 lag) followed by a
root find. Constants are the published or documented values, written out here, so a
change to the engine's constants or equations shows up as a failure.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

ML_H = 1.0 / 3600.0  # 1 mL/h in mL/s
#: line resistance of the default set [mmHg·s/mL] (Hagen–Poiseuille, pumpsim.pump.line)
SET_RESISTANCE = 0.2 * 3600.0
SET_COMPLIANCE = 0.5e-3  # default extension set [mL/mmHg]
CASSETTE_COMPLIANCE = 1.0e-3  # volumetric pump cassette [mL/mmHg]
UPSTREAM_COMPLIANCE = 1.0e-3  # volumetric pump upstream set [mL/mmHg]
SYRINGE_50_COMPLIANCE = 2.8e-3  # 50 mL syringe, top of Snijder 2015's 1.2–2.8 uL/mmHg
PSI_MMHG = 51.71493  # 1 psi in mmHg
STROKE_ML = 0.1  # volumetric stroke [mL]
PULSATILITY = 0.27  # peristaltic (max − min)/mean, docs/references.md [Snijder2015]


def vancomycin_flushing_onset() -> tuple[float, float]:
    """200 mL/h × 5 mg/mL = 16.7 mg/min from t = 0; the 5-min mean passes 10 mg/min when
    16.7·t/5 = 10, t = 180 s, plus the line's equal-area delay τ = R·C (cassette + set).
    Tolerance: a fraction of one stroke (1.8 s) of pulsatile flow."""
    tau = SET_RESISTANCE * (CASSETTE_COMPLIANCE + SET_COMPLIANCE)
    return 0.6 * 300.0 + tau, 0.3


def upstream_occlusion_alarm() -> tuple[float, float]:
    """Occluded at 20 min; suction builds at Q/C_up to 1 psi (Open PCA upstream limit):
    t = 1200 + C_up·P/Q. Tolerance: ±13.5 % of that interval (pulsatile strokes)."""
    dt = UPSTREAM_COMPLIANCE * PSI_MMHG / (125.0 * ML_H)
    return 1200.0 + dt, PULSATILITY / 2.0 * dt + 1e-3


def air_cumulative_alarm() -> tuple[float, float]:
    """Seventh 0.15 mL bubble (at 17 min): in the rolling 15 min, 1 mL is exceeded once
    0.1 mL of it has passed the detector 0.2 mL downstream of the inlet, and surely by the
    time all of it has: between 0.30 and 0.35 mL pumped at 100 mL/h ± half the 27 %
    pulsatility. Returned as the middle and half-width of that bracket."""
    q = 100.0 * ML_H
    lo = 1020.0 + 0.30 / (q * (1 + PULSATILITY / 2))
    hi = 1020.0 + 0.35 / (q * (1 - PULSATILITY / 2))
    return (lo + hi) / 2.0, (hi - lo) / 2.0


def occlusion_syringe_alarm() -> tuple[float, float]:
    """Occluded at 30 min (start-up over by 26.8 min: 0.333 mL free play + 0.114 mL ramp
    at 1 mL/h); pressure rises at Q/C from R·Q to 300 mmHg, C = 2.8 (50 mL syringe) + 2.5
    (line) uL/mmHg: t = 1800 + C·(300 − R·Q)/Q = 7520 s. Tolerance: the lead screw's ±4.5 %
    flow variation (9 %, docs/references.md [Snijder2015]) over a 1-mm revolution
    (0.555 mL, 33 min at 1 mL/h) shifts the delivered volume by at most 4.5 % of half a
    revolution."""
    q = 1.0 * ML_H
    c = SYRINGE_50_COMPLIANCE + 2.5e-3
    t = 1800.0 + c * (300.0 - SET_RESISTANCE * q) / q
    revolution_s = math.pi * (26.59 / 2) ** 2 / 1000.0 / q
    return t, 0.045 * revolution_s / 2.0


def manifold_occlusion_alarm() -> tuple[float, float]:
    """Remifentanil 0.1 mcg/kg/min × 70 kg / 50 mcg/mL = 8.4 mL/h into C = 2.8 + 1.0
    uL/mmHg, occluded at 60 min: t = 3600 + C·(300 − P0)/Q with the line pressure before
    the kink P0 between 0 and R·(Q_R + ΣQ) (its own set plus the common line carrying
    all three pumps: propofol 14 mL/h, remifentanil 8.4, carrier 10)."""
    q = 8.4 * ML_H
    c = SYRINGE_50_COMPLIANCE + 1.0e-3
    p0_max = SET_RESISTANCE * (q + (14.0 + 8.4 + 10.0) * ML_H)
    hi = 3600.0 + c * 300.0 / q
    lo = 3600.0 + c * (300.0 - p0_max) / q
    return (lo + hi) / 2.0, (hi - lo) / 2.0


def elastomeric_empty() -> tuple[float, float]:
    """270 mL at 5 mL/h nominal (32 °C, the label temperature: viscosity factor 1) through
    the fill profile (fraction delivered up to, flow ratio): t = Σ V·Δf/(ratio·Q)."""
    profile = ((0.05, 1.10), (0.60, 1.00), (0.85, 0.97), (0.97, 1.08), (1.00, 0.40))
    q, v, t, f0 = 5.0 * ML_H, 270.0, 0.0, 0.0
    for upper, ratio in profile:
        t += v * (upper - f0) / (ratio * q)
        f0 = upper
    return t, 1.0


# -- independent PK/PD solves --------------------------------------------------------------
def severinghaus(p: float) -> float:
    """docs/references.md [Severinghaus1979]."""
    p = max(p, 0.0)
    return 0.0 if p == 0 else 100.0 / (23400.0 / (p**3 + 150.0 * p) + 1.0)


def _c50_from_point(fraction: float, conc: float, gamma: float) -> float:
    """C50 of a sigmoid Emax (Imax 1) that gives ``fraction`` at ``conc``."""
    return conc * ((1.0 - fraction) / fraction) ** (1.0 / gamma)


#: remifentanil: 27.7 % resting-ventilation depression at 1 ng/mL (Nieuwenhuijs 2003),
#: Hill 1.25 (Bouillon 2003): C50 2.15 ng/mL
REMI_GAMMA = 1.25
REMI_C50 = _c50_from_point(0.277, 1.0, REMI_GAMMA)


def _minto(age: float, weight: float, height: float) -> tuple[np.ndarray, float, float]:
    """Minto 1997 for a man: rate matrix [1/s], V1 [L], ke0 [1/s] (LBM by James)."""
    lbm = 1.1 * weight - 128.0 * (weight / height) ** 2
    v1 = 5.1 - 0.0201 * (age - 40) + 0.072 * (lbm - 55)
    v2 = 9.82 - 0.0811 * (age - 40) + 0.108 * (lbm - 55)
    v3 = 5.42
    cl1 = 2.6 - 0.0162 * (age - 40) + 0.0191 * (lbm - 55)
    cl2 = 2.05 - 0.0301 * (age - 40)
    cl3 = 0.076 - 0.00113 * (age - 40)
    ke0 = 0.595 - 0.007 * (age - 40)
    k10, k12, k13, k21, k31 = cl1 / v1, cl2 / v1, cl3 / v1, cl2 / v2, cl3 / v3
    a = np.array([[-(k10 + k12 + k13), k21, k31], [k12, -k21, 0.0], [k13, 0.0, -k31]]) / 60.0
    return a, v1, ke0 / 60.0


def remifentanil_rr_alarm() -> tuple[float, float]:
    """The tenfold remifentanil error: 0.05 mcg/kg/min for 20 min, then 0.5 until 25 min
    (70 kg, ideal pump, no line). RR = 14·(1 − I), I = U^γ/(1 + U^γ), U = Ce/C50: RR < 8
    when Ce > C50·(0.75)^(1/γ). Ce from an independent solve_ivp of Minto's PK and
    effect site; the crossing by brentq on the dense solution."""
    a, v1, ke0 = _minto(40.0, 70.0, 170.0)
    threshold = REMI_C50 * ((1 - 8.0 / 14.0) / (8.0 / 14.0)) ** (1.0 / REMI_GAMMA)

    def rate(t: float) -> float:  # ug/s
        return (0.05 if t < 1200.0 else 0.5 if t < 1500.0 else 0.0) * 70.0 / 60.0

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        amounts = y[:3]
        d = a @ amounts
        d[0] += rate(t)
        ce = ke0 * (amounts[0] / v1 - y[3])  # ug/L = ng/mL
        return np.concatenate([d, [ce]])

    y = np.zeros(4)
    sol0 = solve_ivp(rhs, (0.0, 1200.0), y, rtol=1e-11, atol=1e-14, method="DOP853")
    sol = solve_ivp(rhs, (1200.0, 1500.0), sol0.y[:, -1], rtol=1e-11, atol=1e-14,
                    method="DOP853", dense_output=True)  # fmt: skip
    t = brentq(lambda s: sol.sol(s)[3] - threshold, 1200.0, 1500.0, xtol=1e-9)
    return float(t), 0.05


#: morphine ventilation (resting profile): Dahan 2004's 32 nM (9.13 ng/mL) scaled by
#: remifentanil's resting/isohypercapnic C50 ratio (Nieuwenhuijs 2003: 27.7 % and 57.7 %
#: at 1 ng/mL, γ 1.25); biophase t½ 4.4 h (Dahan 2004)
MORPHINE_VENT_C50 = 32e-9 * 285.34 * 1e6 * REMI_C50 / _c50_from_point(0.577, 1.0, REMI_GAMMA)
MORPHINE_KE0 = math.log(2.0) / (4.4 * 3600.0)  # [1/s]
#: Lötsch 2002 [1/min] and V1 [L/kg]
LOTSCH = {"v1": 0.25, "k10": 0.070506, "k12": 0.127341, "k13": 0.018258,
          "k21": 0.025964, "k31": 0.001633}  # fmt: skip


def _root(dense, limit: float, lo: float, hi: float) -> float:  # type: ignore[no-untyped-def]
    return float(brentq(lambda u: severinghaus(dense(u)[4]) - limit, lo, hi, xtol=1e-9))


def morphine_spo2_crossing(doses: list[tuple[float, float, float]], weight: float,
                           limit: float = 90.0) -> float:  # fmt: skip
    """First time SpO2 < ``limit`` for morphine inputs ``(start [s], duration [s], amount
    [mg])``: Lötsch PK, Dahan biophase, v = max(1 − Ce/(Ce + C50), 0.05), PaO2 target
    90.73 − 50·(1/v − 1) mmHg (alveolar gas equation, air), PaO2 lagging with τ 150 s,
    SpO2 by Severinghaus — all integrated together with solve_ivp."""
    k = {n: v / 60.0 for n, v in LOTSCH.items() if n != "v1"}
    v1 = LOTSCH["v1"] * weight
    a = np.array([[-(k["k10"] + k["k12"] + k["k13"]), k["k21"], k["k31"]],
                  [k["k12"], -k["k21"], 0.0], [k["k13"], 0.0, -k["k31"]]])  # fmt: skip
    pao2_0 = 0.21 * (760.0 - 47.0) - 40.0 / 0.8 - 9.0

    def rate(t: float) -> float:  # mg/s
        return sum(m / d for s, d, m in doses if s <= t < s + d)

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        d = a @ y[:3]
        d[0] += rate(t)
        cp = y[0] / v1 * 1000.0  # mg/L -> ng/mL
        dce = MORPHINE_KE0 * (cp - y[3])
        v = max(1.0 - y[3] / (y[3] + MORPHINE_VENT_C50), 0.05)
        target = max(pao2_0 - 40.0 / 0.8 * (1.0 / v - 1.0), 0.0)
        return np.concatenate([d, [dce, (target - y[4]) / 150.0]])

    edges = sorted({0.0, *(s for s, _, _ in doses), *(s + d for s, d, _ in doses)})
    y = np.array([0.0, 0.0, 0.0, 0.0, pao2_0])
    for t0, t1 in zip(edges, [*edges[1:], edges[-1] + 6 * 3600.0], strict=True):
        sol = solve_ivp(rhs, (t0, t1), y, rtol=1e-10, atol=1e-12, method="DOP853",
                        dense_output=True, max_step=60.0)  # fmt: skip
        s = np.array([severinghaus(p) for p in sol.y[4]])
        below = np.flatnonzero(s < limit)
        if below.size:
            j = int(below[0])
            lo = sol.t[j - 1] if j > 0 else t0
            return _root(sol.sol, limit, lo, float(sol.t[j]))
        y = sol.y[:, -1]
    raise AssertionError("SpO2 never fell below the limit")
