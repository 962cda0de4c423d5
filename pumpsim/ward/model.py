"""The ward as a SimPy model: pumps that alarm and run dry, nurses who answer in turn.

Pumps
-----
Each pump follows its program (a step function of the rate). While it *infuses* (not
stopped, rate > 0, container not empty) three things can happen, whichever comes first:
a random alarm (a Poisson process in infusing time: the time to the next one is an
exponential draw that only runs down while the pump infuses, which is exact because the
process is memoryless), the near-empty alert, or the container running dry (alarm
``reservoir_empty``). A pump has one timeout pending at a time, for the earliest of these;
any change (program step, stop, restart, new container) re-plans it.

An alarm whose action is ``stop`` (alarm table, or ``stops:`` in the ward file) stops the
pump until a nurse has dealt with it: the *interruption* runs from the alarm to the end of
the nurse's task, and the *drug not given* is the program's rate integrated over it.

Calls and nurses
----------------
An alarm opens a *call* for its pump (one open call per pump: alarms of a pump with a
call already open are counted and raise its priority, the nurse deals with all of them
at once). The call is a SimPy process that requests a nurse from the ward's
:class:`~pumpsim.ward.nurses.NursePool`, a SimPy resource whose grant rule is the
policy **priority first, nearest first** (see :mod:`pumpsim.ward.nurses`). Once granted,
the nurse's visit is: the response delay (log-normal,
:func:`pumpsim.engine.clinician.lognormal_delays`), the walk (distance / walking speed),
the task at the bedside (the alarm's ``task``; a container change when the container is
low or empty), then the pump restarts (if stopped), she stays at that bed and is released.

Randomness: pump ``k`` draws its alarms from ``default_rng([seed, 1, k])``, the nurses
their delays from ``default_rng([seed, 2])``, each in blocks that are used up in order;
same ward and seed, identical result.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from pumpsim.engine.clinician import lognormal_delays
from pumpsim.pump.alarms import default_alarm_table
from pumpsim.ward.nurses import PRIORITY_RANK, Nurse, NursePool
from pumpsim.ward.scenario import Ward, WardPump

__all__ = ["WardModel", "Call", "PRIORITY_RANK"]
_EMPTY, _NEAR = "reservoir_empty", "near_empty"


@dataclass
class Call:
    """One call for a nurse: from the first alarm of a pump to the end of the visit."""

    seq: int
    bed: int
    pump: int
    kind: str
    priority: str
    time: float
    since: float = math.nan  # when the call reached its priority (its first alarm, or later)
    alarms: int = 1
    dispatched: float = math.nan
    arrived: float = math.nan
    done: float = math.nan
    nurse: int = -1


@dataclass
class _Pump:
    index: int
    bed: int
    spec: WardPump
    times: list[float]
    rates: list[float]  # [mL/s]
    remaining: float  # [mL] at ``t_last``
    rng: np.random.Generator
    clock: float = 0.0  # infusing time left to the next random alarm [s]
    t_last: float = 0.0
    stopped: bool = False
    warned: bool = False
    gen: int = 0
    call: Call | None = None
    stop_start: float = math.nan
    interruptions: list[tuple[float, float, str]] = field(default_factory=list)
    dry: int = 0
    _draws: list[float] = field(default_factory=list)

    def draw(self) -> float:
        """The next standard uniform of this pump's stream (drawn 64 at a time)."""
        if not self._draws:
            self._draws = self.rng.random(64).tolist()[::-1]
        return self._draws.pop()

    def rate(self, t: float) -> float:
        if len(self.times) == 1:  # a constant rate
            return self.rates[0] if t >= self.times[0] else 0.0
        i = bisect.bisect_right(self.times, t) - 1
        return self.rates[i] if i >= 0 else 0.0

    def volume(self, t0: float, t1: float) -> float:
        """The program's volume between t0 and t1 [mL] (what should have run)."""
        total, edges = 0.0, [t0, *[t for t in self.times if t0 < t < t1], t1]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            total += self.rate(a) * (b - a)
        return total


class WardModel:
    """Build and run one ward (see the module docstring).

    Parameters
    ----------
    ward : Ward
        The validated ward scenario.
    seed : int, optional
        Default the ward's ``seed``.
    """

    def __init__(self, ward: Ward, seed: int | None = None) -> None:
        self.ward = ward
        self.seed = ward.seed if seed is None else seed
        self.env = simpy.Environment()
        table = default_alarm_table()
        self.kinds: dict[str, tuple[str, bool, float]] = {}  # kind -> priority, stops, task
        for kind, given in ward.alarms.items():
            row = table.spec(kind)
            stops = given.stops if given.stops is not None else row.action == "stop"
            self.kinds[kind] = (given.priority or row.priority, stops, given.task)
        change = ward.containers.change
        self.kinds[_EMPTY] = (table.spec(_EMPTY).priority, True, change)
        self.kinds[_NEAR] = (table.spec(_NEAR).priority, False, change)
        random = [(k, s.rate) for k, s in ward.alarms.items() if s.rate > 0]
        self.random_kinds = [k for k, _ in random]
        self.total_rate = sum(r for _, r in random)  # [1/s]
        self.cumulative = (np.cumsum([r for _, r in random]) / (self.total_rate or 1.0)).tolist()
        beds = ward.expanded()
        lay = ward.layout
        self.bed_pos = [lay.station + (i + 1) * lay.bed_spacing for i in range(len(beds))]
        self.pumps: list[_Pump] = []
        for b, bed in enumerate(beds):
            for spec in bed.pumps:
                k = len(self.pumps)
                steps = spec.steps
                self.pumps.append(_Pump(k, b, spec, [s.at for s in steps],
                                        [s.rate for s in steps], spec.container,
                                        np.random.default_rng([self.seed, 1, k])))  # fmt: skip
        self.by_id = {(p.bed, p.spec.id): p for p in self.pumps}
        self.nurses = [Nurse(i, lay.station) for i in range(ward.nurses.count)]
        self.pool = NursePool(self.env, self.nurses, self.bed_pos)
        self.nurse_rng = np.random.default_rng([self.seed, 2])
        self._delays: list[float] = []
        self._lead = ward.containers.near_empty  # plain floats for the hot paths
        self._change = ward.containers.change
        self._speed = ward.nurses.walking_speed
        self.calls: list[Call] = []
        self.alarms: list[tuple[float, int, int, str, str]] = []  # t, bed, pump, kind, prio
        self.events = 0  # SimPy events processed (for the benchmark)

    # -- running ------------------------------------------------------------------------
    def run(self, count_events: bool = False) -> WardModel:
        """Run to the ward's duration (and close every open interruption there).

        With ``count_events``, step SimPy one event at a time and count them in
        ``self.events`` (for the benchmark; a little slower)."""
        end = float(self.ward.duration)
        for pump in self.pumps:
            pump.clock = self._draw(pump)
            for t in pump.times:
                if t > 0:
                    self._at(t, self._plan, pump)
            self._plan(pump)
        for ev in self.ward.events:
            pump = self.by_id[(ev.bed, ev.pump)]
            self._at(ev.at, self._alarm, pump, ev.alarm)
        env, step, peek, n = self.env, self.env.step, self.env.peek, 0
        while count_events and peek() < end:
            step()
            n += 1
        self.events = n
        env.run(until=end)
        for pump in self.pumps:
            if pump.stopped:
                pump.interruptions.append((pump.stop_start, end, "open at end"))
        for nurse in self.nurses:  # a visit still under way counts up to the end
            nurse.busy_time += sum(end - c.dispatched for c in self.calls
                                   if c.nurse == nurse.index and math.isnan(c.done))  # fmt: skip
        return self

    def _at(self, t: float, fn: Any, *args: Any) -> None:
        ev = self.env.timeout(max(t - self.env.now, 0.0))
        ev.callbacks.append(lambda _e: fn(*args))

    def _draw(self, pump: _Pump) -> float:
        """Infusing time to the pump's next random alarm: exponential, mean 1/rate [s]."""
        return -math.log1p(-pump.draw()) / self.total_rate if self.total_rate else math.inf

    def _delay(self) -> float:
        """The next response delay (log-normal, drawn 256 at a time)."""
        if not self._delays:
            r = self.ward.nurses.response
            self._delays = lognormal_delays(self.nurse_rng, r.median, r.gsd, 256).tolist()[::-1]
        return self._delays.pop()

    # -- pumps --------------------------------------------------------------------------
    def _flow(self, pump: _Pump, t: float) -> float:
        if pump.stopped or pump.remaining <= 1e-12:
            return 0.0
        return pump.rate(t)

    def _advance(self, pump: _Pump) -> None:
        """Bring the pump's container and alarm clock to now."""
        now = self.env.now
        dt = now - pump.t_last
        if dt > 0:
            q = self._flow(pump, pump.t_last)
            if q > 0:
                pump.remaining = max(pump.remaining - q * dt, 0.0)
                pump.clock -= dt
        pump.t_last = now

    def _plan(self, pump: _Pump) -> None:
        """Re-plan the pump's one pending timeout (alarm, near-empty or dry)."""
        self._advance(pump)
        pump.gen += 1
        q = self._flow(pump, self.env.now)
        if q <= 0:
            return
        lead = self._lead
        options = [(pump.clock, "random"), (pump.remaining / q, _EMPTY)]
        if lead is not None and not pump.warned:
            options.append((max(pump.remaining / q - lead, 0.0), _NEAR))
        delay, what = min(options)
        if math.isinf(delay):
            return
        gen = pump.gen
        ev = self.env.timeout(max(delay, 0.0))
        ev.callbacks.append(lambda _e: self._fire(pump, gen, what))

    def _fire(self, pump: _Pump, gen: int, what: str) -> None:
        if gen != pump.gen:  # re-planned since
            return
        self._advance(pump)
        if what == "random":
            pump.clock = self._draw(pump)
            i = bisect.bisect_right(self.cumulative, pump.draw())
            self._alarm(pump, self.random_kinds[min(i, len(self.random_kinds) - 1)])
        elif what == _NEAR:
            pump.warned = True
            self._alarm(pump, _NEAR)
        else:
            pump.remaining = 0.0
            pump.dry += 1
            self._alarm(pump, _EMPTY)  # which re-plans the pump

    def _alarm(self, pump: _Pump, kind: str) -> None:
        now = self.env.now
        self._advance(pump)
        priority, stops, _task = self._kind(kind)
        self.alarms.append((now, pump.bed, pump.index, kind, priority))
        if stops and not pump.stopped:
            pump.stopped = True
            pump.stop_start = now
        self._plan(pump)
        call = pump.call
        if call is not None:  # a nurse is called already: this alarm joins that call
            call.alarms += 1
            if PRIORITY_RANK[priority] < PRIORITY_RANK[call.priority]:
                call.priority, call.kind, call.since = priority, kind, now
            return
        call = Call(len(self.calls), pump.bed, pump.index, kind, priority, now, now)
        pump.call = call
        self.calls.append(call)
        self.env.process(self._visit(call))

    def _kind(self, kind: str) -> tuple[str, bool, float]:
        if kind not in self.kinds:  # a scripted alarm the ward has no rate for
            row = default_alarm_table().spec(kind)
            self.kinds[kind] = (row.priority, row.action == "stop", 60.0)
        return self.kinds[kind]

    # -- nurses -------------------------------------------------------------------------
    def _visit(self, call: Call) -> Generator[simpy.Event, Any, None]:
        nurse: Nurse = yield self.pool.request(call)
        call.nurse, call.dispatched = nurse.index, self.env.now
        yield self.env.timeout(self._delay())
        distance = abs(nurse.position - self.bed_pos[call.bed])
        yield self.env.timeout(distance / self._speed)
        nurse.walked += distance
        nurse.position = self.bed_pos[call.bed]
        call.arrived = self.env.now
        pump = self.pumps[call.pump]
        self._advance(pump)
        lead = self._lead or 0.0
        low = pump.remaining <= 1e-12 or pump.remaining <= pump.rate(self.env.now) * lead
        task = max(self._kind(call.kind)[2], self._change if low else 0.0)
        if low and not pump.stopped:  # the container is changed: the pump stops meanwhile
            pump.stopped, pump.stop_start = True, self.env.now
            self._plan(pump)
        yield self.env.timeout(task)
        if low:
            pump.remaining, pump.warned = pump.spec.container, False
            pump.t_last = self.env.now
        if pump.stopped:
            reason = "container change" if low and call.kind == _NEAR else call.kind
            pump.interruptions.append((pump.stop_start, self.env.now, reason))
            pump.stopped = False
        pump.call = None
        self._plan(pump)
        call.done = self.env.now
        nurse.busy_time += call.done - call.dispatched
        self.pool.release(nurse)
