"""pumpsim: infusion pump simulator and controller emulator with exact PK by route.

>>> import pumpsim
>>> sc = pumpsim.load_scenario("scenarios/propofol_rate_change.yaml")  # doctest: +SKIP
>>> res = pumpsim.simulate(sc, seed=1)                                   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pumpsim._lazy import lazy_attributes
from pumpsim._version import __version__
from pumpsim.errors import NotSupportedError, PumpsimError, ScenarioError, UnitError

if TYPE_CHECKING:
    from pumpsim.engine import Result, simulate
    from pumpsim.scenario import Scenario, load_scenario

# public name -> defining module, imported on first use (start-up stays fast)
_LAZY = {
    "Result": "pumpsim.engine",
    "simulate": "pumpsim.engine",
    "Scenario": "pumpsim.scenario",
    "load_scenario": "pumpsim.scenario",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "__version__",
    "NotSupportedError",
    "PumpsimError",
    "Result",
    "Scenario",
    "ScenarioError",
    "UnitError",
    "load_scenario",
    "simulate",
]
