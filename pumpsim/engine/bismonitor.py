"""The bispectral index monitor of a run: a sensor closed-loop controllers read.

A BIS monitor is itself a sampled device: every ``interval`` seconds it computes the
index (:mod:`pumpsim.patient.bis`) from the exact effect-site concentrations at that
instant (:meth:`ExactSolver.state`), adds the scenario's stimulation offset, and
reports the value of ``delay`` seconds ago plus Gaussian ``noise`` drawn from the
run's own stream (``numpy.random.default_rng([seed, 16])``: adding pumps or events
never changes it). The report goes to every pump controller that declares
``sensors`` containing ``"bis"`` as ``SensorEvent("bis", value)``, and is recorded as
the ``monitor.bis[1]`` column. The ``patient.bis[1]`` column is the noise-free index
on the output grid (percentile bands for a population).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from pumpsim.engine.recorder import Signal
from pumpsim.errors import NotSupportedError
from pumpsim.patient.bis import BIS_MODELS, bis_bouillon, measured_bis
from pumpsim.pump.controller import SensorEvent

__all__ = ["BisMonitor", "bis_columns", "stimulation_offset"]


def stimulation_offset(spec: Any, t: Any) -> Any:
    """The BIS offset [BIS units] the scenario's stimulation adds at time(s) ``t`` [s]."""
    t = np.asarray(t, dtype=float)
    out = np.zeros_like(t)
    for s in spec.stimulation:
        out = out + np.where((t >= s.at) & (t < s.at + s.duration), s.offset, 0.0)
    return out


def _wants_bis(runtime: Any) -> bool:
    return "bis" in getattr(runtime.controller, "sensors", ())


class BisMonitor:
    """Samples the patient's BIS every ``spec.interval`` and reports it to controllers."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.spec = spec = sim.scenario.bis
        self.params = BIS_MODELS[spec.model]
        self.readers = [rt for rt in sim.pumps.values() if _wants_bis(rt)]
        pop = sim.scenario.patient.population if sim.scenario.patient is not None else None
        self.active = pop is None
        if pop is not None and self.readers:
            raise NotSupportedError(
                "bis: a closed-loop controller reads one patient's BIS; remove "
                "patient.population or use a controller without a BIS sensor"
            )
        self.rng = np.random.default_rng([sim.seed, 16])
        self.signal = Signal(float("nan"))
        self._buffer: deque[tuple[float, float]] = deque()
        self.readings: list[tuple[float, float]] = []
        if self.active:
            sim.env.process(self._run())

    def _effect(self, drug: str, t: float) -> float:
        ch = self.sim.patient.channels.get(drug)
        if ch is None:
            return 0.0
        if not ch.system.has_effect:
            raise NotSupportedError(f"bis: the {drug} model {ch.spec.key} has no effect site")
        # advancing the solver to now in steps of the monitor interval reuses its cached
        # propagators (value_at from a segment's start would need a new one each time)
        x = ch.solver.state(t)
        return float(np.ravel(x[..., ch.system.index("effect")])[0]) * ch.drug.plasma_factor

    def true_bis(self, t: float) -> float:
        """The noise-free index at ``t`` [s] (now: the solver is advanced to it)."""
        value = bis_bouillon(self._effect("propofol", t), self._effect("remifentanil", t),
                             self.params)  # fmt: skip
        return float(value + stimulation_offset(self.spec, t))

    def _run(self) -> Any:
        env, spec = self.sim.env, self.spec
        while True:
            t = float(env.now)
            self._buffer.append((t, self.true_bis(t)))
            while len(self._buffer) > 1 and self._buffer[1][0] <= t - spec.delay + 1e-9:
                self._buffer.popleft()
            t0, value = self._buffer[0]
            if t0 > t - spec.delay + 1e-9:  # nothing that old yet: the awake baseline
                value = float(self.params.e0 + stimulation_offset(spec, 0.0))
            reading = measured_bis(value, spec.noise, self.rng)
            self.readings.append((t, reading))
            self.signal.set(t, reading)
            for rt in self.readers:
                rt.controller.on_sensor(rt, SensorEvent("bis", reading))
            yield env.timeout(spec.interval)


def bis_columns(sim: Any, grid: np.ndarray, exposure: dict[str, tuple[Any, Any]],
                percentiles: Any = None) -> dict[str, np.ndarray]:  # fmt: skip
    """``patient.bis[1]`` (or its percentile bands) and ``monitor.bis[1]``."""
    spec = sim.scenario.bis
    if spec is None:
        return {}
    params = BIS_MODELS[spec.model]
    zero = np.zeros_like(grid)
    ce_p = exposure.get("propofol", (zero, zero))[1]
    ce_r = exposure.get("remifentanil", (zero, zero))[1]
    ce_p = zero if ce_p is None else ce_p
    ce_r = zero if ce_r is None else ce_r
    bis = np.clip(bis_bouillon(ce_p, ce_r, params) + stimulation_offset(spec, grid), 0, 100)
    out: dict[str, np.ndarray] = {}
    if np.ndim(bis) == 2 and percentiles is not None:
        for pct, band in zip(percentiles, np.percentile(bis, percentiles, axis=0), strict=True):
            out[f"patient.bis.p{pct:g}[1]"] = band
    else:
        out["patient.bis[1]"] = np.asarray(bis)
    monitor = getattr(sim, "bis_monitor", None)
    if monitor is not None and monitor.active:
        out["monitor.bis[1]"] = monitor.signal.evaluate(grid)
    return out
