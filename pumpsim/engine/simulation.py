"""Build a SimPy environment from a Scenario, run it, and collect a Result.

This is the only place that wires pumps (:mod:`pumpsim.pump`) to the
patient's PK (:mod:`pumpsim.pk`). SimPy time is seconds. Nothing polls:
program steps, VTBI completion and reservoir exhaustion are scheduled at the
time they happen; between them all flows are constant and the PK state is
advanced exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from pumpsim.engine.patient import PatientPK
from pumpsim.engine.pumps import PumpRuntime
from pumpsim.engine.recorder import EventLog
from pumpsim.engine.result import Result, build_result
from pumpsim.errors import NotSupportedError
from pumpsim.pk.model import Absorption, Citation, Pathway
from pumpsim.pk.registry import get_drug
from pumpsim.pump.controller import Controller, ReferenceController
from pumpsim.pump.program import Step, resolve_program
from pumpsim.scenario.checks import covariates
from pumpsim.scenario.load import load_scenario
from pumpsim.scenario.schema import AbsorptionSpec, BolusEvent, Pump, Scenario

__all__ = ["simulate", "Simulation"]

ControllerFactory = Callable[[Pump, list[Step]], Controller]

#: what this version can run; the schema accepts more (validated, then refused here)
SUPPORTED_PUMP_KINDS = ("ideal",)
SUPPORTED_EVENTS = ("bolus",)


def default_controller(pump: Pump, program: list[Step]) -> Controller:
    """pumpsim's reference controller configured from the pump's settings."""
    kvo = pump.settings.kvo_rate if pump.settings.kvo_rate is not None else 1.0 / 3600
    return ReferenceController(program, pump.settings.vtbi_end, kvo)


def user_absorption(spec: AbsorptionSpec) -> Absorption:
    """A scenario's ``absorption:`` block as a one-pathway Absorption (rates per minute)."""
    ka = spec.ka * 60.0 if spec.ka is not None else math.log(2.0) / (spec.half_life / 60.0)  # type: ignore[operator]
    return Absorption(
        pathways=(Pathway(spec.bioavailability, ka, spec.chain),),
        lag=spec.lag / 60.0,
        citation=Citation("user", "absorption parameters supplied in the scenario"),
    )


def _amount_factor(drug: str, salt: str | None) -> float:
    """Mass of base per mass of the salt written (1 without a salt)."""
    return get_drug(drug).salts[salt] if salt else 1.0


class Simulation:
    """One run of one scenario (fresh environment, fresh random generator)."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        controller: ControllerFactory | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = (
            seed if seed is not None else (scenario.seed if scenario.seed is not None else 0)
        )
        self.rng = np.random.default_rng(self.seed)
        self.env = simpy.Environment()
        self.log = EventLog()
        self.duration = float(scenario.duration)  # type: ignore[arg-type]
        self._refuse_unsupported()
        models: dict[str, str | None] = {}
        absorption: dict[str, dict[str, Absorption]] = {}
        givers: list[Pump | BolusEvent] = list(scenario.pumps)
        givers += [e for e in scenario.events if isinstance(e, BolusEvent)]
        routes: dict[str, set[str]] = {}
        for giver in givers:
            models.setdefault(giver.drug, giver.pk_model)
            routes.setdefault(giver.drug, set()).add(giver.route)
            if giver.absorption is not None:
                absorption.setdefault(giver.drug, {})[giver.route] = user_absorption(
                    giver.absorption
                )
        self.covariates = covariates(scenario)
        population = None
        pop = scenario.patient.population if scenario.patient is not None else None
        if pop is not None:
            # the population has its own stream, so adding pumps or events never changes it
            pop_seed = pop.seed if pop.seed is not None else self.seed
            population = (pop.n, np.random.default_rng([pop_seed, 1]))
        self.patient = PatientPK(
            self.env, self.covariates, models, absorption, population, routes
        )
        for warning in self.patient.warnings:
            self.log.write(0.0, "patient", "warning", message=warning)
        make = controller or default_controller
        weight = scenario.patient.weight if scenario.patient is not None else None
        self.pumps: dict[str, PumpRuntime] = {}
        for pump in scenario.pumps:
            program = resolve_program(pump, weight)
            reservoir = pump.reservoir if pump.reservoir is not None else math.inf
            runtime = PumpRuntime(
                self.env, pump.id, make(pump, program), reservoir, self.log, self._sink_for(pump)
            )
            self.pumps[pump.id] = runtime
        for i, ev in enumerate(scenario.events):
            if isinstance(ev, BolusEvent):
                self._schedule(ev.at, functools.partial(self._bolus, i, ev))

    def _refuse_unsupported(self) -> None:
        for i, p in enumerate(self.scenario.pumps):
            if p.kind not in SUPPORTED_PUMP_KINDS:
                raise NotSupportedError(
                    f"pumps[{i}].kind: {p.kind!r} pumps are not supported yet; "
                    f"allowed now: {', '.join(SUPPORTED_PUMP_KINDS)}"
                )
        for i, ev in enumerate(self.scenario.events):
            if ev.type not in SUPPORTED_EVENTS:
                raise NotSupportedError(
                    f"events[{i}].type: {ev.type!r} events are not supported yet; "
                    f"allowed now: {', '.join(SUPPORTED_EVENTS)}"
                )

    def _sink_for(self, pump: Pump) -> Callable[[float, float], None]:
        conc = pump.concentration.value if pump.concentration is not None else 0.0
        factor = conc * _amount_factor(pump.drug, pump.salt)
        source = f"pump.{pump.id}"

        def sink(_t: float, flow: float) -> None:
            self.patient.set_rate(source, pump.drug, pump.route, flow * factor)

        return sink

    def _schedule(self, at: float, action: Callable[[], None]) -> None:
        event = self.env.timeout(at)
        event.callbacks.append(lambda _ev: action())

    def _bolus(self, index: int, ev: BolusEvent) -> None:
        weight = self.scenario.patient.weight if self.scenario.patient is not None else 0.0
        amount = ev.dose.for_weight(weight) * _amount_factor(ev.drug, ev.salt)
        source = f"bolus.{index}"
        self.log.write(self.env.now, "manual", "bolus", drug=ev.drug, amount=amount,
                       unit=get_drug(ev.drug).amount_unit, route=ev.route,
                       duration_s=ev.duration)  # fmt: skip
        if ev.duration is None:
            self.patient.bolus(ev.drug, ev.route, amount)
            return
        self.patient.set_rate(source, ev.drug, ev.route, amount / ev.duration)
        self._schedule(ev.duration, lambda: self.patient.set_rate(source, ev.drug, ev.route, 0.0))

    def run(self) -> Result:
        """Run to the scenario's end and return the Result."""
        self.log.write(0.0, "simulation", "start", scenario=self.scenario.name, seed=self.seed)
        for runtime in self.pumps.values():
            runtime.start()
        self.env.run(until=self.duration)
        self.patient.finish(self.duration)
        for runtime in self.pumps.values():
            runtime.set_rate(runtime.rate)  # brings the volume tally to the end time
        self.log.write(self.duration, "simulation", "end")
        return build_result(self)


def simulate(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    seed: int | None = None,
    controller: ControllerFactory | None = None,
) -> Result:
    """Run a scenario and return its :class:`~pumpsim.engine.result.Result`.

    Parameters
    ----------
    scenario : path, mapping or Scenario
        Validated with :func:`pumpsim.load_scenario` first.
    seed : int, optional
        Seed of the run's random generator (default: the scenario's ``seed``,
        else 0). Same scenario and seed give identical results.
    controller : callable, optional
        ``controller(pump, program) -> Controller`` for every pump; default the
        reference controller.
    """
    sc = load_scenario(scenario)
    return Simulation(sc, seed=seed, controller=controller).run()
