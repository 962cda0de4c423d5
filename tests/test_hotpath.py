"""A run's BLAS-thread limit and garbage-collector freeze are scoped to the run."""

from __future__ import annotations

import gc

from threadpoolctl import threadpool_info

from pumpsim import simulate
from pumpsim.engine.hotpath import run_scope
from pumpsim.pk.blas import blas_summary, one_blas_thread

SCENARIO = {"duration": "10 min", "output": {"interval": "1 min", "plots": False},
            "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
            "pumps": [{"id": "A", "drug": "propofol", "concentration": "10 mg/mL",
                       "program": [{"dose_rate": "6 mg/kg/h"}]}]}  # fmt: skip


def _blas_threads() -> list[int]:
    import scipy.linalg  # noqa: F401  (SciPy brings its own BLAS: load it before comparing)

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_one_blas_thread_inside_and_the_user_setting_after() -> None:
    before = _blas_threads()
    with one_blas_thread():
        assert _blas_threads() and set(_blas_threads()) == {1}
    assert _blas_threads() == before
    simulate(SCENARIO)
    assert _blas_threads() == before  # a run leaves the user's setting as it found it
    assert "threads" in blas_summary()


def test_run_scope_freezes_only_its_own_and_gives_back(monkeypatch) -> None:
    assert gc.get_freeze_count() == 0
    with run_scope():
        assert gc.get_freeze_count() > 0
        assert set(_blas_threads()) == {1}
    assert gc.get_freeze_count() == 0
    simulate(SCENARIO)
    assert gc.get_freeze_count() == 0
    # a program that froze objects itself is left exactly as it was: run_scope neither
    # freezes nor unfreezes (spied, since frozen objects other threads free change the count)
    calls: list[str] = []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 1234)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    with run_scope():
        pass
    assert calls == []
