"""Pumps: programs, controllers (firmware) and mechanisms. Knows nothing of PK."""

from pumpsim.pump.controller import Controller, Hardware, ReferenceController
from pumpsim.pump.program import Step, dose_rate_to_flow, resolve_program

__all__ = [
    "Controller",
    "Hardware",
    "ReferenceController",
    "Step",
    "dose_rate_to_flow",
    "resolve_program",
]
