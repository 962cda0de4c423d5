"""pumpsim: infusion pump simulator and controller emulator with exact PK by route.

>>> import pumpsim
>>> sc = pumpsim.load_scenario("scenarios/propofol_rate_change.yaml")  # doctest: +SKIP
>>> res = pumpsim.simulate(sc, seed=1)                                   # doctest: +SKIP
"""

from pumpsim import sweep  # a callable package: pumpsim.sweep(...)
from pumpsim._version import __version__
from pumpsim.engine import Result, simulate
from pumpsim.errors import NotSupportedError, PumpsimError, ScenarioError, UnitError
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
    "sweep",
]
