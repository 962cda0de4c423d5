"""The patient's drug exposure at run time: one exact PK solver per drug.

Each input source (a pump's line, a manual dose) sets its amount rate into
a route; a route's lag delays the change (scheduled in SimPy at the time it
takes effect). The solver is advanced exactly to each change, so the state
is known at every event time; the output grid is sampled at the end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.drugs import Drug
from pumpsim.pk.model import Absorption, ModelSpec
from pumpsim.pk.nonlinear import build, make_solver
from pumpsim.pk.population import sample_factors, with_variability
from pumpsim.pk.registry import get_drug, get_model

__all__ = ["DrugChannel", "PatientPK"]


@dataclass
class DrugChannel:
    """One drug in the patient: its model, system, solver and input sources."""

    drug: Drug
    spec: Any  # ModelSpec or NonlinearSpec
    system: Any  # LinearPK or NonlinearPK
    solver: Any
    sources: dict[str, tuple[str, float]] = field(default_factory=dict)
    given: float = 0.0  # amount given so far, updated at each change [mg or IU]
    _given_rate: float = 0.0
    _given_t: float = 0.0
    _given_rates: dict[str, float] = field(default_factory=dict)
    routes_used: set[str] = field(default_factory=set)

    def input_vector(self) -> np.ndarray | float:
        w: np.ndarray | float = 0.0  # broadcast into the solver's input
        for route, rate in self.sources.values():
            w = w + rate * self.system.inputs[route]
        return w


class PatientPK:
    """Exact PK of every drug the scenario gives, driven through SimPy.

    Parameters
    ----------
    env : simpy.Environment
    covariates : Covariates
    models : dict of str to str or None
        Drug -> model key (None: the drug's default).
    absorption : dict of str to dict of str to Absorption, optional
        Drug -> route -> absorption a user supplied (replaces or adds a route).
    population : (n, rng), optional
        Simulate ``n`` virtual patients at once, variability drawn from ``rng``.
    routes : dict of str to set of str, optional
        Drug -> the routes the scenario uses; only their depots are built.
    effect_sites : dict of str to float, optional
        Drug -> ke0 [1/min] of the biophase the PD of :mod:`pumpsim.patient`
        reads for that drug (morphine: Dahan 2004's ventilation biophase). It
        replaces the PK model's own effect site, which may belong to another
        endpoint (Sarton 2000's ke0 is for analgesia).
    variability : dict of str to dict of str to float, optional
        Drug -> parameter -> CV [%] the user gives a population, added to (or
        replacing) the model's published variability.

    ``listeners`` are called as ``listener(drug, time_s, bolus_amount)`` each
    time a drug's input reaches its solver (after the route's lag); the vitals
    monitor uses them to re-schedule its alarms.
    """

    def __init__(
        self,
        env: simpy.Environment,
        covariates: Covariates | None,
        models: dict[str, str | None],
        absorption: dict[str, dict[str, Absorption]] | None = None,
        population: tuple[int, np.random.Generator] | None = None,
        routes: dict[str, set[str]] | None = None,
        effect_sites: dict[str, float] | None = None,
        variability: dict[str, dict[str, float]] | None = None,
    ) -> None:
        self.env = env
        self.listeners: list[Callable[[str, float, float], None]] = []
        self.covariates = covariates
        self.channels: dict[str, DrugChannel] = {}
        self.warnings: list[str] = []
        self.factors: dict[str, dict[str, np.ndarray]] = {}
        for drug_name in sorted(models):  # sorted: the population draw order is fixed
            drug = get_drug(drug_name)
            if drug.default_model is None:
                continue
            spec = get_model(drug_name, models[drug_name])
            own = (absorption or {}).get(drug_name)
            if own:
                spec = dataclasses.replace(spec, routes={**spec.routes, **own})
            if routes is not None and drug_name in routes:
                # only the depots of routes in use: a smaller system, same exact answer
                used = {r: a for r, a in spec.routes.items() if r in routes[drug_name]}
                spec = dataclasses.replace(spec, routes=used)
            if drug_name in (effect_sites or {}) and isinstance(spec, ModelSpec):
                spec = _with_effect_site(spec, (effect_sites or {})[drug_name])
            if spec.check is not None and covariates is not None:
                _errors, warnings = spec.check(covariates)
                self.warnings += warnings
            factors = None
            if population is not None:
                n, rng = population
                if (variability or {}).get(drug_name):
                    spec = with_variability(spec, (variability or {})[drug_name])
                factors = sample_factors(spec, n, rng)
                self.factors[drug_name] = factors
                if not spec.variability:
                    self.warnings.append(
                        f"{spec.key} publishes no inter-individual variability: "
                        f"the {n} virtual patients are identical"
                    )
            system = build(spec, covariates, factors)
            if population is not None and not np.shape(system.v1):
                # a model without variability still gets the patient axis
                system = build(spec, covariates, {"v1": np.ones(population[0])})
            self.channels[drug_name] = DrugChannel(drug, spec, system, make_solver(system))

    def _at_lag(self, channel: DrugChannel, route: str, action: Any) -> None:
        lag = channel.system.lags.get(route, 0.0)
        if lag <= 0:
            action()
        else:
            event = self.env.timeout(lag)
            event.callbacks.append(lambda _ev: action())

    def set_rate(self, source: str, drug: str, route: str, amount_rate: float) -> None:
        """From now on ``source`` gives ``amount_rate`` [amount/s] of ``drug`` by ``route``.

        The change reaches the PK system after the route's lag.
        """
        channel = self.channels.get(drug)
        if channel is None:
            return
        t = float(self.env.now)
        if amount_rate > 0:
            channel.routes_used.add(route)
        channel.given += channel._given_rate * (t - channel._given_t)
        channel._given_t = t
        channel._given_rates[source] = amount_rate
        channel._given_rate = sum(channel._given_rates.values())

        def apply() -> None:
            channel.sources[source] = (route, amount_rate)
            channel.solver.set_input(float(self.env.now), channel.input_vector())
            self._notify(drug, 0.0)

        self._at_lag(channel, route, apply)

    def bolus(self, drug: str, route: str, amount: float) -> None:
        """Give ``amount`` [mg or IU] of ``drug`` by ``route`` now, instantaneously."""
        channel = self.channels.get(drug)
        if channel is None:
            return
        channel.given += amount
        channel.routes_used.add(route)
        dx = amount * channel.system.inputs[route]

        def apply() -> None:
            channel.solver.add(float(self.env.now), dx)
            self._notify(drug, amount)

        self._at_lag(channel, route, apply)

    def _notify(self, drug: str, amount: float) -> None:
        for listener in self.listeners:
            listener(drug, float(self.env.now), amount)

    def finish(self, t_end: float) -> None:
        """Bring every solver and tally to ``t_end`` [s]."""
        for channel in self.channels.values():
            channel.given += channel._given_rate * (t_end - channel._given_t)
            channel._given_t = t_end
            channel.solver.advance(t_end)

    def covariates_or_raise(self) -> Covariates:
        if self.covariates is None:
            raise ValueError("the scenario gives drugs with PK but has no patient")
        return self.covariates


def _with_effect_site(spec: ModelSpec, ke0: float) -> ModelSpec:
    """``spec`` with its effect site at rate ``ke0`` [1/min] (added, or replacing the
    model's own, whose biophase may be another endpoint's)."""
    base = spec.parameters

    def parameters(c: Any) -> Any:
        return dataclasses.replace(base(c), ke0=ke0)

    return dataclasses.replace(spec, parameters=parameters)
