"""Clinicians at the bedside: nurses who answer pump and monitor alarms, in turn.

The nurses are a :class:`simpy.Resource` of capacity ``count``: each alarm named in the
scenario's ``clinicians.actions`` starts a *call* (a SimPy process) that waits for a free
nurse, then for the response delay, then acts and keeps the nurse for ``task`` seconds.
Nothing polls: pump alarms are heard through the event log's listeners (a record
``kind: alarm`` from ``pump.<id>``), monitor alarms through
:meth:`pumpsim.engine.monitor.VitalsMonitor.subscribe`.

Response delay
--------------
Log-normal with median ``m`` and geometric standard deviation ``g``:
``delay = m · exp(ln(g) · Z)``, ``Z ~ N(0, 1)``, drawn when the nurse becomes free. The
defaults (m = 3 min, g = 1.8: 90 % of delays between 1 and 8.7 min) are *illustrative*,
in the range reported for attended alarms:

* infusion pump alarms in 29 US hospitals: mean alarm duration 2 min 38 s, 60 % addressed
  within 1 min 8 s (Biomed Instrum Technol 2018;52(6):433-441,
  doi:10.2345/0899-8205-52.6.433);
* physiologic monitor alarms, children's hospital, video study: adjusted median response
  10.4 min overall, 3.5 min with a 1:1 nursing assignment (Bonafide et al., JAMA Pediatr
  2017;171(6):524-531).

Set ``response`` per scenario (e.g. ``median: 10 min`` for a busy ward).

Randomness comes from a generator derived from the run's seed (stream ``[seed, 2]``), so
the same seed gives identical delays and adding pumps or events does not change them.

Every step is an event-log record ``source: clinician``: ``called`` (at the alarm),
``arrived``, ``action`` (what was done, on which pump) and ``done``.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from pumpsim.engine.recorder import EventRecord
from pumpsim.pump.controller import OperatorInput

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.simulation import Simulation
    from pumpsim.scenario.clinical import Clinicians

__all__ = ["ClinicianTeam", "lognormal_delays", "SOURCE"]

SOURCE = "clinician"
#: seconds between clearing an occlusion and pressing start (the line pressure relieves
#: first; cf. the 15 s line check of auto-restarting pumps, docs/references.md [PumpManuals])
CLEAR_TO_START = 15.0
#: random stream of the clinicians: np.random.default_rng([seed, CLINICIAN_STREAM])
CLINICIAN_STREAM = 2


def lognormal_delays(rng: np.random.Generator, median: float, gsd: float, n: int) -> np.ndarray:
    """``n`` log-normal delays [s] with ``median`` [s] and geometric SD ``gsd`` (>= 1)."""
    return median * np.exp(math.log(gsd) * rng.standard_normal(n))


class ClinicianTeam:
    """The nurses of one run (see the module docstring).

    Parameters
    ----------
    sim : Simulation
        The run: its environment, pumps, event log, physiology and seed.
    spec : Clinicians
        The scenario's ``clinicians:`` block.
    """

    def __init__(self, sim: Simulation, spec: Clinicians) -> None:
        self.sim = sim
        self.env: simpy.Environment = sim.env
        self.spec = spec
        self.nurses = simpy.Resource(self.env, capacity=spec.count)
        self.rng = np.random.default_rng([sim.seed, CLINICIAN_STREAM])
        self.delays: list[float] = []  # every delay drawn, in order
        self._open: set[tuple[str, str]] = set()  # (source, alarm) calls not yet answered
        self._monitor_active: set[str] = set()  # monitor alarms now active
        self._resume_pending = False  # a nurse saw the patient; restart once vitals recover
        self.stopped: set[str] = set()  # pumps a nurse stopped (resumed on recovery)
        sim.log.listeners.append(self._on_record)
        monitor = sim.physiology.monitor
        if monitor is not None:
            monitor.subscribe(self._on_monitor)
        opioid_pd = sim.physiology.model.endpoints.get("respiratory_rate")
        self.opioids = set(opioid_pd.effects) if opioid_pd is not None else set()

    def summary(self) -> dict[str, Any]:
        """Nurses, calls answered and the response delays drawn [s] (for the Result)."""
        calls = [r for r in self.sim.log.records if r.source == SOURCE and r.kind == "called"]
        return {"nurses": self.spec.count, "calls": len(calls), "delays_s": list(self.delays)}

    # -- hearing alarms --------------------------------------------------------------------
    def _on_record(self, record: EventRecord) -> None:
        if record.kind == "alarm" and record.source.startswith("pump."):
            self._call(record.source, str(record.details.get("alarm")))

    def _on_monitor(self, alarm: str, state: str, _t: float, _details: dict[str, Any]) -> None:
        if state == "alarm":
            self._monitor_active.add(alarm)
            self._call("monitor", alarm)
            return
        self._monitor_active.discard(alarm)
        if self._resume_pending and not self._monitor_active:
            self._resume_pending = False  # vitals back above every limit: call to restart
            self._call("monitor", "recovered", "resume_when_recovered")

    def _call(self, source: str, alarm: str, action: str | None = None) -> None:
        action = action or self.spec.actions.get(alarm)
        if action is None or (source, alarm) in self._open:
            return
        self._open.add((source, alarm))
        self.sim.log.write(self.env.now, SOURCE, "called", alarm=alarm, origin=source,
                           action=action)  # fmt: skip
        self.env.process(self._respond(source, alarm, action))

    # -- answering ---------------------------------------------------------------------------
    def _respond(self, source: str, alarm: str, action: str) -> Generator[simpy.Event, Any, None]:
        with self.nurses.request() as request:
            yield request
            r = self.spec.response
            delay = float(lognormal_delays(self.rng, r.median, r.gsd, 1)[0])
            self.delays.append(delay)
            yield self.env.timeout(delay)
            self._open.discard((source, alarm))
            self.sim.log.write(self.env.now, SOURCE, "arrived", alarm=alarm, origin=source,
                               delay_s=delay)  # fmt: skip
            if action == "resume_when_recovered" and self._monitor_active:
                # not yet safe: assess, leave, and come back when the monitor has cleared
                self._record("assess", alarm, None)
                self._resume_pending = True
            elif action == "clear_and_restart" and source.startswith("pump."):
                pump_id = source.removeprefix("pump.")
                self._record("clear_occlusion", alarm, pump_id)
                self.sim.pumps[pump_id].clear_occlusion()
                yield self.env.timeout(CLEAR_TO_START)  # the line relieves, then restart
                self._act(source, alarm, "restart")
            else:
                self._act(source, alarm, action)
            yield self.env.timeout(self.spec.task)
            self.sim.log.write(self.env.now, SOURCE, "done", alarm=alarm, origin=source)

    def _act(self, source: str, alarm: str, action: str) -> None:
        pump_id = source.removeprefix("pump.") if source.startswith("pump.") else None
        if action == "acknowledge":
            self._record(action, alarm, pump_id)
        elif action == "stop_opioid":
            for pid, runtime in self.sim.pumps.items():
                if runtime_drug(self.sim, pid) in self.opioids and runtime.rate > 0:
                    self._record(action, alarm, pid)
                    self.stopped.add(pid)
                    self.sim.operate(pid, OperatorInput("stop"))
        elif action == "halve_opioid":  # a change of program: half the rate
            for pid, runtime in self.sim.pumps.items():
                pump = next(p for p in self.sim.scenario.pumps if p.id == pid)
                pca = any(getattr(step, "mode", "") == "pca" for step in pump.program)
                if pump.drug in self.opioids and runtime.rate > 0 and not pca:
                    self._record(action, alarm, pid)
                    self.sim.operate(pid, OperatorInput("titrate", {"rate": runtime.rate / 2}))
        elif action == "resume_when_recovered":
            held = set(self.stopped)
            interlock = getattr(self.sim, "interlock", None)
            if interlock is not None:
                held |= interlock.paused
            for pid in sorted(held):
                self._record(action, alarm, pid)
                if interlock is not None:
                    interlock.paused.discard(pid)
                self.stopped.discard(pid)
                self.sim.operate(pid, OperatorInput("start"))
        elif pump_id is not None:
            self._record(action, alarm, pump_id)
            if action == "silence":
                self.sim.operate(pump_id, OperatorInput("silence"))
                return
            self.sim.operate(pump_id, OperatorInput("start"))
        else:  # a pump action on a monitor alarm: nothing to act on
            self._record("acknowledge", alarm, None)

    def _record(self, action: str, alarm: str, pump_id: str | None) -> None:
        self.sim.log.write(self.env.now, SOURCE, "action", action=action, alarm=alarm,
                           pump=pump_id)  # fmt: skip


def runtime_drug(sim: Simulation, pump_id: str) -> str:
    """The drug of pump ``pump_id`` in ``sim``'s scenario."""
    return next(p.drug for p in sim.scenario.pumps if p.id == pump_id)
