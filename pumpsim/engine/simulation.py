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

from pumpsim.engine.clinician import ClinicianTeam
from pumpsim.engine.faults import CatheterSite, Faults, tissue_routes
from pumpsim.engine.hotpath import run_scope
from pumpsim.engine.interlock import Interlock, PcaDemand
from pumpsim.engine.manifold import ManifoldRuntime
from pumpsim.engine.patient import PatientPK
from pumpsim.engine.physiology import PhysiologyRuntime, pd_effect_sites
from pumpsim.engine.pumps import PatientOutlet, PumpRuntime, runtime_options
from pumpsim.engine.recorder import EventLog
from pumpsim.engine.result import Result, build_result
from pumpsim.errors import NotSupportedError
from pumpsim.pk import blas
from pumpsim.pk.model import Absorption, Citation, Pathway
from pumpsim.pk.registry import get_drug
from pumpsim.pump.controller import (
    Controller,
    ControllerFactory,
    OperatorInput,
    PumpConfig,
    ReferenceController,
    load_controller,
    pump_config,
)
from pumpsim.pump.druglib import DrugLibrary, load_library
from pumpsim.pump.mechanism import ClampController
from pumpsim.pump.program import resolve_program, to_flow, to_volume
from pumpsim.scenario.checks import covariates
from pumpsim.scenario.clinical import PcaDemandEvent
from pumpsim.scenario.faults import FAULT_EVENTS
from pumpsim.scenario.load import load_scenario
from pumpsim.scenario.programming import OPERATOR_EVENTS
from pumpsim.scenario.schema import (
    AbsorptionSpec,
    AirEvent,
    BolusEvent,
    ClearOcclusionEvent,
    OcclusionEvent,
    Pump,
    Scenario,
)

__all__ = ["simulate", "Simulation"]

#: what this version can run; the schema accepts more (validated, then refused here)
SUPPORTED_PUMP_KINDS = ("ideal", "syringe", "volumetric", "elastomeric")
SUPPORTED_EVENTS = ("bolus", "occlusion", "clear_occlusion", "air", "adverse_reaction",
                    "pca_demand", *OPERATOR_EVENTS, *FAULT_EVENTS)


def default_controller(config: PumpConfig) -> Controller:
    """pumpsim's reference controller configured from the pump's settings."""
    return ReferenceController(config)


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
        controller: ControllerFactory | str | None = None,
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
        for drug, tissue in tissue_routes(scenario, models).items():  # infiltration depots
            routes.setdefault(drug, set()).update(tissue)
            absorption.setdefault(drug, {}).update(tissue)
        self.covariates = covariates(scenario)
        population = None
        pop = scenario.patient.population if scenario.patient is not None else None
        if pop is not None:
            # the population has its own stream, so adding pumps or events never changes it
            pop_seed = pop.seed if pop.seed is not None else self.seed
            population = (pop.n, np.random.default_rng([pop_seed, 1]))
        self.patient = PatientPK(
            self.env, self.covariates, models, absorption, population, routes,
            effect_sites=pd_effect_sites(scenario),
            variability=pop.variability if pop is not None else None,
        )
        # vitals, adverse reactions, rate rules and the bedside monitor
        self.physiology = PhysiologyRuntime(self.env, self.patient, scenario, self.log,
                                            self.duration)  # fmt: skip
        for warning in self.patient.warnings:
            self.log.write(0.0, "patient", "warning", message=warning)
        make = self._factory(controller)
        self.weight = weight = scenario.patient.weight if scenario.patient is not None else None
        uses_library = scenario.drug_library or any(p.care_area for p in scenario.pumps)
        library = load_library(scenario.drug_library or "builtin") if uses_library else None
        self.pumps: dict[str, PumpRuntime] = {}
        self.manifolds = self._manifolds()
        targeted = {getattr(ev, "pump", None) for ev in scenario.events
                    if ev.type not in (*OPERATOR_EVENTS, "pca_demand")}  # fmt: skip
        for pump in scenario.pumps:
            program = resolve_program(pump, weight)
            reservoir = pump.reservoir if pump.reservoir is not None else math.inf
            options = runtime_options(pump, self._amount_per_ml(pump), pump.id in targeted)
            outlet = self.manifolds.get(pump.line.manifold or "") or self._sink_for(pump)
            firmware = (ClampController(program) if pump.kind == "elastomeric"  # no firmware
                        else make(self._config(pump, program, library)))  # fmt: skip
            runtime = PumpRuntime(self.env, pump.id, firmware, reservoir, self.log,
                                  outlet, **options)  # fmt: skip
            self.pumps[pump.id] = runtime
        self.demands: list[PcaDemand] = []
        self.faults = Faults(self)
        for i, ev in enumerate(scenario.events):
            action = self._action(i, ev)
            if action is not None:
                self._schedule(ev.at, action)
            elif isinstance(ev, PcaDemandEvent):
                self.demands.append(PcaDemand(self, i, ev))
        self._events = len(scenario.events)  # scripted + injected (the next event's index)
        # the last SimPy event id scheduled while building: at one instant, these fire before
        # anything the run schedules (see inject)
        self._built_eid = max((item[2] for item in self.env._queue), default=-1)
        # the bedside: PCA interlocks on the monitor, nurses answering alarms
        self.interlock = Interlock(self)
        self.clinicians = (ClinicianTeam(self, scenario.clinicians)
                           if scenario.clinicians is not None else None)  # fmt: skip

    def _action(self, index: int, ev: Any) -> Callable[[], None] | None:
        """What scenario event ``ev`` (number ``index``) does when its time comes (None for
        stochastic PCA demand, which is a process built with the run)."""
        if isinstance(ev, BolusEvent):
            return functools.partial(self._bolus, index, ev)
        if isinstance(ev, OcclusionEvent | ClearOcclusionEvent | AirEvent):
            return functools.partial(self._fault, ev)
        if ev.type in OPERATOR_EVENTS:
            return functools.partial(self._input, ev)
        if ev.type in FAULT_EVENTS:
            return functools.partial(self.faults.apply, ev)
        if ev.type == "adverse_reaction":
            return functools.partial(self.physiology.adverse_reaction, ev)
        return None

    def _factory(self, controller: ControllerFactory | str | None) -> ControllerFactory:
        """The controller factory: given, else the scenario's ``controller``, else pumpsim's."""
        if isinstance(controller, str):
            return load_controller(controller)
        if controller is not None:
            return controller
        if self.scenario.controller is not None:
            return load_controller(self.scenario.controller)
        return default_controller

    def _config(self, pump: Pump, program: list, library: DrugLibrary | None) -> PumpConfig:
        from pumpsim.scenario.checks import DEFAULT_MAX_RATE

        return pump_config(pump, self.weight, library, program, DEFAULT_MAX_RATE)

    def operate(self, pump_id: str, event: OperatorInput) -> None:
        """Deliver an operator or patient input to a pump's controller now, logged as an
        ``input`` record (what the requirement oracles read). Use this for inputs that do
        not come from scenario events, e.g. a simulated clinician."""
        runtime = self.pumps[pump_id]
        d = event.details
        shown = {"volume_mL": d.get("volume"), "duration_s": d.get("duration"),
                 "rate_mL_h": d["rate"] * 3600 if "rate" in d else None,
                 "steps": len(d["program"]) if "program" in d else None}  # fmt: skip
        runtime.log("input", input=event.kind, **shown)
        runtime.controller.on_input(runtime, event)

    def _input(self, ev: Any) -> None:
        """An operator or patient input (a scenario event) reaches the pump's controller."""
        pump = next(p for p in self.scenario.pumps if p.id == ev.pump)
        details: dict[str, Any] = {}
        if ev.type == "clinician_bolus":
            details = {"volume": to_volume(ev.dose, pump, self.weight), "duration": ev.over}
        elif ev.type == "titrate":
            details = {"rate": to_flow(ev.rate if ev.rate is not None else ev.dose_rate, pump,
                                       self.weight)}  # fmt: skip
        elif ev.type == "program":
            details = {"program": resolve_program(pump, self.weight, ev.program)}
        self.operate(ev.pump, OperatorInput(ev.type, details))
        every, until = getattr(ev, "every", None), getattr(ev, "until", None)
        if every is not None:  # a repeated press: the next one is the next event
            nxt = self.env.now + every
            if nxt <= (until if until is not None else self.duration) + 1e-9 * every:
                self._schedule(every, functools.partial(self._input, ev))

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

    @staticmethod
    def _amount_per_ml(pump: Pump) -> float:
        """Drug amount (base) per mL of the pump's contents (0 for plain fluid)."""
        conc = pump.concentration.value if pump.concentration is not None else 0.0
        return conc * _amount_factor(pump.drug, pump.salt)

    def _sink_for(self, pump: Pump, name: str | None = None) -> PatientOutlet:
        """The patient end of ``pump``'s line (or of manifold ``name``): drug amount rates
        [amount/s] by its route, at a site that can infiltrate or come apart."""
        return CatheterSite(self.env, self.patient, pump.route, name or pump.id)

    def _manifolds(self) -> dict[str, ManifoldRuntime]:
        """Common lines that pumps join (``line.manifold``), each feeding the patient."""
        out: dict[str, ManifoldRuntime] = {}
        for m in self.scenario.manifolds:
            members = [p for p in self.scenario.pumps if p.line.manifold == m.id]
            if not members:
                continue
            first = members[0]
            prime = {f"vol:prime.{m.id}": 1.0}
            if m.primed_with == "drug":  # the first member's contents
                prime = {f"vol:{first.id}": 1.0}
                if self._amount_per_ml(first) > 0:
                    prime[first.drug] = self._amount_per_ml(first)
            out[m.id] = ManifoldRuntime(self.env, m.id, m.dead_volume, prime,
                                        self._sink_for(first, m.id), self.log)  # fmt: skip
        return out

    def _fault(self, ev: OcclusionEvent | ClearOcclusionEvent | AirEvent) -> None:
        """A scripted line fault: occlusion (full, partial, gradual), clearing, air."""
        runtime = self.pumps[ev.pump]
        if isinstance(ev, OcclusionEvent):
            if ev.onset is not None:
                runtime.occlude_gradually(ev.side, ev.severity, ev.onset)
            else:
                runtime.occlude(ev.side, ev.severity)
        elif isinstance(ev, ClearOcclusionEvent):
            runtime.clear_occlusion()
        else:
            runtime.inject_air(ev.volume)

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
        with run_scope():  # one BLAS thread, pre-run objects frozen: engine/hotpath.py
            self.start()
            self.env.run(until=self.duration)
            return self.finish()

    # -- piece by piece: the same run, advanced and fed from outside (pumpsim.connect) --------
    def start(self) -> None:
        """Begin the run at sim time 0: what :meth:`run` does before time moves."""
        self.log.write(0.0, "simulation", "start", scenario=self.scenario.name, seed=self.seed)
        for runtime in self.pumps.values():
            runtime.start()

    @property
    def now(self) -> float:
        """The current sim time [s]."""
        return float(self.env.now)

    def advance(self, until: float) -> float:
        """Run up to sim time ``until`` [s] (at most the duration) and return the new time.

        Events due exactly at ``until`` have not happened yet when this returns, so an
        input injected then comes where a scripted event at that time would. Advancing in
        many small steps gives exactly the run one step gives.
        """
        target = min(float(until), self.duration)
        if target > self.env.now:
            with blas.one_blas_thread():  # small PK matrices: see engine/hotpath.py
                self.env.run(until=target)
        return self.now

    def live_refusal(self, ev: Any) -> str | None:
        """Why scenario event ``ev`` cannot be injected into this run as it stands (None if
        it can). Some events shape the run when it is built — a manual bolus of a drug or by a
        route the patient's PK model was not built with, an infiltration's tissue depot, a
        line fault on a pump recorded without line physics, the first adverse reaction (the
        vitals model), stochastic PCA demand: the run must then be rebuilt with the event in
        its scenario (:class:`pumpsim.connect.session.Session` does this)."""
        if isinstance(ev, PcaDemandEvent):
            return "stochastic PCA demand is set up when the run is built"
        if ev.type == "infiltration":
            return "an infiltration's tissue depot is built with the run"
        if isinstance(ev, BolusEvent):
            ch = self.patient.channels.get(ev.drug)
            if ch is None or ev.route not in ch.system.inputs or ev.absorption is not None or (
                    ev.pk_model is not None and ev.pk_model != ch.spec.key):  # fmt: skip
                return f"the PK model of {ev.drug} by {ev.route} is built with the run"
        if ev.type == "adverse_reaction" and not self.physiology.enabled:
            return "the vitals model is built with the run"
        pump = getattr(ev, "pump", None)
        if (pump is not None and ev.type not in OPERATOR_EVENTS
                and not self.pumps[pump].physics):  # fmt: skip
            return f"pump {pump} was built without line physics"
        return None

    def inject(self, ev: Any) -> None:
        """Apply scenario event ``ev`` now, exactly as a run of the scenario with ``ev``
        appended to its events (``at`` = now) would.

        ``ev.at`` must equal :attr:`now`. Scripted events and events the run scheduled
        before ``ev``'s time that a batch run would handle first (those due now that were
        scheduled when the run was built, and urgent ones) happen first. Raises ValueError
        if :meth:`live_refusal` gives a reason.
        """
        if float(ev.at) != self.now:
            raise ValueError(f"event at {ev.at} s injected at sim time {self.now} s")
        reason = self.live_refusal(ev)
        if reason is not None:
            raise ValueError(reason)
        queue = self.env._queue  # SimPy's heap of (time, priority, id, event)
        while queue and queue[0][0] == self.env.now and (
                queue[0][1] < simpy.events.NORMAL or queue[0][2] <= self._built_eid):  # fmt: skip
            self.env.step()
        action = self._action(self._events, ev)
        self._events += 1
        if action is not None:
            action()

    def finish(self) -> Result:
        """End the run at the scenario's duration and build the Result (after :meth:`start`
        and time advanced to the duration)."""
        if self.env.now < self.duration:
            raise ValueError(f"the run is at {self.now} s, not at its end ({self.duration} s)")
        self.patient.finish(self.duration)
        for runtime in self.pumps.values():
            runtime.finish()  # brings every tally to the end time
        for manifold in self.manifolds.values():
            manifold.finish()
        self.faults.finish()
        self.log.write(self.duration, "simulation", "end")
        return build_result(self)


def simulate(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    seed: int | None = None,
    controller: ControllerFactory | str | None = None,
) -> Result:
    """Run a scenario and return its :class:`~pumpsim.engine.result.Result`.

    Parameters
    ----------
    scenario : path, mapping or Scenario
        Validated with :func:`pumpsim.load_scenario` first.
    seed : int, optional
        Seed of the run's random generator (default: the scenario's ``seed``,
        else 0). Same scenario and seed give identical results.
    controller : callable or str, optional
        ``controller(config) -> Controller`` for every pump (a controller class
        taking a :class:`~pumpsim.pump.controller.PumpConfig` is one), or
        ``"package.module:Name"``; default the scenario's ``controller``, else
        the reference controller.
    """
    sc = load_scenario(scenario)
    return Simulation(sc, seed=seed, controller=controller).run()
