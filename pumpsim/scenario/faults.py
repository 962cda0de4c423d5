"""Scenario events for bedside faults: infiltration, disconnection, door, power, free flow.

Each event names the ``pump`` whose line, door or power it affects, and ``at``
when it happens. What the engine does with each is in
:mod:`pumpsim.engine.faults`; the schema only says what a file may write:

=====================  =====================================================================
``type``               meaning
=====================  =====================================================================
``infiltration``       the IV site fails: from then on the line delivers into tissue, absorbed
                       slowly (the drug's ``sc`` absorption, else t½ 30 min, or ``absorption``)
``disconnection``      the line comes apart at the patient: the pump runs on, the drug is lost
``reconnection``       the line is joined again
``door_open``          the pump's door (syringe clamp) is opened: a ``door`` sensor event
``door_close``         the door is closed again
``mains_lost``         mains power fails: the pump runs on its battery (``settings.battery``)
``mains_restored``     mains power returns
``free_flow``          the set flows by gravity, whatever the motor does (a mis-loaded
                       syringe, an open roller clamp with the set out of the pump)
=====================  =====================================================================
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pumpsim.scenario.quantities import Pressure, Time

__all__ = [
    "FAULT_EVENTS",
    "InfiltrationEvent",
    "DisconnectionEvent",
    "ReconnectionEvent",
    "DoorOpenEvent",
    "DoorCloseEvent",
    "MainsLostEvent",
    "MainsRestoredEvent",
    "FreeFlowEvent",
    "TissueAbsorption",
]

#: event types handled by :mod:`pumpsim.engine.faults`
FAULT_EVENTS: tuple[str, ...] = (
    "infiltration",
    "disconnection",
    "reconnection",
    "door_open",
    "door_close",
    "mains_lost",
    "mains_restored",
    "free_flow",
)


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Time = 0.0
    pump: str

    @field_validator("at")
    @classmethod
    def _at(cls, v: float) -> float:
        if v < 0:
            raise ValueError("must not be negative; a time of zero or more is allowed")
        return v


class TissueAbsorption(BaseModel):
    """First-order absorption from the infiltrated tissue: ``half_life`` (e.g. ``"30 min"``)
    and the fraction that is ever absorbed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    half_life: Time
    bioavailability: float = Field(default=1.0, gt=0.0, le=1.0)

    @field_validator("half_life")
    @classmethod
    def _hl(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be greater than zero, e.g. '30 min'")
        return v


class InfiltrationEvent(_Fault):
    type: Literal["infiltration"]
    absorption: TissueAbsorption | None = None


class DisconnectionEvent(_Fault):
    type: Literal["disconnection"]


class ReconnectionEvent(_Fault):
    type: Literal["reconnection"]


class DoorOpenEvent(_Fault):
    type: Literal["door_open"]


class DoorCloseEvent(_Fault):
    type: Literal["door_close"]


class MainsLostEvent(_Fault):
    type: Literal["mains_lost"]


class MainsRestoredEvent(_Fault):
    type: Literal["mains_restored"]


class FreeFlowEvent(_Fault):
    """Gravity flow ``(head − back pressure)/R`` through the pump's line from ``at`` to the
    end of the run, whatever the motor does (``head``: the container's height as pressure)."""

    type: Literal["free_flow"]
    head: Pressure = 60.0  # container ~80 cm above the site: ≈ 60 mmHg [illustrative]

    @field_validator("head")
    @classmethod
    def _head(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be greater than zero, e.g. '60 mmHg'")
        return v
