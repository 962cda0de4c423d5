"""The direct route curves (pumpsim.pk.exposure) equal the engine's route comparison.

Expected values: :func:`pumpsim.compare.compare_routes`, which runs the full
engine (scenario, SimPy, recorder) once per route; same exact solver, so they
must agree to rounding (1e-9 relative).
"""

from __future__ import annotations

import numpy as np
import pytest

from pumpsim.compare import compare_routes
from pumpsim.pk.covariates import Covariates
from pumpsim.pk.exposure import route_curves
from pumpsim.pk.registry import get_drug

MAN = Covariates(age=40.0, weight=70.0, height=170.0, sex="male")


@pytest.mark.parametrize(("drug", "dose_mg", "salt", "over"), [
    ("morphine", 10.0, "sulfate", "1 min"),  # two-compartment SC/IM/epidural chains, IO transit
    ("morphine", 10.0, None, None),  # pushes
    ("bupivacaine", 100.0, None, None),  # Burm 1987: two parallel epidural pathways
])
def test_route_curves_equal_the_engine(drug, dose_mg, salt, over) -> None:
    engine = compare_routes(drug, f"{dose_mg:g} mg", salt=salt, duration="6 h",
                            interval="1 min", over=over)  # fmt: skip
    routes = list(engine.results)
    amount = dose_mg * (get_drug(drug).salts[salt] if salt else 1.0)
    fast = route_curves(drug, amount, routes, MAN, 6 * 3600.0, 60.0,
                        over_s=60.0 if over else None)  # fmt: skip
    table = engine.table().set_index("route")
    unit = get_drug(drug).plasma_unit
    for route in routes:
        ts = engine.results[route].timeseries
        want = ts[f"patient.{drug}.plasma[{unit}]"].to_numpy()
        np.testing.assert_allclose(fast[route].plasma, want, rtol=1e-9, atol=1e-12)
        eff = f"patient.{drug}.effect[{unit}]"
        if eff in ts:
            np.testing.assert_allclose(fast[route].effect, ts[eff].to_numpy(), rtol=1e-9,
                                       atol=1e-12)  # fmt: skip
        assert fast[route].cmax == pytest.approx(table.loc[route, f"Cmax [{unit}]"], rel=1e-9)
        assert fast[route].tmax_s / 60 == pytest.approx(table.loc[route, "Tmax [min]"])
        assert fast[route].auc == pytest.approx(table.loc[route, f"AUC [{unit}*h]"], rel=1e-9)


def test_unknown_route_is_named() -> None:
    with pytest.raises(KeyError, match="allowed: iv"):
        route_curves("propofol", 100.0, ["sc"], MAN, 3600.0, 60.0)
