"""Scenario schema for target-controlled infusion and the depth-of-anaesthesia monitor.

* ``mode: tci`` program steps (:class:`TciStep`)::

      {mode: tci, target: 3 ug/mL, site: effect, pk_model: schnider1998, update: 10 s}

  The pump's firmware model (``pk_model``, default: the pump's ``pk_model``, else the
  drug's default) is built from the patient's covariates as a TCI pump would be; the
  simulated patient keeps its own model and parameters (a population differs from it).
* ``tci_target`` operator events change the target of the running TCI step::

      {at: 10 min, type: tci_target, pump: A, target: 4 ug/mL}

* ``bis:`` (top level) turns on the bispectral index monitor (:class:`BisSpec`): the
  ``patient.bis[1]`` column, the measured ``monitor.bis[1]`` column, and a ``bis`` sensor
  that closed-loop controllers read (:mod:`pumpsim.pump.closed_loop`).

Targets are written as concentrations in the drug's plasma unit (``"3 ug/mL"``,
``"4 ng/mL"``) and kept canonical (:class:`pumpsim.units.Amount`, amount per mL).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pumpsim.errors import Problem
from pumpsim.scenario.quantities import Concentration, Time

__all__ = ["TciStep", "TciTargetEvent", "BisSpec", "Stimulation", "check_tci", "TCI_DEFAULTS"]

#: canonical defaults of a TCI step
TCI_DEFAULTS = {"update": 10.0, "site": "plasma"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_target(value: Any) -> Any:
    v = float(value.value)
    if not math.isfinite(v):
        raise ValueError("must be a finite concentration such as '3 ug/mL'")
    if v < 0:
        raise ValueError("must not be negative")
    return value


class TciStep(_Model):
    """``mode: tci``: hold ``target`` at the ``site`` (``plasma`` or ``effect``) with the
    firmware model ``pk_model``, recomputing the rate every ``update``; for ``duration``
    or until the program changes."""

    mode: Literal["tci"]
    at: Time | None = None
    target: Concentration
    site: Literal["plasma", "effect"] = "plasma"
    pk_model: str | None = None
    update: Time = 10.0
    duration: Time | None = None

    _target = field_validator("target")(_check_target)

    @model_validator(mode="after")
    def _valid(self) -> TciStep:
        if not (self.update > 0 and math.isfinite(self.update)):
            raise ValueError("update must be a positive time such as '10 s'")
        if self.update > 600:
            raise ValueError("update must be at most 10 min (TCI pumps update every few s)")
        if self.duration is not None and self.duration <= 0:
            raise ValueError("duration must be greater than zero")
        if self.at is not None and self.at < 0:
            raise ValueError("at must not be negative")
        return self


class TciTargetEvent(_Model):
    """The operator sets a new ``target`` on ``pump``'s running TCI step."""

    type: Literal["tci_target"]
    at: Time
    pump: str
    target: Concentration

    _target = field_validator("target")(_check_target)

    @model_validator(mode="after")
    def _valid(self) -> TciTargetEvent:
        if self.at < 0:
            raise ValueError("at must not be negative")
        return self


class Stimulation(_Model):
    """Surgical stimulation: ``offset`` BIS units added from ``at`` for ``duration``."""

    at: Time
    duration: Time
    offset: float

    @model_validator(mode="after")
    def _valid(self) -> Stimulation:
        if self.at < 0 or self.duration <= 0 or not math.isfinite(self.offset):
            raise ValueError("give at >= 0, duration > 0 and a finite offset (BIS units)")
        return self


class BisSpec(_Model):
    """The bispectral index monitor (:mod:`pumpsim.patient.bis`).

    ``model``: ``bouillon2004`` (propofol-remifentanil response surface). The monitor
    reports every ``interval`` the value of ``delay`` ago plus Gaussian ``noise`` (SD,
    BIS units, from the run's seeded generator); ``stimulation`` adds offsets while
    surgery stimulates.
    """

    model: Literal["bouillon2004"] = "bouillon2004"
    interval: Time = 5.0
    delay: Time = 0.0
    noise: float = Field(default=0.0, ge=0.0, le=30.0)
    stimulation: list[Stimulation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> BisSpec:
        if not (self.interval > 0 and math.isfinite(self.interval)):
            raise ValueError("interval must be a positive time such as '5 s'")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        return self


def check_tci(sc: Any, problems: list) -> None:
    """Cross-field checks of TCI steps and targets: the firmware model exists for the
    pump's drug, an effect-site target has a model with ke0, targets are in the drug's
    amount unit, the patient is given (the firmware needs the covariates)."""
    from pumpsim.pk.registry import DRUGS, get_model, model_keys

    pumps = {p.id: p for p in sc.pumps}
    for i, pump in enumerate(sc.pumps):
        steps = [(f"pumps[{i}].program[{j}]", s) for j, s in enumerate(pump.program)]
        steps += [(f"events[{k}].program[{j}]", s) for k, e in enumerate(sc.events)
                  if e.type == "program" and e.pump == pump.id
                  for j, s in enumerate(e.program)]  # fmt: skip
        for path, step in steps:
            if getattr(step, "mode", None) != "tci":
                continue
            info = DRUGS.get(pump.drug)
            if info is None or info.default_model is None:
                problems.append(Problem(f"pumps[{i}].drug", f"{pump.drug!r} has no PK model: "
                                        "TCI needs a drug with one"))  # fmt: skip
                continue
            key = step.pk_model or pump.pk_model
            try:
                spec = get_model(pump.drug, key)
            except KeyError:
                allowed = ", ".join(model_keys(pump.drug))
                problems.append(Problem(f"{path}.pk_model", f"unknown pk_model {key!r} for "
                                        f"{pump.drug}; allowed: {allowed}"))  # fmt: skip
                continue
            if not hasattr(spec, "parameters"):
                problems.append(Problem(f"{path}.pk_model", f"{spec.key} is not a linear "
                                        "compartment model; TCI needs one"))  # fmt: skip
                continue
            _check_units(f"{path}.target", step.target, pump, info, problems)
            if pump.concentration is None:
                problems.append(Problem(f"pumps[{i}].concentration", "required for TCI"))
            if sc.patient is None:
                problems.append(Problem("patient", "required: a TCI pump needs the patient's "
                                        "covariates"))  # fmt: skip
                continue
            if step.site == "effect":
                from pumpsim.scenario.checks import covariates

                cov = covariates(sc)
                try:
                    ke0 = spec.parameters(cov).ke0 if cov is not None else None
                except Exception:  # covariate errors are reported by the patient checks
                    ke0 = 1.0
                if ke0 is None:
                    problems.append(Problem(f"{path}.site", f"{spec.key} has no effect site "
                                            "(no ke0); allowed: plasma"))  # fmt: skip
    for k, ev in enumerate(sc.events):
        if ev.type != "tci_target":
            continue
        pump = pumps.get(ev.pump)
        if pump is None:
            continue  # reported by the event checks
        steps = list(pump.program) + [s for e in sc.events if e.type == "program"
                                      and e.pump == pump.id for s in e.program]  # fmt: skip
        if not any(getattr(s, "mode", None) == "tci" for s in steps):
            problems.append(Problem(f"events[{k}].pump", f"pump {pump.id!r} has no 'mode: tci' "
                                    "step to take a target"))  # fmt: skip
            continue
        info = DRUGS.get(pump.drug)
        if info is not None:
            _check_units(f"events[{k}].target", ev.target, pump, info, problems)


def _check_units(path: str, target: Any, pump: Any, info: Any, problems: list) -> None:
    if target.unit != info.amount_unit:
        problems.append(Problem(path, f"{pump.drug} targets are in {info.amount_unit} per "
                                f"volume, e.g. '3 {info.plasma_unit}'"))  # fmt: skip
