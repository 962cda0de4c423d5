"""Flow-accuracy analysis of IEC 60601-2-24: start-up graph and trumpet curve.

Pure functions on a balance log — cumulative mass ``W_i`` [g] every ``S`` [min] —
from a simulation or a laboratory balance. ``Q_i`` [mL/h] is the flow over the
interval *ending* at ``t_i = i·S``; a flow array holds ``Q_1, Q_2, …`` from the
start of the test, so the analysis period ``(T1, T1 + T2]`` is
``flow[T1/S : (T1 + T2)/S]``. Simulated delivered volume [mL] can be passed as the
mass with ``density_g_per_ml=1.0``.

Caveats: ``Ep(min) ≤ A ≤ Ep(max)`` is guaranteed only when ``P`` divides ``T2``
(11, 19 and 31 min do not divide 60 min; the edge samples weigh less), and a
pulsatile pump whose period divides ``P`` shows no spread there but some at a
longer window, so a trumpet need not narrow monotonically.

Reference: IEC 60601-2-24:2012, *Medical electrical equipment — Part 2-24:
Particular requirements for the basic safety and essential performance of infusion
pumps and controllers*, clause 201.12.1, figures 201.104–201.106 (start-up graph,
trumpet curve). Numbers: docs/references.md [IEC60601-2-24] [V]; the exact clause text is
recalled [R], so every value is a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, astuple, dataclass
from itertools import pairwise
from os import PathLike
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "PROFILES",
    "INTERMEDIATE_RATES_ML_H",
    "WATER_DENSITY_G_PER_ML",
    "AccuracyProfile",
    "BalanceLog",
    "StartupGraph",
    "TrumpetResult",
    "TrumpetWindow",
    "flow_from_mass",
    "load_balance_csv",
    "startup_graph",
    "trumpet_curve",
]

FloatArray = npt.NDArray[np.float64]

#: Density of the test water [g/mL] used in the flow formula
#: (docs/references.md [IEC60601-2-24] [V]).
WATER_DENSITY_G_PER_ML = 0.998

#: Intermediate test rates [mL/h] by pump type (docs/references.md [IEC60601-2-24] [R]); also test
#: at the pump's minimum rate.
INTERMEDIATE_RATES_ML_H: dict[str, float] = {"volumetric": 25.0, "syringe": 5.0}


@dataclass(frozen=True)
class AccuracyProfile:
    """One set of test timings of the standard (clause 201.12.1 [R]).

    All times in [min]: sample interval ``S``, stabilisation before analysis
    ``T1``, analysis period ``T2`` and observation windows ``P``. Use as
    ``trumpet_curve(flow, rate, **profile.trumpet_kwargs())``.
    """

    name: str
    sample_interval_min: float
    analysis_start_min: float
    analysis_period_min: float
    windows_min: tuple[float, ...]
    source: str

    @property
    def test_period_min(self) -> float:
        """Whole test period ``T = T1 + T2`` [min], the span of the start-up graph."""
        return self.analysis_start_min + self.analysis_period_min

    def trumpet_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`trumpet_curve` for this profile."""
        return {k: v for k, v in asdict(self).items() if k not in ("name", "source")}


#: Registry of test-timing profiles.
PROFILES: dict[str, AccuracyProfile] = {
    "standard": AccuracyProfile(
        name="standard",
        sample_interval_min=0.5,
        analysis_start_min=60.0,
        analysis_period_min=60.0,
        windows_min=(2.0, 5.0, 11.0, 19.0, 31.0),
        source="IEC 60601-2-24:2012 201.12.1: S 0.5 min, T 120 min, T2 the 2nd hour [V]",
    ),
    "ambulatory": AccuracyProfile(
        name="ambulatory",
        sample_interval_min=15.0,
        analysis_start_min=1440.0,
        analysis_period_min=1440.0,
        windows_min=(60.0, 150.0, 330.0, 570.0, 930.0),
        source="IEC 60601-2-24:2012 201.12.1, ambulatory/insulin pumps: 24 h stabilisation, "
        "S 15 min, windows 60-930 min [R]; T2 = 24 h and inner windows (standard x 30) assumed",
    ),
}


class StartupGraph(NamedTuple):
    """Start-up graph: flow ``Q_i`` [mL/h] against interval end time ``t_i`` [min]."""

    time_min: FloatArray
    flow_ml_h: FloatArray

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"time [min]": self.time_min, "flow [mL/h]": self.flow_ml_h})


@dataclass(frozen=True)
class TrumpetWindow:
    """One point pair of the trumpet curve for observation window ``P`` [min].

    ``n = P/S`` samples per window, ``m = (T2 − P)/S + 1`` sliding windows, and the
    largest/smallest window mean of ``100·(Q_i − r)/r`` [%].
    """

    window_min: float
    n: int
    m: int
    ep_max_pct: float
    ep_min_pct: float


@dataclass(frozen=True)
class TrumpetResult:
    """Trumpet-curve analysis of one test (IEC 60601-2-24:2012 201.12.1 [R])."""

    rate_ml_h: float
    sample_interval_min: float
    analysis_start_min: float
    analysis_period_min: float
    mean_error_pct: float
    windows: tuple[TrumpetWindow, ...]

    @property
    def A(self) -> float:  # noqa: N802 - the standard's symbol
        """Mean percentage error ``A = 100·(Q̄ − r)/r`` over the analysis period [%]."""
        return self.mean_error_pct

    def window(self, window_min: float) -> TrumpetWindow:
        """The result for observation window ``P`` [min]."""
        for w in self.windows:
            if math.isclose(w.window_min, window_min):
                return w
        raise ValueError(f"no observation window P = {window_min:g} min in this result")

    def to_frame(self) -> pd.DataFrame:
        """Trumpet table indexed by ``P [min]``; ``A [%]`` and ``r`` are in ``frame.attrs``."""
        columns = ["P [min]", "n", "m", "Ep(max) [%]", "Ep(min) [%]"]
        frame = pd.DataFrame([astuple(w) for w in self.windows], columns=columns)
        frame = frame.set_index("P [min]")
        frame.attrs.update({"A [%]": self.mean_error_pct, "rate [mL/h]": self.rate_ml_h})
        return frame


class BalanceLog(NamedTuple):
    """A validated balance log: sample times [s], cumulative mass [g], step [s]."""

    time_s: FloatArray
    mass_g: FloatArray
    interval_s: float


def _positive(value: float, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def _samples(value_min: float, step_min: float, what: str, minimum: int = 1) -> int:
    """``value_min`` [min] as a whole number (>= ``minimum``) of intervals ``step_min``."""
    ratio = float(value_min) / step_min
    count = round(ratio) if math.isfinite(ratio) else -1
    if count < minimum or abs(ratio - count) > 1e-9 * max(1.0, ratio):
        raise ValueError(
            f"{what} = {float(value_min):g} min is not a whole number (>= {minimum}) of "
            f"sample intervals S = {step_min:g} min"
        )
    return count


def _series(values: npt.ArrayLike, name: str, min_size: int) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size < min_size:
        raise ValueError(f"{name} must be 1-D with at least {min_size} values, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.argmin(np.isfinite(arr)))
        raise ValueError(f"{name} has a non-finite value at index {bad}")
    return arr


def flow_from_mass(
    mass_g: npt.ArrayLike,
    interval_s: float = 30.0,
    density_g_per_ml: float = WATER_DENSITY_G_PER_ML,
) -> FloatArray:
    """Flow ``Q_i = 60·(W_i − W_{i−1})/(S·d)`` [mL/h] from cumulative mass (201.12.1 [R]).

    ``mass_g``: cumulative mass ``W_0 … W_N`` [g] at uniform steps; ``interval_s``:
    ``S`` [s] (30 s = 0.5 min in the standard test); ``density_g_per_ml``: ``d``
    [g/mL]. Returns ``N`` flows [mL/h]; ``Q_i`` covers ``((i−1)·S, i·S]``.
    """
    w = _series(mass_g, "mass_g", 2)
    s_min = _positive(interval_s, "interval_s") / 60.0
    d = _positive(density_g_per_ml, "density_g_per_ml")
    return 60.0 * np.diff(w) / (s_min * d)


def startup_graph(
    mass_g: npt.ArrayLike,
    interval_s: float = 30.0,
    density_g_per_ml: float = WATER_DENSITY_G_PER_ML,
    test_period_min: float = 120.0,
) -> StartupGraph:
    """Start-up graph: ``Q_i`` [mL/h] over the whole test period ``T`` [min] (fig. 201.104 [R]).

    Samples after ``T`` are ignored; a log shorter than ``T`` is an error.
    """
    flow = flow_from_mass(mass_g, interval_s, density_g_per_ml)
    s_min = interval_s / 60.0
    n = _samples(test_period_min, s_min, "test period T")
    if flow.size < n:
        raise ValueError(
            f"the log covers {flow.size * s_min:g} min but the test period T is "
            f"{test_period_min:g} min ({n + 1} mass samples at S = {s_min:g} min)"
        )
    return StartupGraph(s_min * np.arange(1, n + 1, dtype=np.float64), flow[:n])


def trumpet_curve(
    flow_ml_h: npt.ArrayLike,
    rate_ml_h: float,
    sample_interval_min: float = 0.5,
    analysis_start_min: float = 60.0,
    analysis_period_min: float = 60.0,
    windows_min: Sequence[float] = (2.0, 5.0, 11.0, 19.0, 31.0),
) -> TrumpetResult:
    """Trumpet-curve analysis (IEC 60601-2-24:2012 201.12.1, figs. 201.105–201.106 [R]).

    Over the analysis period ``T2`` starting at ``T1``, the mean error is
    ``A = 100·(Q̄ − r)/r`` [%]; for each observation window ``P``,
    ``Ep(max)``/``Ep(min)`` are the largest/smallest of the ``m = (T2 − P)/S + 1``
    sliding means of ``n = P/S`` consecutive values of ``100·(Q_i − r)/r`` [%].

    ``flow_ml_h``: ``Q_1, Q_2, …`` [mL/h] from the start of the test; ``rate_ml_h``:
    set rate ``r`` [mL/h]; ``sample_interval_min`` ``S``, ``analysis_start_min``
    ``T1``, ``analysis_period_min`` ``T2``, ``windows_min`` ``P`` (increasing), all
    [min], each a whole number of ``S``. Ambulatory pumps:
    ``trumpet_curve(flow, r, **PROFILES["ambulatory"].trumpet_kwargs())``.
    """
    rate = _positive(rate_ml_h, "rate_ml_h")
    s_min = _positive(sample_interval_min, "sample_interval_min")
    start = _samples(analysis_start_min, s_min, "analysis start T1", minimum=0)
    size = _samples(analysis_period_min, s_min, "analysis period T2")
    t1, t2 = start * s_min, size * s_min
    q = _series(flow_ml_h, "flow_ml_h", 1)
    if q.size < start + size:
        raise ValueError(
            f"flow_ml_h covers {q.size * s_min:g} min but the analysis period ends at "
            f"T1 + T2 = {t1 + t2:g} min"
        )
    windows = tuple(float(p) for p in windows_min)
    if not windows or any(b <= a for a, b in pairwise(windows)):
        raise ValueError(f"windows_min must be non-empty and strictly increasing, got {windows}")

    q = q[start : start + size]
    error_pct = 100.0 * (q - rate) / rate
    results = []
    for p in windows:  # a handful of window lengths; each is one vectorised moving mean
        n = _samples(p, s_min, "observation window P")
        if n > size:
            raise ValueError(
                f"observation window P = {p:g} min is longer than the analysis "
                f"period T2 = {t2:g} min"
            )
        means = sliding_window_view(error_pct, n).mean(axis=1)
        results.append(TrumpetWindow(p, n, means.size, float(means.max()), float(means.min())))
    return TrumpetResult(
        rate_ml_h=rate,
        sample_interval_min=s_min,
        analysis_start_min=t1,
        analysis_period_min=t2,
        mean_error_pct=float(100.0 * (q.mean() - rate) / rate),
        windows=tuple(results),
    )


_TIME_UNITS_S = {"s": 1.0, "min": 60.0, "h": 3600.0}


def _csv_column(frame: pd.DataFrame, col: str, path: str | PathLike[str]) -> FloatArray:
    if col not in frame.columns:
        raise ValueError(f"{path}: no column {col!r}; columns are {list(frame.columns)}")
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(
            f"{path}: column {col!r}: missing or non-numeric value in data row {bad[0] + 1}"
        )
    return values


def load_balance_csv(
    path: str | PathLike[str],
    time_column: str = "time_s",
    mass_column: str = "mass_g",
    time_unit: str = "s",
    rtol: float = 0.02,
    **read_csv_kwargs: Any,
) -> BalanceLog:
    """Read a balance log (time in s, min or h; cumulative mass [g]) from CSV.

    Time must be strictly increasing and uniformly sampled: every step within
    ``rtol`` of the median step. Extra keyword arguments go to
    :func:`pandas.read_csv` (e.g. ``sep=";"``, ``comment="#"``). Raises a one-line
    ``ValueError`` naming the file and column on any violation. The returned
    ``interval_s`` [s] is the mean step, ready for :func:`startup_graph`.
    """
    if time_unit not in _TIME_UNITS_S:
        raise ValueError(f"time_unit must be one of {sorted(_TIME_UNITS_S)}, got {time_unit!r}")
    if not (math.isfinite(rtol) and 0 <= rtol < 1):
        raise ValueError(f"rtol must be in [0, 1), got {rtol!r}")
    frame = pd.read_csv(path, **read_csv_kwargs)
    t, mass = (_csv_column(frame, col, path) for col in (time_column, mass_column))
    if t.size < 2:
        raise ValueError(f"{path}: needs at least 2 rows, got {t.size}")
    step = np.diff(t)
    if np.any(step <= 0):
        k = int(np.argmax(step <= 0))
        raise ValueError(
            f"{path}: column {time_column!r} is not strictly increasing at data "
            f"row {k + 2} ({t[k]:g} then {t[k + 1]:g} {time_unit})"
        )
    nominal = float(np.median(step))
    off = np.abs(step - nominal) > rtol * nominal
    if np.any(off):
        k = int(np.argmax(off))
        raise ValueError(
            f"{path}: column {time_column!r} is not uniformly sampled: step {step[k]:g} "
            f"{time_unit} before data row {k + 2} differs from the median step {nominal:g} "
            f"{time_unit} by more than {rtol:.0%}"
        )
    factor = _TIME_UNITS_S[time_unit]
    interval_s = factor * float(t[-1] - t[0]) / (t.size - 1)
    return BalanceLog(factor * t, mass, interval_s)
