"""One BLAS thread while pumpsim works on its small dense matrices.

pumpsim's matrices are small (a few compartments, or one such matrix per
virtual patient in a batch). A multi-threaded BLAS (OpenBLAS by default
uses every core) wakes its worker threads even for these, and on a small
shared machine the hand-offs can cost more than the arithmetic: a day of one
volumetric pump at the stroke level ran 1.8 times slower with the default
threads than with one (``benchmarks/bench_all.py`` prints both, for large
populations too). :func:`one_blas_thread` limits
BLAS to one thread for the duration of a ``with`` block and restores the
previous setting on leaving it, so the user's own NumPy work outside a
simulation keeps its threads. The limit is process-wide while it lasts (the
BLAS libraries have one setting each), so other threads of the program that
use BLAS during a run run single-threaded too.

Entering and leaving costs some tens of microseconds, so the engine wraps a
whole run and the solver a whole output sampling, never single events.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, ParamSpec, TypeVar

__all__ = ["one_blas_thread", "blas_summary", "single_threaded"]

P = ParamSpec("P")
R = TypeVar("R")


@lru_cache(maxsize=1)
def _controller() -> Any:
    # load SciPy's own BLAS too (SciPy wheels ship a second OpenBLAS), so both are limited
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[Any]:
    """A context in which every BLAS library NumPy and SciPy loaded uses one thread."""
    return _controller().limit(limits=1, user_api="blas")  # type: ignore[no-any-return]


def blas_summary() -> str:
    """One line naming each loaded BLAS, its threads, and the OpenBLAS variables set."""
    import os

    libs = [f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')}, "
            f"{i['num_threads']} threads, {os.path.basename(i['filepath'])})"
            for i in _controller().info() if i["user_api"] == "blas"]  # fmt: skip
    env = [f"{v}={os.environ[v]}" for v in
           ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE")
           if v in os.environ]  # fmt: skip
    return "; ".join(libs) + "; environment: " + (", ".join(env) if env else "none of "
            "OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_CORETYPE set")


def single_threaded(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``fn`` inside :func:`one_blas_thread`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with one_blas_thread():
            return fn(*args, **kwargs)

    return wrapper
