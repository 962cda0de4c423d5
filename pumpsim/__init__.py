"""pumpsim: infusion pump simulator and controller emulator with exact PK by route.

Everything a user needs is importable from here; the modules below are internal
and may move::

    >>> import pumpsim
    >>> sc = pumpsim.load_scenario("scenarios/propofol_rate_change.yaml")  # doctest: +SKIP
    >>> res = pumpsim.simulate(sc, seed=1)                                   # doctest: +SKIP
    >>> res.timeseries, res.events, res.summary, res.plot()                  # doctest: +SKIP

Names are resolved on first use (module ``__getattr__``, PEP 562), so
``import pumpsim`` loads neither SimPy, SciPy, pandas nor matplotlib; the
first ``pumpsim.simulate`` does. The architecture is described in
``docs/design.md`` and every source in ``docs/references.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pumpsim._version import __version__
from pumpsim.errors import NotSupportedError, PumpsimError, ScenarioError, UnitError

#: public name -> module that defines it (imported on first access); "module:attr" when the
#: public name differs from the module's (a function may not share a submodule's name:
#: importing the submodule would replace it on the package)
_LAZY: dict[str, str] = {
    # scenarios and runs
    "Scenario": "pumpsim.scenario",
    "load_scenario": "pumpsim.scenario",
    "scenario_json_schema": "pumpsim.scenario.json_schema",
    "simulate": "pumpsim.engine.simulation",
    "Simulation": "pumpsim.engine.simulation",
    "Result": "pumpsim.engine.result",
    "exposure_metrics": "pumpsim.engine.result",
    # comparing routes and variants
    "compare_routes": "pumpsim.compare",
    "run_comparison": "pumpsim.compare",
    "Comparison": "pumpsim.compare",
    "time_above": "pumpsim.compare",
    # PK models and populations
    "models": "pumpsim.pk.registry",
    "model_keys": "pumpsim.pk.registry",
    "get_model": "pumpsim.pk.registry",
    "get_drug": "pumpsim.pk.registry",
    "sample_factors": "pumpsim.pk.population",
    "omega_from_cv": "pumpsim.pk.population",
    # the bench (IEC 60601-2-24) and its analysis
    "trumpet_test": "pumpsim.bench",
    "occlusion_test": "pumpsim.bench",
    "occlusion_table": "pumpsim.bench",
    "predicted_alarm_time": "pumpsim.bench",
    "trumpet_curve": "pumpsim.analysis.iec60601",
    "flow_from_mass": "pumpsim.analysis.iec60601",
    "load_balance_csv": "pumpsim.analysis.iec60601",
    # controllers and the conformance suite
    "verify_controller": "pumpsim.verify:verify",
    "Controller": "pumpsim.pump",
    "ReferenceController": "pumpsim.pump",
    "Hardware": "pumpsim.pump",
    "OperatorInput": "pumpsim.pump",
    "PumpConfig": "pumpsim.pump",
    "SensorEvent": "pumpsim.pump",
    "load_controller": "pumpsim.pump",
    "dose_rate_to_flow": "pumpsim.pump",
    # units at the boundary
    "parse": "pumpsim.units",
    # sweeps over grids and populations (Dask when asked); the package is callable too
    "sweep": "pumpsim.sweep.runner",
    "SweepResult": "pumpsim.sweep.runner",
    # a ward of beds, pumps and nurses
    "load_ward": "pumpsim.ward",
    "simulate_ward": "pumpsim.ward",
    "WardResult": "pumpsim.ward",
}

__all__ = [
    "__version__",
    "NotSupportedError",
    "PumpsimError",
    "ScenarioError",
    "UnitError",
    "Scenario",
    "load_scenario",
    "scenario_json_schema",
    "simulate",
    "Simulation",
    "Result",
    "exposure_metrics",
    "compare_routes",
    "run_comparison",
    "Comparison",
    "time_above",
    "models",
    "model_keys",
    "get_model",
    "get_drug",
    "sample_factors",
    "omega_from_cv",
    "trumpet_test",
    "occlusion_test",
    "occlusion_table",
    "predicted_alarm_time",
    "trumpet_curve",
    "flow_from_mass",
    "load_balance_csv",
    "verify_controller",
    "Controller",
    "ReferenceController",
    "Hardware",
    "OperatorInput",
    "PumpConfig",
    "SensorEvent",
    "load_controller",
    "dose_rate_to_flow",
    "parse",
    "sweep",
    "SweepResult",
    "load_ward",
    "simulate_ward",
    "WardResult",
]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'pumpsim' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = getattr(import_module(module), attr or name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from pumpsim.analysis.iec60601 import flow_from_mass, load_balance_csv, trumpet_curve
    from pumpsim.bench import occlusion_table, occlusion_test, predicted_alarm_time, trumpet_test
    from pumpsim.compare import Comparison, compare_routes, run_comparison, time_above
    from pumpsim.engine.result import Result, exposure_metrics
    from pumpsim.engine.simulation import Simulation, simulate
    from pumpsim.pk.population import omega_from_cv, sample_factors
    from pumpsim.pk.registry import get_drug, get_model, model_keys, models
    from pumpsim.pump import (
        Controller,
        Hardware,
        OperatorInput,
        PumpConfig,
        ReferenceController,
        SensorEvent,
        dose_rate_to_flow,
        load_controller,
    )
    from pumpsim.scenario import Scenario, load_scenario
    from pumpsim.scenario.json_schema import scenario_json_schema
    from pumpsim.sweep.runner import SweepResult, sweep
    from pumpsim.units import parse
    from pumpsim.verify import verify as verify_controller
    from pumpsim.ward import WardResult, load_ward, simulate_ward
