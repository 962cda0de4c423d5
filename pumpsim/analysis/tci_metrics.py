"""How well TCI predicts and how well closed loops control: published performance metrics.

TCI prediction (Varvel et al. 1992, docs/references.md [Varvel1992]). For patient i at
sample j the performance error is ``PE_ij = 100·(C_measured − C_predicted)/C_predicted``
[%], and per patient:

* **MDPE** — median PE (bias) [%];
* **MDAPE** — median |PE| (inaccuracy) [%];
* **wobble** — median |PE − MDPE| (variability of PE within the patient) [%];
* **divergence** — slope of the least-squares line of |PE| against time [%/h]
  (a positive value: the prediction drifts away).

Closed-loop control of BIS (Liu et al. 2006, docs/references.md [Liu2006]; the
performance error of the controlled variable is PE = 100·(BIS − target)/target):

* **time to target** — from the start to the first BIS at or below the upper bound of
  the range [s];
* **overshoot** — how far BIS goes below the lower bound of the range after that [BIS];
* **time in range** — percentage of the maintenance time with BIS in [40, 60];
* **global score** — GS = (MDAPE + wobble) / (% time in range) (Liu 2006): lower is better.

All functions are pure numpy and take arrays; a leading axis (one row per patient)
gives one value per patient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "performance_errors",
    "varvel",
    "closed_loop_metrics",
    "tci_summary",
    "distribution",
]


def performance_errors(measured: Any, predicted: Any) -> np.ndarray:
    """PE [%] = 100·(measured − predicted)/predicted; NaN where nothing is predicted."""
    m = np.asarray(measured, dtype=float)
    p = np.asarray(predicted, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p > 0, 100.0 * (m - p) / np.where(p > 0, p, 1.0), np.nan)


def varvel(measured: Any, predicted: Any, times_s: Any) -> dict[str, Any]:
    """Varvel 1992 MDPE, MDAPE, wobble [%] and divergence [%/h] of ``measured`` against
    ``predicted`` sampled at ``times_s`` [s] (last axis; NaN samples are left out)."""
    pe = performance_errors(measured, predicted)
    t = np.broadcast_to(np.asarray(times_s, dtype=float) / 3600.0, pe.shape)
    mdpe = np.nanmedian(pe, axis=-1)
    ape = np.abs(pe)
    mdape = np.nanmedian(ape, axis=-1)
    wobble = np.nanmedian(np.abs(pe - mdpe[..., None]), axis=-1)
    ok = np.isfinite(ape)
    n = ok.sum(axis=-1)
    tm = np.where(ok, t, 0.0).sum(axis=-1) / n
    am = np.where(ok, ape, 0.0).sum(axis=-1) / n
    dt = np.where(ok, t - tm[..., None], 0.0)
    da = np.where(ok, ape - am[..., None], 0.0)
    divergence = (dt * da).sum(axis=-1) / (dt * dt).sum(axis=-1)
    return {"mdpe": mdpe, "mdape": mdape, "wobble": wobble, "divergence": divergence}


def closed_loop_metrics(bis: Any, times_s: Any, target: float = 50.0,
                        band: tuple[float, float] = (40.0, 60.0),
                        maintenance_from: float | None = None) -> dict[str, float]:  # fmt: skip
    """Induction and maintenance metrics of a BIS trace (see the module docstring).

    ``maintenance_from`` [s]: start of maintenance (default: the time to target).
    Time in range, MDPE, MDAPE, wobble and the global score are over maintenance.
    """
    b = np.asarray(bis, dtype=float)
    t = np.asarray(times_s, dtype=float)
    lo, hi = band
    hit = np.nonzero(b <= hi)[0]
    t_target = float(t[hit[0]]) if hit.size else float("nan")
    start = maintenance_from if maintenance_from is not None else t_target
    keep = t >= start if np.isfinite(start) else np.zeros_like(t, dtype=bool)
    after = b[t >= t_target] if np.isfinite(t_target) else np.array([])
    overshoot = float(max(0.0, lo - after.min())) if after.size else float("nan")
    if not keep.any():
        nan = float("nan")
        return {"time_to_target_s": t_target, "overshoot": overshoot, "time_in_range_pct": nan,
                "mdpe": nan, "mdape": nan, "wobble": nan, "global_score": nan}  # fmt: skip
    bm = b[keep]
    in_range = float(100.0 * np.mean((bm >= lo) & (bm <= hi)))
    pe = 100.0 * (bm - target) / target
    mdpe = float(np.median(pe))
    mdape = float(np.median(np.abs(pe)))
    wobble = float(np.median(np.abs(pe - mdpe)))
    gs = (mdape + wobble) / in_range if in_range > 0 else float("inf")
    return {"time_to_target_s": t_target, "overshoot": overshoot, "time_in_range_pct": in_range,
            "mdpe": mdpe, "mdape": mdape, "wobble": wobble, "global_score": gs}  # fmt: skip


def distribution(values: Any, percentiles: tuple[float, ...] = (5, 25, 50, 75, 95)) -> dict:
    """Percentiles of per-patient values (a dict ``p<k>`` -> value)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return {f"p{p:g}": float("nan") for p in percentiles}
    return {f"p{p:g}": float(x) for p, x in zip(percentiles, np.percentile(v, percentiles),
                                                 strict=True)}  # fmt: skip


def tci_summary(timeseries: Any, population: dict[str, dict[str, np.ndarray]],
                drugs: dict[str, str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:  # fmt: skip
    """Varvel metrics of every TCI pump's predicted plasma concentration against the
    patient's (each virtual patient's): ``({pump: summary}, {"<pump>.<metric>": per-patient
    values})``. ``drugs``: pump id -> drug."""
    out: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    grid = np.asarray(timeseries.index, dtype=float)
    for pid, drug in drugs.items():
        pred_cols = [c for c in timeseries.columns
                     if c.startswith(f"pump.{pid}.tci.predicted_plasma[")]  # fmt: skip
        if not pred_cols:
            continue
        pred = timeseries[pred_cols[0]].to_numpy()
        unit = pred_cols[0].rsplit("[", 1)[1].rstrip("]")
        if drug in population:
            measured = population[drug]["plasma"]
        else:
            measured = timeseries[f"patient.{drug}.plasma[{unit}]"].to_numpy()
        m = varvel(measured, pred, grid)
        entry: dict[str, Any] = {"drug": drug, "samples": int(np.isfinite(
            performance_errors(np.atleast_2d(measured)[0], pred)).sum())}  # fmt: skip
        for key, values in m.items():
            if np.ndim(values):
                entry[key] = distribution(values)
                arrays[f"{pid}.{key}"] = np.asarray(values)
            else:
                entry[key] = float(values)
        entry["units"] = {"mdpe": "%", "mdape": "%", "wobble": "%", "divergence": "%/h"}
        out[pid] = entry
    return out, arrays
