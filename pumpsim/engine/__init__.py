"""The engine: builds the SimPy environment from a Scenario, runs it, records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pumpsim._lazy import lazy_attributes

if TYPE_CHECKING:
    from pumpsim.engine.result import Result
    from pumpsim.engine.simulation import Simulation, simulate

# public name -> defining module, imported on first use (start-up stays fast)
_LAZY = {
    "Result": "pumpsim.engine.result",
    "Simulation": "pumpsim.engine.simulation",
    "simulate": "pumpsim.engine.simulation",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = ["Result", "Simulation", "simulate"]
