"""The patient's physiology at run time: vitals model, reactions, rate rules, monitor.

Wires :mod:`pumpsim.patient` (pure PD, vitals, reactions) to a run:

* the vital-sign model is on when the scenario's patient has ``vitals:``
  (even ``{}``) or the scenario scripts an ``adverse_reaction``; the Result
  then has ``patient.vitals.hr[1/min]``, ``.map[mmHg]``, ``.rr[1/min]`` and
  ``.spo2[%]`` computed from the effect-site (and plasma) concentrations
  already sampled for the Result — the PK is solved once;
* an ``adverse_reaction`` event logs ``source: patient``, ``kind:
  adverse_reaction`` and registers the reaction with the vitals model;
* rate rules (vancomycin > 10 mg/min) watch the drug given to the patient and
  log ``kind: adverse_reaction`` (``cause: rate_rule``) at the exact time the
  windowed rate crosses the limit, and again when it resolves — whether or not
  vitals are on (the rule is a label fact worth logging in any run);
* a :class:`~pumpsim.engine.monitor.VitalsMonitor` alarms on RR and SpO2 for a
  single patient (not for a virtual population).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from pumpsim.engine.monitor import VitalsMonitor
from pumpsim.engine.patient import PatientPK
from pumpsim.engine.recorder import EventLog
from pumpsim.patient.reactions import (
    VANCOMYCIN_RATE_RULE,
    RateHistory,
    RateRule,
    Reaction,
    anaphylaxis,
)
from pumpsim.patient.vitals import (
    HYPOXIC_HR_LOWEST_SPO2,
    UNITS,
    VITALS,
    VitalsModel,
    baseline_for,
)

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.scenario.schema import AdverseReactionEvent, Scenario

__all__ = ["PhysiologyRuntime", "vitals_enabled", "pd_effect_sites", "RATE_RULES"]

#: rate rules evaluated in every run that gives their drug
RATE_RULES: tuple[RateRule, ...] = (VANCOMYCIN_RATE_RULE,)


def vitals_enabled(scenario: Scenario) -> bool:
    """Vitals are modelled when the patient has ``vitals:`` or a reaction is scripted."""
    has_vitals = scenario.patient is not None and scenario.patient.vitals is not None
    return has_vitals or any(ev.type == "adverse_reaction" for ev in scenario.events)


def _model(scenario: Scenario) -> VitalsModel:
    p = scenario.patient
    v = p.vitals if p is not None else None
    given: dict[str, Any] = {}
    if v is not None:
        given = {"hr": None if v.hr is None else v.hr * 60.0, "map": v.map,
                 "rr": None if v.rr is None else v.rr * 60.0, "spo2": v.spo2, "fio2": v.fio2}
    age = p.age if p is not None else None
    profile = v.profile if v is not None else "resting"
    return VitalsModel(baseline_for(age, **given), profile, age if age is not None else 40.0)


def pd_effect_sites(scenario: Scenario) -> dict[str, float]:
    """Drug -> ke0 [1/min] of the biophase the PD reads; it becomes that drug's effect
    site, replacing the PK model's own (see :class:`~pumpsim.engine.patient.PatientPK`)."""
    return _model(scenario).effect_site_ke0() if vitals_enabled(scenario) else {}


class _RateRuleRuntime:
    """One rate rule watching one drug: exact onset and resolution, logged."""

    def __init__(self, rule: RateRule, physiology: PhysiologyRuntime) -> None:
        self.rule = rule
        self.phys = physiology
        self.history = RateHistory(rule.window)
        self.active = False
        self.reaction: Reaction | None = None
        self._token = 0

    def on_input(self, drug: str, t: float, amount: float) -> None:
        if drug != self.rule.drug:
            return
        if amount > 0:
            self.history.dose(t, amount)
        else:
            channel = self.phys.patient.channels[drug]
            self.history.set_rate(t, sum(rate for _route, rate in channel.sources.values()))
        self.schedule()

    def schedule(self) -> None:
        env = self.phys.env
        now = float(env.now)
        self._token += 1
        token = self._token
        margin = 1e-9 * self.rule.limit
        t = self.history.next_crossing(now, self.rule.limit, self.rule.window,
                                       above=not self.active, margin=margin)  # fmt: skip
        if math.isinf(t) or t > self.phys.t_end:
            return

        def fire(_ev: Any) -> None:
            if token == self._token:
                self.toggle()

        env.timeout(max(t - now, 0.0)).callbacks.append(fire)

    def toggle(self) -> None:
        now = float(self.phys.env.now)
        self.active = not self.active
        mean = self.history.mean_rate(now, self.rule.window) * 60.0
        details = {"reaction": self.rule.reaction, "cause": "rate_rule", "drug": self.rule.drug,
                   "rule": f"{self.rule.drug} above {self.rule.limit_per_min:g}/min "
                           f"({self.rule.window / 60:g}-min mean)",
                   "rate_per_min": round(self.history.rates[-1] * 60.0, 3),
                   "mean_rate_per_min": round(mean, 3)}  # fmt: skip
        if self.active:
            self.reaction = Reaction(self.rule.reaction, now, self.rule.effect, self.rule.rise,
                                     None, self.rule.fall, "rate-related",
                                     {"cause": "rate_rule"})  # fmt: skip
            self.phys.add_reaction(self.reaction)
            self.phys.log.write(now, "patient", "adverse_reaction", phase="onset", **details)
        else:
            if self.reaction is not None:
                self.phys.replace_reaction(self.reaction, self.reaction.ended(now))
            self.phys.log.write(now, "patient", "adverse_reaction", phase="resolving", **details)
        self.schedule()


class PhysiologyRuntime:
    """Vitals, reactions, rate rules and the monitor of one run.

    Parameters
    ----------
    env : simpy.Environment
    patient : PatientPK
    scenario : Scenario
    log : EventLog
    t_end : float
        End of the run [s].
    """

    def __init__(
        self,
        env: simpy.Environment,
        patient: PatientPK,
        scenario: Scenario,
        log: EventLog,
        t_end: float,
    ) -> None:
        self.env = env
        self.patient = patient
        self.log = log
        self.t_end = float(t_end)
        self.enabled = vitals_enabled(scenario)
        self.model = _model(scenario)
        self.rules = [_RateRuleRuntime(r, self) for r in RATE_RULES if r.drug in patient.channels]
        for rule in self.rules:
            patient.listeners.append(rule.on_input)
        population = scenario.patient is not None and scenario.patient.population is not None
        self.monitor: VitalsMonitor | None = None
        if self.enabled and not population:
            self.monitor = VitalsMonitor(env, patient, self.model, log, t_end)
        missing = [d for d in sorted(self.model.drugs & set(patient.channels))
                   if not patient.channels[d].system.has_effect]  # fmt: skip
        if self.enabled and missing:
            patient.warnings.append(
                f"no effect site in the PK model of {', '.join(missing)}: no PD effect on vitals"
            )

    # -- reactions -----------------------------------------------------------------------------
    def adverse_reaction(self, ev: AdverseReactionEvent) -> None:
        """A scripted reaction (scenario event) starts now."""
        now = float(self.env.now)
        reaction = anaphylaxis(now, ev.severity)
        self.log.write(now, "patient", "adverse_reaction", reaction=ev.reaction,
                       severity=ev.severity, cause="event", phase="onset",
                       grading="Brown 2004")  # fmt: skip
        self.add_reaction(reaction)

    def add_reaction(self, reaction: Reaction) -> None:
        self.model.reactions.append(reaction)
        if self.monitor is not None:
            self.monitor.recheck()

    def replace_reaction(self, old: Reaction, new: Reaction) -> None:
        self.model.reactions[self.model.reactions.index(old)] = new
        if self.monitor is not None:
            self.monitor.recheck()

    # -- results -------------------------------------------------------------------------------
    def columns(
        self, grid: np.ndarray, exposure: dict[str, tuple[np.ndarray, np.ndarray | None]],
        percentiles: list[float] | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
        """Vitals columns on ``grid``, the per-patient arrays (a population) and a summary.

        ``exposure``: drug -> (plasma, effect) in the drug's plasma unit, shape
        (..., K), as sampled for the Result.
        """
        if not self.enabled:
            return {}, {}, {}
        drugs = self.model.drugs
        effect = {d: e for d, (_p, e) in exposure.items() if e is not None and d in drugs}
        plasma = {d: p for d, (p, _e) in exposure.items() if d in self.model.drugs}
        values = self.model.compute(grid, effect, plasma)
        columns: dict[str, np.ndarray] = {}
        arrays: dict[str, np.ndarray] = {}
        for name in VITALS:
            v = values[name]
            if v.ndim > 1 and percentiles:
                arrays[name] = v
                bands = np.percentile(v, percentiles, axis=0)
                for pct, band in zip(percentiles, bands, strict=True):
                    columns[f"patient.vitals.{name}.p{pct:g}[{UNITS[name]}]"] = band
            else:
                columns[f"patient.vitals.{name}[{UNITS[name]}]"] = np.broadcast_to(v, grid.shape)
        lowest = float(np.min(values["spo2"]))
        if lowest < HYPOXIC_HR_LOWEST_SPO2:
            first = float(grid[np.argmax(np.min(values["spo2"].reshape(-1, grid.size), axis=0)
                                         < HYPOXIC_HR_LOWEST_SPO2)])  # fmt: skip
            self.patient.warnings.append(
                f"SpO2 falls below {HYPOXIC_HR_LOWEST_SPO2:g} % (lowest {lowest:.3g} %, first at "
                f"{first / 60:.3g} min): the bradycardia, hypotension and cardiac arrest of "
                "profound hypoxaemia are not modelled, so HR and MAP from there on are not "
                "predictions (pumpsim.patient.vitals)"
            )
        summary = {
            "baseline": self.model.baseline.as_dict(),
            "profile": self.model.profile,
            "minimum": {k: float(np.min(values[k])) for k in ("hr", "map", "rr", "spo2")},
            "maximum": {k: float(np.max(values[k])) for k in ("hr", "map", "rr", "spo2")},
            "reactions": [{"reaction": r.name, "onset_s": r.onset, "severity": r.severity,
                           "end_s": r.end} for r in self.model.reactions],  # fmt: skip
            "pd_parameters": self.model.parameters(),
            "citations": [str(c) for c in self.model.citations],
        }
        return columns, arrays, summary
