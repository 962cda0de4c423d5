"""Pumps: programs, controllers (firmware) and mechanisms. Knows nothing of PK."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pumpsim._lazy import lazy_attributes

if TYPE_CHECKING:
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

# public name -> defining module, imported on first use (start-up stays fast)
_LAZY = {
    "AlarmManager": "pumpsim.pump.alarms",
    "AlarmSpec": "pumpsim.pump.alarms",
    "arbitrate": "pumpsim.pump.alarms",
    "Controller": "pumpsim.pump.controller",
    "ControllerError": "pumpsim.pump.controller",
    "ControllerFactory": "pumpsim.pump.controller",
    "Hardware": "pumpsim.pump.controller",
    "OperatorInput": "pumpsim.pump.controller",
    "PumpConfig": "pumpsim.pump.controller",
    "SensorEvent": "pumpsim.pump.controller",
    "load_controller": "pumpsim.pump.controller",
    "DersEntry": "pumpsim.pump.druglib",
    "DrugLibrary": "pumpsim.pump.druglib",
    "load_library": "pumpsim.pump.druglib",
    "Step": "pumpsim.pump.program",
    "dose_rate_to_flow": "pumpsim.pump.program",
    "resolve_program": "pumpsim.pump.program",
    "ReferenceController": "pumpsim.pump.reference",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

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
