"""Varvel 1992 and closed-loop metrics on hand-computable series."""

from __future__ import annotations

import numpy as np
import pytest

from pumpsim.analysis.tci_metrics import closed_loop_metrics, performance_errors, varvel


def test_varvel_by_hand() -> None:
    """predicted 2 throughout; measured 2.2, 1.8, 2.4, 2.0, 2.6 at 0, 1, 2, 3, 4 h.
    PE = +10, -10, +20, 0, +30 %  -> MDPE = median = 10; |PE| = 10, 10, 20, 0, 30 ->
    MDAPE = 10; |PE - 10| = 0, 20, 10, 10, 20 -> wobble = 10; divergence = slope of
    |PE| on t: t̄ = 2, |PE|̄ = 14, Σ(t-2)(|PE|-14) = (-2)(-4)+(-1)(-4)+0+(1)(-14)+(2)(16)
    = 30, Σ(t-2)² = 10 -> 3 %/h."""
    m = varvel([2.2, 1.8, 2.4, 2.0, 2.6], [2.0] * 5, np.arange(5) * 3600.0)
    assert m["mdpe"] == pytest.approx(10.0)
    assert m["mdape"] == pytest.approx(10.0)
    assert m["wobble"] == pytest.approx(10.0)
    assert m["divergence"] == pytest.approx(3.0)


def test_varvel_per_patient_rows_and_missing_predictions() -> None:
    measured = np.array([[2.2, 1.8, 2.4, 2.0, 2.6], [1.0, 1.0, 1.0, 1.0, 1.0]])
    predicted = np.array([np.nan, 2.0, 2.0, 2.0, 2.0])  # nothing predicted at first
    m = varvel(measured, predicted, np.arange(5) * 3600.0)
    assert m["mdpe"].tolist() == pytest.approx([10.0, -50.0])  # -10, 20, 0, 30 -> (0+20)/2
    assert np.isnan(performance_errors(1.0, 0.0))


def test_closed_loop_metrics_by_hand() -> None:
    """BIS 90, 70, 55, 45, 38, 50, 52, 62 every 10 s, target 50, range 40-60. First at or
    below 60: 20 s. Overshoot below 40: 2. Maintenance from 20 s: 55, 45, 38, 50, 52, 62 ->
    in range 4/6 = 66.67 %. PE = 10, -10, -24, 0, 4, 24 -> MDPE 2, |PE| median 10,
    |PE - 2| = 8, 12, 26, 2, 2, 22 -> wobble 10; GS = (10 + 10)/66.67 = 0.3."""
    bis = [90, 70, 55, 45, 38, 50, 52, 62]
    m = closed_loop_metrics(bis, np.arange(8) * 10.0)
    assert m["time_to_target_s"] == 20.0
    assert m["overshoot"] == pytest.approx(2.0)
    assert m["time_in_range_pct"] == pytest.approx(400 / 6)
    assert m["mdpe"] == pytest.approx(2.0)
    assert m["mdape"] == pytest.approx(10.0)
    assert m["wobble"] == pytest.approx(10.0)
    assert m["global_score"] == pytest.approx(0.3)
