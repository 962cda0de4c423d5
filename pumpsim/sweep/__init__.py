"""Parameter sweeps and large populations, in this process or on a Dask cluster.

>>> import pumpsim
>>> res = pumpsim.sweep("scenarios/propofol_rate_change.yaml",              # doctest: +SKIP
...                     grid=["patient.weight=50,70,90 kg"], population=1000,
...                     out="out/sweep", scheduler="local")

The package itself is callable (``pumpsim.sweep(...)`` is :func:`runner.sweep`), so it
can be both the function of the public API and the home of its modules: ``grid``
(axes, points, seeds), ``run`` (one task), ``store`` (the Parquet dataset),
``schedulers`` (where tasks run, progress) and ``summary`` (table and figure).
Names are imported on first use, so the command line (which lists ``pumpsim sweep``)
starts without NumPy; Dask and pyarrow are imported only when needed (extra
``pumpsim[dask]``).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from pumpsim._lazy import lazy_attributes

if TYPE_CHECKING:
    from pumpsim.sweep.grid import Axis, Grid, parse_axis
    from pumpsim.sweep.runner import SweepResult, sweep

__all__ = ["sweep", "SweepResult", "Grid", "Axis", "parse_axis"]

_LAZY = {"sweep": "pumpsim.sweep.runner", "SweepResult": "pumpsim.sweep.runner",
         "Grid": "pumpsim.sweep.grid", "Axis": "pumpsim.sweep.grid",
         "parse_axis": "pumpsim.sweep.grid"}  # fmt: skip
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from pumpsim.sweep.runner import sweep as run

        return run(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
