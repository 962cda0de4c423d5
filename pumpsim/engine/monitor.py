"""A bedside monitor that alarms on vital signs at the exact time they cross a limit.

Nothing polls. Each time a drug input reaches the patient (a
:class:`~pumpsim.engine.patient.PatientPK` listener) or a reaction starts, the
monitor looks ahead from *now*, with the inputs as they are, for the first
time each watched vital sign crosses its limit, and schedules one SimPy event
there (a later input change re-schedules it; a stale event is ignored). When
the event fires it writes an event-log record ``source: monitor``,
``kind: alarm`` (``alarm: rr_low`` or ``spo2_low``) and calls its
subscribers; when the value comes back across the limit it writes
``kind: alarm_cleared``.

* **RR** is an algebraic function of the effect-site concentrations (and of
  reaction time courses): it is sampled from the exact PK solution on a grid
  of ``step`` seconds and the first bracketing interval is refined with
  :func:`scipy.optimize.brentq` on exact solver states (1e-6 s).
* **SpO2** is Severinghaus' curve of a PaO2 that lags its ventilation target
  (:mod:`pumpsim.patient.vitals`): the lag is carried forward exactly for a
  target linear between grid points of ``step`` seconds, and the crossing
  inside a step is solved on its closed form. (The Result's SpO2 column uses
  the output grid, so it can differ from the monitor's by the grid effect.)

Look-ahead is bounded by ``horizon`` seconds; at its end the monitor looks
again. A crossing and re-crossing inside one step can be missed.

For the PCA interlock (or any other consumer)::

    monitor.subscribe(lambda alarm, state, t, details: ...)   # state "alarm" / "cleared"
    monitor.value("rr")                                          # now, exact
    monitor.next_crossing("rr", 8.0)                             # time [s] or None
    monitor.concentration_crossing("morphine", 40.0)             # effect site, ng/mL
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from pumpsim.engine.patient import PatientPK
from pumpsim.engine.recorder import EventLog
from pumpsim.patient.pd import first_order_lag, lag_within_step
from pumpsim.patient.vitals import VitalsModel, first_crossing, inverse_severinghaus, severinghaus

__all__ = ["VitalsMonitor", "DEFAULT_LIMITS"]

#: alarm -> (vital, lower limit); RR 8/min and SpO2 90 % are common default low limits
DEFAULT_LIMITS: dict[str, tuple[str, float]] = {"rr_low": ("rr", 8.0), "spo2_low": ("spo2", 90.0)}
_UNIT = {"rr": "/min", "spo2": "%"}
_HYSTERESIS = 1e-6  # relative: stops an alarm clearing at the instant it fires

Subscriber = Callable[[str, str, float, dict[str, Any]], None]


class VitalsMonitor:
    """Watches RR and SpO2 of one patient and alarms at their exact crossing times.

    Parameters
    ----------
    env : simpy.Environment
    patient : PatientPK
    model : VitalsModel
    log : EventLog
    t_end : float
        End of the run [s].
    limits : dict, optional
        alarm -> (vital, lower limit); default :data:`DEFAULT_LIMITS`.
    step : float
        Look-ahead grid spacing [s].
    horizon : float
        How far ahead to look at once [s].
    """

    def __init__(
        self,
        env: simpy.Environment,
        patient: PatientPK,
        model: VitalsModel,
        log: EventLog,
        t_end: float,
        limits: dict[str, tuple[str, float]] | None = None,
        step: float = 5.0,
        horizon: float = 1800.0,
    ) -> None:
        self.env = env
        self.patient = patient
        self.model = model
        self.log = log
        self.t_end = float(t_end)
        self.limits = dict(limits or DEFAULT_LIMITS)
        self.step = float(step)
        self.horizon = float(horizon)
        self.active = {name: False for name in self.limits}
        self.subscribers: list[Subscriber] = []
        self._token = 0
        self._lag_t = 0.0
        self._lag_y = self.model.baseline.pao2
        # the PaO2 look-ahead of the last recheck: (grid, target, lag); valid until an input
        # changes, so the lag at any later time is read from it, on its own grid
        self._ahead: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        patient.listeners.append(self._on_input)
        self.env.timeout(0).callbacks.append(lambda _ev: self.recheck())

    # -- public API ------------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(alarm, state, time_s, details)`` at each alarm and clearing."""
        self.subscribers.append(callback)

    def value(self, vital: str, t: float | None = None) -> float:
        """The value of ``rr`` [1/min] or ``spo2`` [%] now (or at a later ``t``, inputs
        unchanged)."""
        now = float(self.env.now)
        t = now if t is None else float(t)
        if vital == "rr":
            return float(self._rr(np.array([t]))[0])
        if vital == "spo2":
            self._advance_lag(now)
            if t == now:
                return float(severinghaus(self._lag_y))
            grid, _u, y = self._lag_ahead(now, t)
            return float(severinghaus(y[-1]))
        raise ValueError(f"vital {vital!r}: the monitor watches 'rr' and 'spo2'")

    def next_crossing(
        self, vital: str, level: float, t_end: float | None = None, below: bool = True
    ) -> float | None:
        """First time [s] from now at which ``vital`` goes below (or above) ``level``,
        inputs unchanged; None if not by ``t_end`` (default: the run's end)."""
        now = float(self.env.now)
        t1 = self.t_end if t_end is None else float(t_end)
        if vital == "rr":
            return self._rr_crossing(now, t1, level, below)
        if vital == "spo2":
            return self._spo2_crossing(now, t1, level, below)
        raise ValueError(f"vital {vital!r}: the monitor watches 'rr' and 'spo2'")

    def concentration_crossing(
        self, drug: str, level: float, t_end: float | None = None, state: str = "effect"
    ) -> float | None:
        """First time [s] from now at which ``drug``'s ``state`` concentration [its plasma
        unit] crosses ``level``, inputs unchanged (:meth:`ExactSolver.first_crossing`)."""
        ch = self.patient.channels[drug]
        row = np.zeros(ch.system.n)
        row[ch.system.index("central" if state == "plasma" else "effect")] = 1.0
        scale = ch.drug.plasma_factor
        if state == "plasma":
            scale = scale / float(np.asarray(ch.system.v1))
        now = float(self.env.now)
        t1 = self.t_end if t_end is None else float(t_end)
        return ch.solver.first_crossing(now, t1, row, level / scale, self.step)

    def recheck(self) -> None:
        """Look ahead again from now (call after anything that changes the vitals)."""
        now = float(self.env.now)
        self._token += 1
        token = self._token
        self._advance_lag(now)
        t_hi = min(self.t_end, now + self.horizon)
        self._ahead = self._lag_ahead(now, t_hi) if t_hi > now else None
        for name, (vital, limit) in self.limits.items():
            below = not self.active[name]  # looking for the alarm, or for its end
            level = limit * (1.0 - _HYSTERESIS) if below else limit * (1.0 + _HYSTERESIS)
            if vital == "rr":
                t = self._rr_crossing(now, t_hi, level, below)
            else:
                t = self._spo2_crossing(now, t_hi, level, below)
            if t is not None:
                self._at(t, token, functools.partial(self._fire, name))
        if t_hi < self.t_end:
            self._at(t_hi, token, self.recheck)

    # -- machinery -------------------------------------------------------------------------------
    def _at(self, t: float, token: int, action: Callable[[], None]) -> None:
        def run(_ev: Any) -> None:
            if token == self._token:
                action()

        self.env.timeout(max(t - float(self.env.now), 0.0)).callbacks.append(run)

    def _on_input(self, drug: str, _t: float, _amount: float) -> None:
        if drug in self.model.drugs:
            self.recheck()

    def _fire(self, name: str) -> None:
        vital, limit = self.limits[name]
        now = float(self.env.now)
        self.active[name] = not self.active[name]
        value = self.value(vital)
        state = "alarm" if self.active[name] else "cleared"
        details = {"alarm": name, "vital": vital, "value": round(value, 3), "limit": limit}
        if state == "alarm":
            message = f"{vital} {value:.1f}{_UNIT[vital]} below {limit:g}"
            details |= {"priority": "high", "message": message}
            self.log.write(now, "monitor", "alarm", **details)
        else:
            self.log.write(now, "monitor", "alarm_cleared", **details)
        for callback in self.subscribers:
            callback(name, state, now, details)
        self.recheck()

    def _ce(self, times: np.ndarray) -> dict[str, np.ndarray]:
        """Effect-site concentrations [plasma unit] of the PD drugs at ``times`` (exact)."""
        out = {}
        for drug in sorted(self.model.drugs):
            ch = self.patient.channels.get(drug)
            if ch is None or not ch.system.has_effect or not hasattr(ch.solver, "value_at"):
                continue
            row = np.zeros(ch.system.n)
            row[ch.system.index("effect")] = 1.0
            if times.size == 1:
                y = np.atleast_1d(ch.solver.value_at(float(times[0]), row))
            else:
                y = ch.solver.sample(times, row[None, :])[..., 0]
            out[drug] = y * ch.drug.plasma_factor
        return out

    def _rr(self, times: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.model.rr(self._ce(times), times), times.shape)

    def _rr_crossing(self, t0: float, t1: float, level: float, below: bool) -> float | None:
        def scalar(t: float) -> float:
            return float(self._rr(np.array([t]))[0])

        return first_crossing(self._rr, t0, t1, level, self.step, below, scalar)

    def _target(self, times: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.model.pao2_target(self._ce(times), times), times.shape)

    def _grid(self, t0: float, t1: float) -> np.ndarray:
        n = max(2, int(math.ceil((t1 - t0) / self.step)) + 1)
        return np.linspace(t0, t1, n)

    def _advance_lag(self, now: float) -> None:
        """Carry the PaO2 lag from its last time to ``now``, on the last look-ahead's grid."""
        if now <= self._lag_t:
            return
        if self._ahead is not None and self._ahead[0][0] <= now <= self._ahead[0][-1]:
            grid, u, y = self._ahead
        else:
            grid, u, y = self._lag_ahead(self._lag_t, now)
        j = min(int(np.searchsorted(grid, now, side="right")) - 1, grid.size - 2)
        dt = float(grid[1] - grid[0])
        y_now = lag_within_step(now - grid[j], y[j], u[j], u[j + 1], dt, self.model.tau_o2)
        self._lag_t, self._lag_y = now, float(y_now)

    def _lag_ahead(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Grid from ``t0`` to ``t1``, the PaO2 target on it and the lag from the state at t0."""
        grid = self._grid(t0, t1)
        u = self._target(grid)
        y = first_order_lag(u, grid[1] - grid[0], self.model.tau_o2, self._lag_y)
        return grid, u, y

    def _spo2_crossing(self, t0: float, t1: float, level: float, below: bool) -> float | None:
        if t1 <= t0:
            return None
        p_level = float(inverse_severinghaus(level))
        self._advance_lag(t0)
        ahead = self._ahead
        if ahead is not None and ahead[0][0] == t0 and ahead[0][-1] == t1:
            grid, u_all, y = ahead
        else:
            grid, u_all, y = self._lag_ahead(t0, t1)
        sign = -1.0 if below else 1.0
        hit = np.flatnonzero(sign * (y - p_level) > 0)
        if hit.size == 0:
            return None
        k = int(hit[0])
        if k == 0:
            return t0
        u = u_all[k - 1 : k + 1]
        dt = float(grid[1] - grid[0])

        def g(s: float) -> float:
            return float(lag_within_step(s, y[k - 1], u[0], u[1], dt, self.model.tau_o2)) - p_level

        if g(0.0) * g(dt) > 0:
            return float(grid[k])
        from scipy.optimize import brentq

        return float(grid[k - 1]) + float(brentq(g, 0.0, dt, xtol=1e-6))
