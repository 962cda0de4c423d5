"""Decrement times: how long after an infusion stops until the concentration falls by a fraction.

The context-sensitive half-time (CSHT) is the 50 % decrement time after a
constant-rate infusion of a given duration; Hughes, Glass and Jacobs 1992
introduced it because in multi-compartment drugs it depends on how long the
infusion ran, not on any single half-life. The 80 % decrement time is the
same idea for a larger fall (docs/references.md [Hughes1992]).

Everything here is computed with pumpsim's exact solver
(:class:`pumpsim.pk.solver.ExactSolver`): the model's linear system is driven
at a constant rate for ``duration``, the input is switched off, and the first
crossing of ``(1 - fraction)·C(duration)`` is found by bracketing on the exact
solution and :func:`scipy.optimize.brentq` (to 1e-6 s). Being linear, the
result does not depend on the rate. A context (infusion duration) of zero
is the limit of a very short infusion: the decrement after a bolus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import IV, LinearPK, build_system
from pumpsim.pk.registry import get_model
from pumpsim.pk.solver import ExactSolver

__all__ = ["DecrementCurve", "decrement_curve", "decrement_time", "system_decrement_time"]

#: search horizon after the infusion stops [s]; longer decrements are reported as inf
HORIZON_S = 72 * 3600.0


def _system(drug: str, model: str | None, covariates: Covariates):  # type: ignore[no-untyped-def]
    spec = get_model(drug, model)
    disp = spec.parameters(covariates)
    return spec, build_system(disp, {"iv": IV})


def decrement_time(
    drug: str,
    duration_s: float,
    fraction: float = 0.5,
    covariates: Covariates | None = None,
    model: str | None = None,
    site: str = "plasma",
    horizon_s: float = HORIZON_S,
) -> float:
    """Time [s] after a ``duration_s`` constant infusion stops until ``site`` falls by ``fraction``.

    Parameters
    ----------
    drug : str
        A drug pumpsim knows (``pumpsim models`` lists them).
    duration_s : float
        Infusion duration, the "context" [s]; 0 means a bolus.
    fraction : float
        Fall to find, in (0, 1): 0.5 gives the context-sensitive half-time,
        0.8 the 80 % decrement time.
    covariates : Covariates, optional
        The patient (default: 40 y, 70 kg, 170 cm, male).
    model : str, optional
        PK model key (default: the drug's default model).
    site : {"plasma", "effect"}
        Concentration whose fall is timed; "effect" needs a model with ke0 and
        is timed from the effect-site value at the moment the infusion stops.
    horizon_s : float
        Give up after this long [s] and return ``inf``.

    Returns
    -------
    float
        The decrement time [s].

    References
    ----------
    docs/references.md [Hughes1992].
    """
    cov = covariates or Covariates(age=40.0, weight=70.0, height=170.0, sex="male")
    _spec, pk = _system(drug, model, cov)
    return system_decrement_time(pk, duration_s, fraction, site, horizon_s)


def system_decrement_time(
    pk: LinearPK,
    duration_s: float,
    fraction: float = 0.5,
    site: str = "plasma",
    horizon_s: float = HORIZON_S,
) -> float:
    """:func:`decrement_time` for an assembled linear system ``pk`` (route ``"iv"``)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction: must be between 0 and 1 (exclusive), got {fraction!r}")
    if not np.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration_s: must be a finite time >= 0 s, got {duration_s!r}")
    n = pk.n
    row = np.zeros(n)
    if site == "plasma":
        row[pk.index("central")] = 1.0 / float(pk.v1)
    elif site == "effect":
        if not pk.has_effect:
            raise ValueError("site: this model has no effect site; use 'plasma'")
        row[pk.index("effect")] = 1.0
    else:
        raise ValueError(f"site: must be 'plasma' or 'effect', got {site!r}")
    solver = ExactSolver(pk.A)
    if duration_s == 0:
        if site == "effect":
            raise ValueError("site: the effect-site decrement needs a duration > 0 s")
        solver.add(0.0, pk.inputs["iv"])  # a unit bolus
    else:
        solver.set_input(0.0, pk.inputs["iv"] / duration_s)  # one unit over the context
        solver.set_input(duration_s, np.zeros(n))
    start = float(duration_s)
    level = (1.0 - fraction) * float(solver.value_at(start, row))
    # widen the search window step by step: most decrements end within the first hour
    hit = None
    lo = start
    for window in (3600.0, 6 * 3600.0, 24 * 3600.0, horizon_s):
        hi = start + min(window, horizon_s)
        if hi <= lo:
            continue
        hit = solver.first_crossing(lo, hi, row, level, step=max(2.0, (hi - lo) / 600.0))
        if hit is not None:
            break
        lo = hi
    return float("inf") if hit is None else hit - start


@dataclass(frozen=True)
class DecrementCurve:
    """Decrement times over infusion durations for one drug and model."""

    drug: str
    model: str
    citation: str
    durations_s: np.ndarray
    fractions: tuple[float, ...]
    times_s: np.ndarray  # shape (len(fractions), len(durations))


def decrement_curve(
    drug: str,
    durations_s: Sequence[float] | np.ndarray,
    fractions: Sequence[float] = (0.5, 0.8),
    covariates: Covariates | None = None,
    model: str | None = None,
) -> DecrementCurve:
    """Plasma decrement times [s] per infusion duration and fraction (:func:`decrement_time`)."""
    spec = get_model(drug, model)
    times = np.array([[decrement_time(drug, d, f, covariates, spec.key) for d in durations_s]
                      for f in fractions])  # fmt: skip
    times = times.reshape(len(fractions), len(durations_s))
    cite = "; ".join(str(c) for c in spec.citations[:1])
    return DecrementCurve(drug, spec.key, cite, np.asarray(durations_s, dtype=float),
                          tuple(fractions), times)  # fmt: skip
