"""A live session: one Simulation whose scenario grows while it runs.

A :class:`Session` holds a :class:`~pumpsim.engine.simulation.Simulation` built
from a scenario, the log of every input it received (each a scenario event
stamped with the sim time at which it was applied) and its pacing state. There
is no second engine: an input is validated by the scenario schema as the event
it becomes, and applied with :meth:`Simulation.inject`, exactly where a run of
the scenario with that event would apply it. So :meth:`Session.scenario_file` —
the starting scenario plus the inputs — is a scenario file, and ``pumpsim run``
of it with the session's seed writes the session's ``timeseries.csv`` and
``events.jsonl`` byte for byte.

Sim time moves in one of two ways:

* **paced**: :meth:`Session.pace` (an asyncio task) advances a plain SimPy
  environment in short chunks towards ``start + (wall − wall0) × speed``;
  :attr:`Session.lag_s` says how far behind that target it is;
* **lock-step**: only :meth:`Session.advance` moves it (tests, co-simulation).

Whoever wants to watch a session (a WebSocket, an adapter) calls
:meth:`Session.subscribe` and reads text messages from a bounded queue; a
subscriber that does not keep up is dropped, never waited for.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pumpsim.connect.codes import code_for_alarm, code_for_column
from pumpsim.engine.recorder import EventRecord
from pumpsim.engine.result import Result
from pumpsim.engine.simulation import Simulation
from pumpsim.errors import Problem
from pumpsim.scenario.load import load_scenario, read_file
from pumpsim.scenario.programming import anchor_paths
from pumpsim.scenario.schema import Scenario

__all__ = ["Session", "Input", "Subscriber", "CommandError", "SessionStateError",
           "BARE_PUMP", "MIN_SPEED", "MAX_SPEED"]  # fmt: skip

MIN_SPEED = 1.0
MAX_SPEED = 1000.0
#: wall time between two pacing steps [s]
TICK = 0.05
#: at most this much wall time spent advancing in one pacing step [s]
STEP_BUDGET = 0.04
ALARM_KINDS = ("alarm", "alarm_cleared", "alarm_silenced", "alarm_reactivated")

#: the session started when no scenario is given: one syringe pump, as a nurse meets it
BARE_PUMP: dict[str, Any] = {
    "name": "Bare syringe pump",
    "duration": "24 h",
    "output": {"interval": "10 s"},
    "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
    "pumps": [{
        "id": "A", "kind": "syringe", "syringe": "50 mL", "drug": "morphine",
        "concentration": "1 mg/mL", "route": "iv",
        "settings": {"occlusion_limit": "300 mmHg"},
        "program": [{"mode": "continuous", "rate": "2 mL/h", "vtbi": "20 mL"}],
    }],
}  # fmt: skip


class CommandError(ValueError):
    """A command the schema refuses: ``problems`` as (field path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))


class SessionStateError(RuntimeError):
    """A request the session cannot take in its present state (e.g. it has finished)."""


@dataclass(frozen=True)
class Input:
    """One input a session received: the scenario event it became."""

    time_s: float  # sim time at which it was applied
    event: dict[str, Any]  # the scenario event as written in the scenario file
    wall_time: float  # Unix time of arrival
    origin: str  # "rest", "websocket", "browser", an adapter's name...
    rebuilt: bool = False  # the run was rebuilt to take it (see Simulation.live_refusal)
    #: the rebuilt run's log before this input differs from what had been streamed (the
    #: event changes how the run is built, e.g. line physics on an ideal pump)
    history_changed: bool = False


@dataclass
class Subscriber:
    """A watcher's bounded queue of JSON text messages; dropped when it fills up."""

    queue: asyncio.Queue[str | None]
    dropped: bool = False
    delivered: int = 0

    def offer(self, text: str) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped = True  # too slow: never make the simulation wait
            _clear(self.queue)
            self.queue.put_nowait(None)  # tells the reader it was dropped


def _clear(queue: asyncio.Queue[Any]) -> None:
    while not queue.empty():
        queue.get_nowait()


def _raw_scenario(source: str | Path | Mapping[str, Any] | Scenario | None) -> dict[str, Any]:
    """The scenario as a plain mapping, as the user wrote it."""
    if source is None:
        return json.loads(json.dumps(BARE_PUMP))
    if isinstance(source, Scenario):
        return source.model_dump(mode="json", exclude_none=True)
    if isinstance(source, Mapping):
        return json.loads(json.dumps(dict(source)))  # a deep, plain copy
    return anchor_paths(read_file(source), Path(source).parent)


@dataclass
class _Pacing:
    speed: float | None = None  # None: lock-step
    paused: bool = False
    sim0: float = 0.0
    wall0: float = 0.0
    lag_s: float = 0.0  # sim seconds behind the paced target
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Session:
    """One live run of a scenario (or of :data:`BARE_PUMP`).

    Parameters
    ----------
    source : path, mapping, Scenario or None
        The starting scenario (validated like ``pumpsim run``'s). Its ``variants`` and
        ``compare`` are dropped; its duration is fixed when the session starts.
    seed : int, optional
        Default: the scenario's seed, else 0.
    speed : float or None
        Sim seconds per wall second (1-1000) for a paced session; None for lock-step.
    session_id : str
    controller : str, optional
        ``package.module:Class`` for every pump (default: the scenario's, else pumpsim's).
    """

    def __init__(
        self,
        source: str | Path | Mapping[str, Any] | Scenario | None = None,
        *,
        seed: int | None = None,
        speed: float | None = None,
        session_id: str = "1",
        controller: str | None = None,
    ) -> None:
        raw = _raw_scenario(source)
        raw.pop("variants", None)
        raw.pop("compare", None)
        if seed is None:
            seed = raw.get("seed") if isinstance(raw.get("seed"), int) else 0
        raw["seed"] = seed
        first = load_scenario(raw)  # the duration resolved once: inputs must not move it
        raw["duration"] = f"{float(first.duration)!r} s"  # type: ignore[arg-type]
        if controller is not None:
            raw["controller"] = controller
        self.id = session_id
        self.seed: int = int(seed or 0)
        self._base: dict[str, Any] = raw  # the starting scenario, with duration and seed
        self.scenario: Scenario = load_scenario(raw)
        self.sim = Simulation(self.scenario, seed=self.seed)
        self.sim.start()
        self.inputs: list[Input] = []
        self.result: Result | None = None
        self.created = time.time()
        self._pacing = _Pacing()
        self._subscribers: list[Subscriber] = []
        self._published = 0  # log records already streamed
        self._displayed = 0  # log records already read into the pump screens
        self._display: dict[str, _Display] = {}
        self._seq = itertools.count()
        self.set_pace(speed)

    # -- state ---------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Current sim time [s]."""
        return self.sim.now

    @property
    def duration(self) -> float:
        return self.sim.duration

    @property
    def finished(self) -> bool:
        return self.result is not None

    @property
    def speed(self) -> float | None:
        return self._pacing.speed

    @property
    def paused(self) -> bool:
        return self._pacing.paused

    @property
    def lag_s(self) -> float:
        """How far sim time is behind the paced target [sim s] (0 in lock-step)."""
        return self._pacing.lag_s

    @property
    def records(self) -> list[EventRecord]:
        """The event log so far (read only)."""
        return self.sim.log.records

    def status(self) -> dict[str, Any]:
        """What the session is doing, as a JSON-ready mapping."""
        p = self._pacing
        return {
            "id": self.id, "scenario": self.scenario.name, "seed": self.seed,
            "sim_time_s": self.now, "duration_s": self.duration, "finished": self.finished,
            "mode": "lockstep" if p.speed is None else "paced", "speed": p.speed,
            "paused": p.paused, "lag_s": p.lag_s,
            "lag_wall_s": p.lag_s / p.speed if p.speed else 0.0,
            "inputs": len(self.inputs), "subscribers": len(self._subscribers),
        }  # fmt: skip

    # -- inputs --------------------------------------------------------------------------
    def command(self, command: Mapping[str, Any], origin: str = "rest") -> Input:
        """Apply one input now: a scenario event without ``at`` (``{"type": "titrate",
        "pump": "A", "rate": "5 mL/h"}``), validated by the scenario schema.

        Raises
        ------
        CommandError
            The schema refuses it (nothing is applied); ``problems`` name the field.
        SessionStateError
            The session has finished.
        """
        if self.finished:
            raise SessionStateError(f"session {self.id} finished at {self.duration:g} s")
        if not isinstance(command, Mapping):
            raise CommandError([("", "a command is a JSON object such as "
                                     '{"type": "start", "pump": "A"}')])  # fmt: skip
        if "at" in command:
            raise CommandError([("at", "a command applies at the session's current sim time; "
                                       "advance the session instead of giving 'at'")])  # fmt: skip
        now = self.now
        event = {"at": f"{now!r} s", **command}
        sc = self._validate(event)
        ev = sc.events[-1]
        rebuilt = self.sim.live_refusal(ev) is not None
        changed = False
        if rebuilt:  # the run must be built with this event: rebuild it and catch up (costs
            sim = Simulation(sc, seed=self.seed)  # a run from 0 to now)
            sim.start()
            sim.advance(now)
            changed = _before(sim, now) != _before(self.sim, now)
            self.sim = sim
        else:
            self.sim.inject(ev)
        self.scenario = sc
        entry = Input(now, event, time.time(), origin, rebuilt, changed)
        self.inputs.append(entry)
        self._broadcast({"type": "input", "sim_time_s": now, "wall_time": entry.wall_time,
                         "origin": origin, "event": event, "rebuilt": rebuilt,
                         "history_changed": changed})  # fmt: skip
        self.publish()
        return entry

    def _validate(self, event: dict[str, Any]) -> Scenario:
        """The session's scenario with ``event`` appended, checked as ``load_scenario``
        checks the scenario file: the event field by field (alone, so the cost does not grow
        with the inputs), then every cross-field check on the whole scenario."""
        from pydantic import ValidationError

        from pumpsim.scenario.checks import check_scenario
        from pumpsim.scenario.load import _problems  # pydantic errors as located problems

        alone = {k: v for k, v in self._base.items() if k != "events"}
        try:
            checked = Scenario.model_validate({**alone, "events": [event]})
        except ValidationError as exc:
            raise CommandError(_command_problems(_problems(exc), 0)) from None
        sc = self.scenario.model_copy(update={"events": [*self.scenario.events,
                                                         checked.events[0]]})  # fmt: skip
        problems = check_scenario(sc)
        if problems:
            raise CommandError(_command_problems(problems, len(sc.events) - 1))
        return sc

    def scenario_dict(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The session as a scenario mapping: the starting scenario, its events, then every
        input at its sim time (and ``extra`` last)."""
        raw = json.loads(json.dumps(self._base))
        events = list(raw.get("events", [])) + [i.event for i in self.inputs]
        if extra is not None:
            events.append(dict(extra))
        raw["events"] = events
        return raw

    def scenario_file(self) -> str:
        """The session as a YAML scenario file (see the module docstring)."""
        import yaml

        head = (f"# pumpsim live session {self.id}: {len(self.inputs)} inputs, "
                f"replay with: pumpsim run FILE --seed {self.seed}\n")  # fmt: skip
        return head + yaml.safe_dump(self.scenario_dict(), sort_keys=False)

    # -- time ----------------------------------------------------------------------------
    def advance(self, until: float) -> float:
        """Lock-step: run to sim time ``until`` [s] (capped at the end), stream what
        happened, and finish the run at its end. Refused while pacing runs."""
        if self._pacing.speed is not None and not self._pacing.paused:
            raise SessionStateError("the session is paced: pause it or switch to lock-step")
        if self.finished:
            raise SessionStateError(f"session {self.id} finished at {self.duration:g} s")
        self._step_to(until)
        return self.now

    def _step_to(self, until: float) -> None:
        self.sim.advance(until)
        if self.now >= self.duration and self.result is None:
            self.result = self.sim.finish()
        self.publish()

    def set_pace(self, speed: float | None = None, paused: bool | None = None) -> None:
        """Set the speed (sim s per wall s, 1-1000; None: lock-step) and/or pause."""
        p = self._pacing
        if speed is not None and not (MIN_SPEED <= speed <= MAX_SPEED):
            raise CommandError([("speed", f"{speed:g} is out of range; allowed "
                                          f"{MIN_SPEED:g} to {MAX_SPEED:g}")])  # fmt: skip
        p.speed = None if speed is None else float(speed)
        if paused is not None:
            p.paused = paused
        p.sim0, p.wall0, p.lag_s = self.now, time.monotonic(), 0.0
        self._broadcast(self._status_message())

    def set_speed(self, speed: float) -> None:
        """Change the speed of a paced session, keeping pause/resume as it is."""
        self.set_pace(speed, self._pacing.paused)

    def pace_step(self) -> None:
        """One pacing step: advance towards the wall-clock target within a time budget."""
        p = self._pacing
        if p.speed is None or p.paused or self.finished:
            return
        target = min(p.sim0 + (time.monotonic() - p.wall0) * p.speed, self.duration)
        budget_end = time.perf_counter() + STEP_BUDGET
        chunk = max(p.speed * TICK / 4.0, 1e-3)
        while self.now < target and time.perf_counter() < budget_end and not self.finished:
            self.sim.advance(min(target, self.now + chunk))
            if self.now >= self.duration:
                self.result = self.sim.finish()
        p.lag_s = max(0.0, target - self.now)
        self.publish()

    async def pace(self) -> None:
        """Run the paced clock until the session finishes (start it with asyncio)."""
        while not self.finished:
            self.pace_step()
            await asyncio.sleep(TICK)

    def start_pacing(self) -> None:
        """Start :meth:`pace` as a task on the running event loop (once)."""
        p = self._pacing
        if p.task is None or p.task.done():
            p.task = asyncio.get_running_loop().create_task(self.pace())

    def close(self) -> None:
        """Stop pacing and tell every subscriber the stream ended."""
        if self._pacing.task is not None:
            self._pacing.task.cancel()
        for sub in self._subscribers:
            try:
                sub.queue.put_nowait(None)
            except asyncio.QueueFull:
                pass
        self._subscribers.clear()

    # -- results -------------------------------------------------------------------------
    def files(self) -> dict[str, bytes]:
        """``timeseries.csv``, ``events.jsonl`` and ``summary.json`` exactly as
        ``pumpsim run`` writes them (the session must have finished)."""
        if self.result is None:
            raise SessionStateError(
                f"session {self.id} is at {self.now:g} s of {self.duration:g} s: "
                "advance it to the end first")  # fmt: skip
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            self.result.save(tmp, plots=False)
            return {name: (Path(tmp) / name).read_bytes()
                    for name in ("timeseries.csv", "events.jsonl", "summary.json")}  # fmt: skip

    # -- streaming -----------------------------------------------------------------------
    def subscribe(self, maxsize: int = 256) -> Subscriber:
        """A new watcher: its queue gets every message from now on (JSON text; ``None``
        marks the end: the session closed or the watcher was too slow)."""
        sub = Subscriber(asyncio.Queue(maxsize=maxsize))
        self._subscribers.append(sub)
        sub.offer(json.dumps(self._status_message()))
        sub.offer(json.dumps(self.metrics_message()))
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)

    def publish(self) -> None:
        """Stream the log records written since the last call, then the metrics now."""
        records = self.sim.log.records
        wall = time.time()
        for rec in records[self._published:]:
            self._broadcast(record_message(rec, wall))
        self._published = len(records)
        if self._subscribers:
            self._broadcast(self.metrics_message(wall))
            self._broadcast(self._status_message())

    def _status_message(self) -> dict[str, Any]:
        return {"type": "status", "wall_time": time.time(), **self.status()}

    def _broadcast(self, message: dict[str, Any]) -> None:
        if not self._subscribers:
            return
        message["seq"] = next(self._seq)
        text = json.dumps(message, default=_json_default)
        for sub in list(self._subscribers):
            sub.offer(text)
            if sub.dropped:
                self._subscribers.remove(sub)

    def metrics_message(self, wall: float | None = None) -> dict[str, Any]:
        """The metrics now: each with its column name, value, unit and MDC code."""
        values = read_now(self.sim)
        for face in self.pump_faces():  # what the screens show, named like columns
            p = f"pump.{face['id']}"
            if f"{p}.rate[mL/h]" not in values:  # a pump without line physics
                values[f"{p}.rate[mL/h]"] = face["rate_mL_h"]
            values[f"{p}.vtbi[mL]"] = face["vtbi_mL"]
            values[f"{p}.time_remaining[s]"] = face["time_remaining_s"]
        metrics = []
        for column, value in values.items():
            code = code_for_column(column)
            metrics.append({"name": column, "value": value,
                            "mdc": code.mdc if code else None,
                            "mdc_term": code.term if code else None})  # fmt: skip
        return {"type": "metrics", "sim_time_s": self.now,
                "wall_time": time.time() if wall is None else wall,
                "metrics": metrics, "pumps": self.pump_faces()}  # fmt: skip

    def pump_faces(self) -> list[dict[str, Any]]:
        """What each pump's screen shows now (drug, rate, VTBI, infused, time left, alarms)."""
        self._read_display()
        return [pump_face(self.sim, pump, self._display.setdefault(f"pump.{pump.id}", _Display()))
                for pump in self.scenario.pumps]  # fmt: skip

    def _read_display(self) -> None:
        records = self.sim.log.records
        for rec in records[self._displayed:]:
            self._display.setdefault(rec.source, _Display()).read(rec)
        self._displayed = len(records)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _before(sim: Simulation, t: float) -> list[EventRecord]:
    return [r for r in sim.log.records if r.time_s < t]


def _command_problems(problems: list[Problem], index: int) -> list[tuple[str, str]]:
    """Scenario problems as the command's own field paths (``rate``, not ``events[3].rate``)."""
    prefix = f"events[{index}]"
    out = []
    for p in problems:
        path = p.path
        if path == prefix:
            path = "type" if p.message.startswith("unknown type") else ""
        elif path.startswith(prefix + "."):
            path = path[len(prefix) + 1:]
        out.append((path, p.message))
    return out


def record_message(rec: EventRecord, wall: float) -> dict[str, Any]:
    """An event-log record as a stream message (alarms carry their MDC event code)."""
    msg: dict[str, Any] = {
        "type": "alarm" if rec.kind in ALARM_KINDS else "event",
        "sim_time_s": rec.time_s, "wall_time": wall, "source": rec.source, "kind": rec.kind,
        "details": rec.details,
    }  # fmt: skip
    if msg["type"] == "alarm":
        code = code_for_alarm(str(rec.details.get("alarm", "")))
        msg["mdc"], msg["mdc_term"] = code.mdc, code.term
    return msg


def read_now(sim: Simulation) -> dict[str, Any]:
    """Every pump column, plasma/effect concentration and vital sign at the current sim
    time, read without changing the run (the signals are evaluated, nothing is settled)."""
    from pumpsim.engine.result import _concentrations

    grid = np.array([sim.now])
    out: dict[str, Any] = {}
    for pump in sim.scenario.pumps:
        rt = sim.pumps[pump.id]
        out[f"pump.{pump.id}.flow[mL/h]"] = float(rt.flow.evaluate(grid)[0] * 3600.0)
        out[f"pump.{pump.id}.infused[mL]"] = float(rt.infused_signal.evaluate(grid)[0])
        out[f"pump.{pump.id}.state"] = str(rt.state.values[-1])
        for name, values in rt.columns(grid).items():
            out[name] = float(values[0])
    exposure = {}
    for name, ch in sim.patient.channels.items():
        plasma, effect = _concentrations(ch, grid)
        exposure[name] = (plasma, effect)
        unit = ch.drug.plasma_unit
        out[f"patient.{name}.plasma[{unit}]"] = float(np.median(plasma[..., 0]))
        if effect is not None:
            out[f"patient.{name}.effect[{unit}]"] = float(np.median(effect[..., 0]))
    single = sim.scenario.patient is None or sim.scenario.patient.population is None
    if single and sim.physiology.enabled:  # the vitals model, a pure function of exposure
        columns, _arrays, _summary = sim.physiology.columns(grid, exposure)
        out.update({name: float(values[0]) for name, values in columns.items()})
    return out


@dataclass
class _Display:
    """What a pump's screen keeps from its log records: time remaining and alarms."""

    remaining: tuple[float, float] | None = None  # (record time, remaining_s)
    active: dict[str, dict[str, Any]] = field(default_factory=dict)
    silenced: set[str] = field(default_factory=set)

    def read(self, rec: EventRecord) -> None:
        alarm = rec.details.get("alarm")
        if rec.kind == "time_remaining" and rec.details.get("remaining_s") is not None:
            self.remaining = (rec.time_s, float(rec.details["remaining_s"]))
        elif rec.kind == "alarm" and alarm:
            self.active[alarm] = {"alarm": alarm, "priority": rec.details.get("priority"),
                                  "message": rec.details.get("message", ""),
                                  "since_s": rec.time_s}  # fmt: skip
            self.silenced.discard(alarm)
        elif rec.kind == "alarm_cleared" and alarm:
            self.active.pop(alarm, None)
            self.silenced.discard(alarm)
        elif rec.kind == "alarm_silenced" and alarm:
            self.silenced.add(alarm)
        elif rec.kind == "alarm_reactivated" and alarm:
            self.silenced.discard(alarm)


def pump_face(sim: Simulation, pump: Any, display: _Display) -> dict[str, Any]:
    """One pump's screen: drug and concentration, rate, VTBI, infused, time remaining,
    state and active alarms (read from the run without changing it)."""
    rt = sim.pumps[pump.id]
    now = sim.now
    rate_signal = getattr(rt, "rate_signal", None) if rt.physics else None
    rate = (rate_signal or rt.flow).value_at(now) * 3600.0
    program = getattr(rt.controller, "program", None)
    vtbi_values = [s.vtbi for s in program or [] if getattr(s, "vtbi", None) is not None]
    remaining = None
    if display.remaining is not None:
        t, left = display.remaining
        remaining = max(0.0, left - (now - t)) if rate > 0 else left
    conc = pump.concentration
    return {
        "id": pump.id, "kind": pump.kind, "drug": pump.drug, "route": pump.route,
        "concentration": f"{conc.value:g} {conc.unit}/mL" if conc is not None else None,
        "rate_mL_h": rate, "vtbi_mL": sum(vtbi_values) if vtbi_values else None,
        "infused_mL": rt.infused_signal.value_at(now),
        "time_remaining_s": remaining if remaining is None or math.isfinite(remaining) else None,
        "state": str(rt.state.values[-1]),
        "alarms": [{**a, "silenced": name in display.silenced}
                   for name, a in display.active.items()],
    }  # fmt: skip
