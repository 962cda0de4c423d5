"""Scenario schema for the people at the bedside: clinicians, a PCA interlock, PCA demand.

Top-level ``clinicians:`` (one or more nurses who answer alarms in turn)::

    clinicians:
      count: 1                               # nurses (a SimPy Resource of this capacity)
      response: {median: 3 min, gsd: 1.8}    # log-normal delay from free nurse to bedside
      task: 1 min                            # time at the bedside per call (nurse busy)
      actions:                               # alarm -> what the nurse does on arrival
        occlusion: clear_and_restart         # pump alarms by their kind ...
        air_in_line: purge_and_restart
        rr_low: stop_opioid                  # ... monitor alarms by their name
        spo2_low: resume_when_recovered

Only alarms named in ``actions`` call a nurse. Actions (:data:`CLINICIAN_ACTIONS`):

``acknowledge``            look, log, do nothing
``silence``                ``silence`` input on the alarming pump
``restart``                ``start`` input on the alarming pump
``clear_and_restart``      clear the line's occlusion, then ``start``
``purge_and_restart``      ``start`` again (the air already in the set is not removed yet:
                           pumpsim does not model purging; logged as this action)
``stop_opioid``            ``stop`` input on every running pump of an opioid
``halve_opioid``           change the program: ``titrate`` every running continuous (not PCA)
                           opioid infusion to half its rate
``resume_when_recovered``  while a monitor alarm is active: assess (logged) and leave; when
                           every monitor alarm has cleared, a new call (alarm ``recovered``)
                           brings a nurse who restarts (``start``) the pumps the
                           interlock or a nurse stopped

The response delay is log-normal with the given ``median`` and geometric standard
deviation ``gsd`` (1 gives a fixed delay); defaults 3 min and 1.8 (see
:mod:`pumpsim.engine.clinician` for the sources).

A pump's ``interlock:`` (PCA pumps) pauses the pump when the bedside monitor sees RR below
``rr_below`` or SpO2 below ``spo2_below`` (either may be left out); it resumes only on a
``start`` from an operator or a clinician::

    interlock: {rr_below: 8/min, spo2_below: 90 %}

Event ``pca_demand`` - stochastic patient presses, a Poisson process of ``rate`` from
``at`` until ``until`` (default: the end), each press a ``pca_press`` input::

    - {at: 0 min, type: pca_demand, pump: A, rate: 4/h, until: 6 h}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pumpsim.errors import Problem
from pumpsim.scenario.quantities import Frequency, Percent, Time

__all__ = [
    "CLINICIAN_ACTIONS",
    "ClinicianResponse",
    "Clinicians",
    "Interlock",
    "PcaDemandEvent",
    "check_bedside",
]

#: what a clinician may do on arriving at an alarm
CLINICIAN_ACTIONS = ("acknowledge", "silence", "restart", "clear_and_restart",
                     "purge_and_restart", "stop_opioid", "halve_opioid",
                     "resume_when_recovered")  # fmt: skip
ClinicianAction = Literal["acknowledge", "silence", "restart", "clear_and_restart",
                          "purge_and_restart", "stop_opioid", "halve_opioid",
                          "resume_when_recovered"]  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClinicianResponse(_Model):
    """Delay from a free nurse to the bedside: log-normal, ``median`` [s], ``gsd`` (>= 1)."""

    median: Time = 180.0
    gsd: float = Field(default=1.8, ge=1.0, le=10.0)

    @model_validator(mode="after")
    def _pos(self) -> ClinicianResponse:
        if self.median <= 0:
            raise ValueError("median must be greater than zero, e.g. '3 min'")
        return self


class Clinicians(_Model):
    """Nurses answering pump and monitor alarms (see the module docstring)."""

    count: int = Field(default=1, ge=1, le=50)
    response: ClinicianResponse = ClinicianResponse()
    task: Time = 60.0
    actions: dict[str, ClinicianAction] = Field(min_length=1)

    @model_validator(mode="after")
    def _task(self) -> Clinicians:
        if self.task < 0:
            raise ValueError("task must not be negative, e.g. '1 min'")
        return self


class Interlock(_Model):
    """Pause this pump while the monitor sees RR below ``rr_below`` [1/s] or SpO2 below
    ``spo2_below`` [%]; only a ``start`` resumes it."""

    rr_below: Frequency | None = None
    spo2_below: (
        Annotated[Percent, Field(gt=50.0, lt=100.0)] | None
    ) = None

    @model_validator(mode="after")
    def _some(self) -> Interlock:
        if self.rr_below is None and self.spo2_below is None:
            raise ValueError("give rr_below (e.g. '8/min'), spo2_below (e.g. '90 %') or both")
        if self.rr_below is not None and self.rr_below <= 0:
            raise ValueError("rr_below must be greater than zero, e.g. '8/min'")
        return self


class PcaDemandEvent(_Model):
    """Stochastic PCA demand: presses as a Poisson process of ``rate`` [1/s] from ``at``
    until ``until`` [s] (default: the scenario's end)."""

    at: Time = 0.0
    type: Literal["pca_demand"]
    pump: str
    rate: Frequency
    until: Time | None = None

    @model_validator(mode="after")
    def _check(self) -> PcaDemandEvent:
        if self.at < 0:
            raise ValueError("at must not be negative")
        if self.rate <= 0:
            raise ValueError("rate must be greater than zero, e.g. '4/h'")
        if self.until is not None and self.until < self.at:
            raise ValueError("'until' must not be before 'at'")
        return self


#: the monitor's alarms (pumpsim.engine.monitor.DEFAULT_LIMITS) and what they need
MONITOR_ALARMS = ("rr_low", "spo2_low")


def check_bedside(sc: Any) -> list[Problem]:
    """Cross-field problems of the bedside blocks of ``sc``: PCA demand and an interlock
    need a PCA program; an interlock or monitor actions need the patient's ``vitals:``;
    actions that restart a pump are for pump alarms."""
    problems: list[Problem] = []
    has_vitals = sc.patient is not None and sc.patient.vitals is not None

    def has_pca(pump: Any) -> bool:
        steps = list(pump.program)
        steps += [s for e in sc.events if e.type == "program" and e.pump == pump.id
                  for s in e.program]  # fmt: skip
        return any(getattr(s, "mode", "") == "pca" for s in steps)

    pumps = {p.id: p for p in sc.pumps}
    for i, ev in enumerate(sc.events):
        pump = pumps.get(getattr(ev, "pump", None))
        if ev.type == "pca_demand" and pump is not None and not has_pca(pump):
            message = f"pump {pump.id!r} has no 'mode: pca' step to answer a press"
            problems.append(Problem(f"events[{i}].pump", message))
    for i, pump in enumerate(sc.pumps):
        if pump.interlock is None:
            continue
        if not has_pca(pump):
            message = "an interlock is for a PCA pump (a 'mode: pca' step)"
            problems.append(Problem(f"pumps[{i}].interlock", message))
        if not has_vitals:
            message = "needs the bedside monitor: give the patient 'vitals: {}'"
            problems.append(Problem(f"pumps[{i}].interlock", message))
    if sc.clinicians is not None:
        for name, action in sc.clinicians.actions.items():
            path = f"clinicians.actions.{name}"
            if name in MONITOR_ALARMS and not has_vitals:
                problems.append(Problem(path, "monitor alarms need the patient's 'vitals: {}'"))
            if name in MONITOR_ALARMS and action in _PUMP_ACTIONS:
                problems.append(Problem(path, f"{action!r} acts on an alarming pump; for a "
                                        "monitor alarm use acknowledge, stop_opioid, "
                                        "halve_opioid or resume_when_recovered"))  # fmt: skip
    return problems


_PUMP_ACTIONS = ("silence", "restart", "clear_and_restart", "purge_and_restart")
