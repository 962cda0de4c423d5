"""Recording what happens: piecewise signals and the event log.

Between events every recorded quantity is constant or changes linearly
(flow, volume infused, pressure while an occluded line fills), so a signal is
stored as breakpoints ``(time, value, slope)`` and evaluated on the output
grid in one vectorised step at the end — nothing polls during the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["EventRecord", "EventLog", "Signal", "StateSignal"]


@dataclass(frozen=True)
class EventRecord:
    """One entry of the event log (a flat, frozen record)."""

    time_s: float
    source: str
    kind: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"time_s": self.time_s, "source": self.source, "kind": self.kind,
             "details": self.details},
            default=_jsonable,
        )  # fmt: skip


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


class EventLog:
    """The run's event log, in time order of writing."""

    def __init__(self) -> None:
        self.records: list[EventRecord] = []
        #: called with each record as it is written (e.g. a clinician hearing pump alarms)
        self.listeners: list[Callable[[EventRecord], None]] = []

    def write(self, time_s: float, source: str, kind: str, **details: Any) -> EventRecord:
        clean = {k: v for k, v in details.items() if v is not None}
        record = EventRecord(float(time_s), source, kind, clean)
        self.records.append(record)
        for listener in self.listeners:
            listener(record)
        return record


class Signal:
    """A piecewise-linear signal of time, right-continuous at breakpoints."""

    def __init__(self, value: float = 0.0, slope: float = 0.0, t0: float = 0.0) -> None:
        self.times = [t0]
        self.values = [value]
        self.slopes = [slope]

    def value_at(self, t: float) -> float:
        return self.values[-1] + self.slopes[-1] * (t - self.times[-1])

    def set(self, t: float, value: float, slope: float = 0.0) -> None:
        """From ``t`` on, the signal is ``value + slope·(time − t)``."""
        if t == self.times[-1]:
            self.values[-1], self.slopes[-1] = value, slope
        else:
            self.times.append(t)
            self.values.append(value)
            self.slopes.append(slope)

    def evaluate(self, grid: np.ndarray) -> np.ndarray:
        times = np.asarray(self.times)
        idx = np.searchsorted(times, grid, side="right") - 1
        idx = np.clip(idx, 0, None)
        return np.asarray(self.values)[idx] + np.asarray(self.slopes)[idx] * (grid - times[idx])


class StateSignal:
    """A piecewise-constant text signal (a pump's displayed state)."""

    def __init__(self, value: str, t0: float = 0.0) -> None:
        self.times = [t0]
        self.values = [value]

    def set(self, t: float, value: str) -> None:
        if t == self.times[-1]:
            self.values[-1] = value
        elif value != self.values[-1]:
            self.times.append(t)
            self.values.append(value)

    def evaluate(self, grid: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(np.asarray(self.times), grid, side="right") - 1
        return np.asarray(self.values, dtype=object)[np.clip(idx, 0, None)]
