"""Bedside couplings of a run: the PCA interlock and stochastic PCA demand.

**Interlock.** A pump with ``interlock: {rr_below: ..., spo2_below: ...}`` is paused (a
``stop`` input) at the exact time the bedside monitor
(:class:`~pumpsim.engine.monitor.VitalsMonitor`) reports RR or SpO2 below the interlock's
level: the interlock subscribes to the monitor, and a level the monitor does not already
watch is added to the monitor's limits (its alarm is then named ``interlock_rr_low`` /
``interlock_spo2_low``). Each pause is logged ``source: interlock``, ``kind: pause``. The
pump stays paused when the vital sign recovers: only a ``start`` (an operator event or a
clinician's ``resume_when_recovered``) resumes it, as in PCA-capnography interlocks
(e.g. the Alaris PCA module with EtCO2/SpO2 pause, which needs a clinician to restart).

**Stochastic demand.** Event ``pca_demand`` presses the PCA button as a Poisson process:
exponential inter-arrival times of mean ``1/rate`` from a generator derived from the run's
seed (stream ``[seed, 3, event index]``), each press the same ``pca_press`` input scripted
presses use (:meth:`Simulation._input`). Presses are drawn one at a time, each scheduled as
the next event.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from pumpsim.pump.bolus import FLOWING
from pumpsim.pump.controller import OperatorInput
from pumpsim.scenario.programming import PcaPressEvent

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.simulation import Simulation
    from pumpsim.scenario.clinical import PcaDemandEvent

__all__ = ["Interlock", "PcaDemand", "DEMAND_STREAM"]

SOURCE = "interlock"
#: random streams of PCA demand: np.random.default_rng([seed, DEMAND_STREAM, event index])
DEMAND_STREAM = 3


class Interlock:
    """Pauses the run's pumps that have an ``interlock:`` on low RR / SpO2."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.paused: set[str] = set()  # pumps held by the interlock, not yet restarted
        self.watch: dict[str, list[str]] = {}  # monitor alarm -> pumps it pauses
        monitor = sim.physiology.monitor
        pumps = [p for p in sim.scenario.pumps if p.interlock is not None]
        if not pumps:
            return
        if monitor is None:
            message = "interlock needs the monitor: give the patient 'vitals: {}'"
            sim.log.write(0.0, SOURCE, "warning", message=message)
            return
        for pump in pumps:
            spec = pump.interlock
            assert spec is not None
            for vital, level in (("rr", spec.rr_below), ("spo2", spec.spo2_below)):
                if level is None:
                    continue
                level = level * 60.0 if vital == "rr" else level  # RR: 1/s -> 1/min
                name = next((n for n, (v, lim) in monitor.limits.items()
                             if v == vital and abs(lim - level) < 1e-9), None)  # fmt: skip
                if name is None:
                    name = f"interlock_{vital}_low"
                    if name in monitor.limits and monitor.limits[name][1] != level:
                        name = f"interlock_{vital}_low_{pump.id}"
                    monitor.limits[name] = (vital, level)
                    monitor.active[name] = False
                self.watch.setdefault(name, []).append(pump.id)
        monitor.subscribe(self._on_monitor)

    def _on_monitor(self, alarm: str, state: str, t: float, details: dict[str, Any]) -> None:
        if state != "alarm":
            return
        for pump_id in self.watch.get(alarm, []):
            if self.sim.pumps[pump_id].state.values[-1] not in FLOWING:
                continue  # already held (paused, alarm, idle): nothing to pause
            self.paused.add(pump_id)
            self.sim.log.write(t, SOURCE, "pause", pump=pump_id, alarm=alarm,
                               vital=details.get("vital"), value=details.get("value"),
                               limit=details.get("limit"))  # fmt: skip
            self.sim.operate(pump_id, OperatorInput("stop"))


class PcaDemand:
    """One ``pca_demand`` event: Poisson presses on its pump (see the module docstring)."""

    def __init__(self, sim: Simulation, index: int, ev: PcaDemandEvent) -> None:
        self.sim = sim
        self.ev = ev
        self.rng = np.random.default_rng([sim.seed, DEMAND_STREAM, index])
        self.until = ev.until if ev.until is not None else sim.duration
        self.times: list[float] = []  # press times [s]
        self._press = PcaPressEvent.model_construct(
            at=ev.at, type="pca_press", pump=ev.pump, every=None, until=None
        )
        sim.env.timeout(ev.at).callbacks.append(lambda _e: self._next())

    def _next(self) -> None:
        gap = float(self.rng.exponential(1.0 / self.ev.rate))
        if self.sim.env.now + gap > self.until:
            return
        self.sim.env.timeout(gap).callbacks.append(functools.partial(self._fire))

    def _fire(self, _event: object = None) -> None:
        self.times.append(float(self.sim.env.now))
        self.sim._input(self._press)  # the scripted press path
        self._next()
