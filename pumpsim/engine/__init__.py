"""The engine: builds the SimPy environment from a Scenario, runs it, records."""

from pumpsim.engine.result import Result
from pumpsim.engine.simulation import Simulation, simulate

__all__ = ["Result", "Simulation", "simulate"]
