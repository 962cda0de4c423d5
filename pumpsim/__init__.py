"""pumpsim: infusion pump simulator and controller emulator with exact PK by route.

>>> import pumpsim
>>> sc = pumpsim.load_scenario("scenarios/propofol_rate_change.yaml")  # doctest: +SKIP
>>> res = pumpsim.simulate(sc, seed=1)                                   # doctest: +SKIP
"""

from typing import TYPE_CHECKING, Any

from pumpsim._version import __version__
from pumpsim.errors import NotSupportedError, PumpsimError, ScenarioError, UnitError

if TYPE_CHECKING:
    from pumpsim.engine import Result, simulate
    from pumpsim.scenario import Scenario, load_scenario

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

#: imported on first use, so a process that needs only a part (a controller host) pays for it
_LAZY = {"Result": "pumpsim.engine", "simulate": "pumpsim.engine",
         "Scenario": "pumpsim.scenario", "load_scenario": "pumpsim.scenario"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pumpsim' has no attribute {name!r}")
