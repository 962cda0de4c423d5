"""One dose by several routes, solved directly: the curves behind an interactive comparison.

:func:`pumpsim.compare.compare_routes` runs the whole engine once per route
(scenario, SimPy, result files), which takes about half a second for five
routes over 24 h. A teaching page that redraws while a slider moves needs the
same numbers faster, so :func:`route_curves` builds each route's PK system
(:func:`pumpsim.pk.nonlinear.build`, as the engine does), applies the dose
after the route's lag (a push, or a constant rate over ``over_s``), and
samples plasma and effect-site concentrations on the output grid with the
same exact solver. The curves equal the engine's (tests/test_exposure.py
checks them against ``compare_routes`` to 1e-9). Pure PK: no SimPy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.nonlinear import build, make_solver
from pumpsim.pk.registry import get_drug, get_model
from pumpsim.pk.solver import ExactSolver

__all__ = ["RouteCurve", "route_curves"]


@dataclass(frozen=True)
class RouteCurve:
    """Concentrations after one dose by one route, in the drug's plasma unit.

    ``auc`` is exact (the model's AUC state at the end) in unit·h; ``cmax`` and
    ``tmax_s`` are read on the output grid, as the engine's summary does.
    """

    route: str
    time_s: np.ndarray
    plasma: np.ndarray
    effect: np.ndarray | None
    bioavailability: float
    cmax: float
    tmax_s: float
    auc: float


def route_curves(
    drug: str,
    amount: float,
    routes: Sequence[str],
    covariates: Covariates,
    duration_s: float,
    interval_s: float,
    over_s: float | None = None,
    model: str | None = None,
) -> dict[str, RouteCurve]:
    """Plasma (and effect-site) curves of ``amount`` of ``drug`` by each route.

    Parameters
    ----------
    drug : str
        A drug pumpsim knows.
    amount : float
        The dose in the drug's amount unit (mg, or IU), already converted from
        any salt and per-kg dose [mg].
    routes : sequence of str
        Routes the model has data for (``iv``, ``sc``, ``im``, ``io``, ``epidural``).
    covariates : Covariates
        The patient.
    duration_s, interval_s : float
        Length of the curves and the output interval [s].
    over_s : float, optional
        Give the dose at a constant rate over this time [s]; default a push.
    model : str, optional
        PK model key (default: the drug's default model).

    Returns
    -------
    dict of str to RouteCurve
        By route, in the order given.
    """
    from pumpsim.pk.blas import one_blas_thread

    with one_blas_thread():  # small matrices, as in a run: BLAS threads cost more than they give
        return _solve(drug, amount, routes, covariates, duration_s, interval_s, over_s, model)


def _solve(drug: str, amount: float, routes: Sequence[str], covariates: Covariates,
           duration_s: float, interval_s: float, over_s: float | None,
           model: str | None) -> dict[str, RouteCurve]:  # fmt: skip
    spec = get_model(drug, model)
    unit_factor = get_drug(drug).plasma_factor
    grid = np.arange(0.0, duration_s + interval_s / 2, interval_s)
    out: dict[str, RouteCurve] = {}
    for route in routes:
        if route not in spec.routes:
            raise KeyError(f"routes: {spec.key} has no data for {route!r}; "
                           f"allowed: {', '.join(spec.routes)}")  # fmt: skip
        one = dataclasses.replace(spec, routes={route: spec.routes[route]})
        system = build(one, covariates)
        solver = make_solver(system)
        lag = system.lags.get(route, 0.0)
        dose = system.inputs[route] * amount
        if over_s:
            solver.set_input(lag, dose / over_s)
            solver.set_input(lag + over_s, np.zeros(system.n))
        else:
            solver.add(lag, dose)
        names = ["central"] + (["effect"] if system.has_effect else [])
        rows = np.zeros((len(names), system.n))
        for r, name in enumerate(names):
            rows[r, system.index(name)] = 1.0
        if isinstance(solver, ExactSolver):
            y = solver.sample(grid, rows)
        else:  # the nonlinear solver returns full states
            y = solver.sample(grid) @ rows.T
        plasma = y[:, 0] / float(np.asarray(system.v1)) * unit_factor
        effect = y[:, 1] * unit_factor if system.has_effect else None
        auc_row = np.zeros(system.n)
        auc_row[system.index("auc")] = 1.0
        auc = float(solver.state(duration_s) @ auc_row) * unit_factor / 3600.0
        i = int(np.argmax(plasma))
        absorption = spec.routes[route]
        out[route] = RouteCurve(route, grid, plasma, effect, absorption.bioavailability,
                                float(plasma[i]), float(grid[i]), auc)  # fmt: skip
    return out
