"""The conditions a run's event loop is timed under, set for the run only.

:func:`run_scope` wraps :meth:`pumpsim.engine.simulation.Simulation.run`:

* BLAS limited to one thread (:func:`pumpsim.pk.blas.one_blas_thread`): the
  PK matrices are small, and waking BLAS worker threads for them costs more
  than the arithmetic;
* the objects that exist before the run (imported modules, the scenario) are
  moved out of the garbage collector's view with :func:`gc.freeze` and given
  back with :func:`gc.unfreeze` at the end. A run allocates many small
  containers (event records, signal breakpoints); without this each full
  collection re-scans every object the program holds (measured: about a fifth
  of a long stroke-level run). Collection itself stays on. Nothing is done when
  the program has frozen objects of its own.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from pumpsim.pk import blas

__all__ = ["run_scope"]


@contextmanager
def run_scope() -> Iterator[None]:
    """One BLAS thread and the pre-existing objects frozen, for the ``with`` block."""
    freeze = gc.isenabled() and gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        with blas.one_blas_thread():
            yield
    finally:
        if freeze:
            gc.unfreeze()
