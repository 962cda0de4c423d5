"""Pumps: programs, controllers (firmware) and mechanisms. Knows nothing of PK."""

from pumpsim.pump.alarms import AlarmManager, AlarmSpec, arbitrate
from pumpsim.pump.controller import (
    Controller,
    ControllerError,
    ControllerFactory,
    Hardware,
    OperatorInput,
    PumpConfig,
    SensorEvent,
    load_controller,
)
from pumpsim.pump.druglib import DersEntry, DrugLibrary, load_library
from pumpsim.pump.program import Step, dose_rate_to_flow, resolve_program
from pumpsim.pump.reference import ReferenceController

__all__ = [
    "AlarmManager",
    "AlarmSpec",
    "Controller",
    "ControllerError",
    "ControllerFactory",
    "DersEntry",
    "DrugLibrary",
    "Hardware",
    "OperatorInput",
    "PumpConfig",
    "ReferenceController",
    "SensorEvent",
    "Step",
    "arbitrate",
    "dose_rate_to_flow",
    "load_controller",
    "load_library",
    "resolve_program",
]
