"""The population path for transit-chain routes with variability, checked with values.

Morphine SC in pumpsim's default model is a chain of two absorption compartments (rate
k = 0.096/min each, F = 1; pumpsim.pk.params.sarton2000) feeding Sarton 2000's
three-compartment disposition (docs/references.md [Sarton2000]). A small population
with user CVs on V1, CL1, V2 and CL2 is simulated by pumpsim's vectorised exact path;
every patient's plasma curve is then recomputed independently with ``solve_ivp``
(DOP853, rtol 1e-10) from that patient's sampled factors, and the two must agree to
1e-6 relative (the exact path's rounding and the ODE solver's tolerance).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pumpsim import Simulation, load_scenario, simulate

WEIGHT = 70.0
# Sarton 2000 [1/min], V1 [L/kg]
V1_PER_KG, K10, K12, K13, K21, K31 = 0.075, 0.3, 0.183, 0.29, 0.087, 0.013
K_SC = 0.096  # [1/min], each of the two chain compartments (fitted, pumpsim's Sarton module)
DOSE_MG = 7.52  # 10 mg morphine sulfate as base (docs/references.md [MorphineSalt])

SCENARIO = {
    "name": "morphine SC population",
    "duration": "3 h",
    "output": {"interval": "1 min"},
    "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male",
                "population": {"n": 6, "seed": 11, "percentiles": [5, 50, 95],
                               "variability": {"morphine": {"v1": "30 %", "cl1": "30 %",
                                                            "v2": "25 %", "cl2": "25 %"}}}},
    "events": [{"at": "0 min", "type": "bolus", "drug": "morphine", "dose": "7.52 mg",
                "route": "sc", "pk_model": "sarton2000"}],
}  # fmt: skip


def _independent(factors: dict[str, float], t_min: np.ndarray) -> np.ndarray:
    """Plasma [ng/mL] of one patient: the chain into the scaled disposition, by solve_ivp."""
    v1 = V1_PER_KG * WEIGHT
    cl1, cl2, cl3 = K10 * v1, K12 * v1, K13 * v1
    v2, v3 = K12 * v1 / K21, K13 * v1 / K31
    v1, cl1 = v1 * factors.get("v1", 1.0), cl1 * factors.get("cl1", 1.0)
    v2, cl2 = v2 * factors.get("v2", 1.0), cl2 * factors.get("cl2", 1.0)
    k10, k12, k13, k21, k31 = cl1 / v1, cl2 / v1, cl3 / v1, cl2 / v2, cl3 / v3

    def rhs(_t: float, y: np.ndarray) -> list[float]:
        s1, s2, a1, a2, a3 = y
        return [-K_SC * s1, K_SC * (s1 - s2),
                K_SC * s2 - (k10 + k12 + k13) * a1 + k21 * a2 + k31 * a3,
                k12 * a1 - k21 * a2, k13 * a1 - k31 * a3]  # fmt: skip

    sol = solve_ivp(rhs, (0.0, float(t_min[-1])), [DOSE_MG, 0, 0, 0, 0], method="DOP853",
                    rtol=1e-10, atol=1e-14, t_eval=t_min)  # fmt: skip
    return sol.y[2] / v1 * 1000.0  # mg/L -> ng/mL


def test_population_chain_route_matches_independent_solves_patient_by_patient() -> None:
    res = simulate(SCENARIO)
    plasma = res.population["morphine"]["plasma"]
    assert plasma.shape[0] == 6
    factors = Simulation(load_scenario(SCENARIO)).patient.factors["morphine"]
    assert set(factors) == {"v1", "cl1", "v2", "cl2"}
    # the patients differ (the variability is applied) ...
    assert np.ptp(plasma.max(axis=1)) > 0.05 * plasma.max()
    t_min = res.timeseries.index.to_numpy() / 60.0
    for i in range(6):
        expected = _independent({k: float(v[i]) for k, v in factors.items()}, t_min)
        # ... and each one is the independent solution for its own parameters
        assert plasma[i] == pytest.approx(expected, rel=1e-6, abs=1e-9 * expected.max())
    # the percentile columns are the percentiles of those curves
    p50 = res.timeseries["patient.morphine.plasma.p50[ng/mL]"].to_numpy()
    assert p50 == pytest.approx(np.percentile(plasma, 50, axis=0), rel=1e-12)
