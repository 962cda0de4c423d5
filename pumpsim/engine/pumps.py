"""A pump at run time: the Hardware its controller drives, with its mechanism and line.

:class:`PumpRuntime` implements :class:`pumpsim.pump.controller.Hardware` for
one pump and wires the pure physics of :mod:`pumpsim.pump.mechanism` and
:mod:`pumpsim.pump.line` into SimPy. Between events every flow is constant and
every pressure and volume moves linearly, so the state is advanced exactly
(:meth:`PumpRuntime._settle`) and the next change — a mechanism phase, the end
of a pressure transient, a front or bubble reaching the detector or the tip,
the container running dry, the drive stalling, a pressure or volume a
controller watches — is computed and scheduled as a timeout. A stale timeout
is recognised by its token and ignored. Nothing polls. A normal stop of a stroke
pump (:meth:`PumpRuntime.stop` with ``complete_stroke``) runs the motor on to the
stroke's end (GIP 1.6.1); the line faults are :mod:`pumpsim.engine.linefaults`, the
drop sensor :mod:`pumpsim.engine.flowsensor`.

What leaves the line's tip goes to an :class:`Outlet`: the patient
(:class:`PatientOutlet`, drug amount rates) or a manifold.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import simpy

from pumpsim.engine.delivery import Outlet, PatientOutlet, runtime_options
from pumpsim.engine.flowsensor import DropSensor
from pumpsim.engine.linefaults import LineFaults
from pumpsim.engine.recorder import EventLog, Signal, StateSignal
from pumpsim.pump.controller import Controller, SensorEvent, check_log_fields
from pumpsim.pump.line import (
    AIR,
    Composition,
    LineSpec,
    PlugFlowTube,
    chamber_segment,
    equilibrium_pressure,
    liquid_fraction,
    occluded_resistance,
    same_composition,
)
from pumpsim.pump.mechanism import IdealMechanism, Mechanism, stroke_end

__all__ = [
    "PumpRuntime",
    "Outlet",
    "PatientOutlet",
    "runtime_options",  # re-exported from pumpsim.engine.delivery
    "AIR_WINDOW",
    "UPSTREAM_VACUUM",
]

#: rolling window of the cumulative air-in-line sensor [s] (Alaris: 1 mL in 15 min [V])
AIR_WINDOW = 15 * 60.0
#: lowest upstream pressure a pump can pull [mmHg] (near vacuum) [I]
UPSTREAM_VACUUM = -600.0
_AIR_COMP: dict[str, float] = {AIR: 1.0}
_TOL = 1e-12


class PumpRuntime(LineFaults):
    """One pump: controller, mechanism and line, recorded.

    Parameters
    ----------
    env : simpy.Environment
    pump_id : str
    controller : Controller
    reservoir : float
        Volume loaded [mL]; ``math.inf`` for an unlimited source.
    log : EventLog
    outlet : Outlet
        Receives the flow and composition leaving the tip.
    mechanism : Mechanism, optional
        Default :class:`~pumpsim.pump.mechanism.IdealMechanism`.
    line : LineSpec, optional
        Default: no compliance, resistance or dead volume.
    fluid : mapping, optional
        Composition of the container's contents (default ``{"vol:<id>": 1}``).
    back_off : bool
        Relieve the line pressure by reversing the drive when the pump stops.
    physics : bool
        Record pressure, delivered, reservoir and line columns.
    flow_sensor : bool
        A drop / flow sensor reports the set's flow (:mod:`pumpsim.engine.flowsensor`).
    """

    def __init__(
        self,
        env: simpy.Environment,
        pump_id: str,
        controller: Controller,
        reservoir: float,
        log: EventLog,
        outlet: Outlet,
        *,
        mechanism: Mechanism | None = None,
        line: LineSpec | None = None,
        fluid: Mapping[str, float] | None = None,
        back_off: bool = False,
        physics: bool = False,
        flow_sensor: bool = False,
    ) -> None:
        self.env = env
        self.id = pump_id
        self.source = f"pump.{pump_id}"
        self.controller = controller
        self._log = log
        self.outlet = outlet
        self.to_patient = isinstance(outlet, PatientOutlet)
        self.mechanism: Mechanism = mechanism if mechanism is not None else IdealMechanism()
        self.line = line if line is not None else LineSpec()
        self.fluid: dict[str, float] = dict(fluid) if fluid else {f"vol:{pump_id}": 1.0}
        self.back_off = back_off
        self.physics = physics
        self.compliance = self.mechanism.compliance + self.line.compliance
        self._x_det = self.mechanism.detector_volume
        internal = self._x_det or 0.0
        prime = self.line.prime if self.line.prime is not None else self.fluid
        slugs = [(internal, self.fluid), (self.line.dead_volume, prime)]  # inlet first
        self.tube = PlugFlowTube.from_slugs(slugs)
        self._reservoir0 = reservoir
        # state at time self._t
        self._t = 0.0
        self._rate = 0.0
        self._counter = 0.0
        self._backed_off = 0.0
        self._drawn = 0.0
        self._p = self.line.back_pressure
        self._p_up = 0.0
        self._severity = {"downstream": 0.0, "upstream": 0.0}
        self._air_pending = 0.0
        self._air_injected = 0.0
        self._delivered: dict[str, float] = {}  # amount of every key out of the tip
        self._liquid = 0.0  # liquid volume out of the tip [mL]
        self._det_air = 0.0
        self._tip_air = 0.0
        self._bubbles: list[tuple[float, float]] = []
        self._empty_logged = False
        self._free_flow: float | None = None  # gravity flow [mL/s] past the mechanism
        self._stroke_to: float | None = None  # stopping: the counter at the stroke's end
        # the current linear segment (set by _recompute)
        self._q_out = 0.0
        self._q_draw = 0.0
        self._counter_rate = 0.0
        self._slope = 0.0
        self._slope_up = 0.0
        self._seg_end = math.inf
        self._target = self._p
        self._phase_end = math.inf
        self._inflow: Composition = self.fluid
        self._tip: Composition = self.tube.outlet
        self._det: Composition = self.fluid
        self._sent: tuple[float, Composition] | None = None
        self._internal_token = 0
        self._last_internal = -1.0
        self._same_instant = 0
        self._ramp_token = 0
        self._tokens: dict[str, int] = {}
        self._watches: dict[str, float] = {}
        self._pwatches: dict[str, tuple[float, str]] = {}
        # records
        self.flow = Signal(0.0)
        self.infused_signal = Signal(0.0)
        self.state = StateSignal("idle")
        self.rate_signal = Signal(0.0)
        self.delivered_signal = Signal(0.0)
        self.reservoir_signal = Signal(reservoir if math.isfinite(reservoir) else 0.0)
        self.line_signal = Signal(self._line_liquid())
        self.pressure_signal = Signal(self._p)
        self.upstream_signal = Signal(0.0)
        self._initial = self.totals()
        self.drop_sensor = DropSensor(env, self) if flow_sensor else None

    # -- Hardware --------------------------------------------------------------
    @property
    def now(self) -> float:
        return float(self.env.now)

    def _dt(self) -> float:
        return self.now - self._t

    @property
    def infused(self) -> float:
        return self._counter + self._counter_rate * self._dt() - self._backed_off

    @property
    def reservoir(self) -> float:
        return self._reservoir0 - (self._drawn + self._q_draw * self._dt())

    @property
    def rate(self) -> float:
        return 0.0 if self._stroke_to is not None else self._rate

    def set_rate(self, rate: float) -> None:
        if rate < 0 or not math.isfinite(rate):
            raise ValueError(f"{self.source}: controller commanded an invalid rate {rate!r}")
        self._settle()
        self._stroke_to = None
        if self.back_off and rate == 0 and self._rate > 0:
            self._relieve()
        self._rate = rate
        self._recompute()

    def stop(self, complete_stroke: bool = False) -> None:
        """Stop at once, or (``complete_stroke``, a stroke pump) when the stroke under way
        ends: the motor runs on at its rate to the boundary (GIP 1.6.1)."""
        self._settle()
        end = stroke_end(self.mechanism, self._counter) if complete_stroke else None
        if end is None or self._rate <= 0 or self._counter_rate <= 0:
            self.set_rate(0.0)
            return
        self._stroke_to = end
        self.log("stop", complete_stroke=True, stroke_left_mL=end - self._counter)
        self._recompute()

    def set_timer(self, name: str, at: float) -> None:
        self._schedule(name, max(0.0, at - self.now))

    def watch_volume(self, name: str, infused: float) -> None:
        self._watches[name] = infused
        self._arm_volume(name, infused)

    def pressure(self, side: str = "downstream") -> float:
        if side == "upstream":
            return self._p_up + self._slope_up * self._dt()
        return self._p + self._slope * self._dt()

    def watch_pressure(self, name: str, limit: float, side: str = "downstream") -> None:
        self._pwatches[name] = (limit, side)
        self._arm_pressure(name, limit, side)

    def cancel(self, name: str) -> None:
        self._tokens[name] = self._tokens.get(name, 0) + 1
        self._watches.pop(name, None)
        self._pwatches.pop(name, None)

    def set_state(self, state: str) -> None:
        self.state.set(self.now, state)
        self._log.write(self.now, self.source, "state", state=state)

    def alarm(self, kind: str, priority: str, message: str = "") -> None:
        self._log.write(self.now, self.source, "alarm", alarm=kind, priority=priority,
                        message=message)  # fmt: skip

    def log(self, kind: str, /, **details: Any) -> None:
        check_log_fields(kind, details)
        self._log.write(self.now, self.source, kind, **details)

    # -- accounting ---------------------------------------------------------------
    def _stored(self) -> float:
        return self.compliance * (self._p - self.line.back_pressure) if self.compliance else 0.0

    def _deficit(self) -> float:
        c_up = self.mechanism.upstream_compliance or 0.0
        return c_up * -self._p_up if self._p_up < 0 else 0.0

    def _line_liquid(self) -> float:
        return self.tube.liquid() + self._stored() - self._deficit()

    def totals(self) -> dict[str, float]:
        """Amount of every key in line + delivered − drawn from the container (settled).

        Constant over a run (mass balance): compare with the value at the start.
        """
        out = {k: self.tube.content(k) + self._delivered.get(k, 0.0) for k in self._keys()}
        for k, v in self.fluid.items():
            out[k] += (self._stored() - self._deficit() - self._drawn) * v
        if AIR in out or self._air_injected:  # air comes from outside: count what came in
            out[AIR] = out.get(AIR, 0.0) + self._air_pending - self._air_injected
        return out

    def balance_error(self) -> dict[str, float]:
        """``totals() − initial`` per key, brought to now (0 to rounding)."""
        self._settle()
        now = self.totals()
        return {k: now.get(k, 0.0) - self._initial.get(k, 0.0) for k in now.keys() | self._initial}

    def _keys(self) -> set[str]:
        keys = set(self.fluid) | set(self._delivered)
        for slug in self.tube.slugs:
            keys |= set(slug.comp)
        return keys

    @property
    def delivered(self) -> float:
        """Liquid volume that left the tip [mL] (settled at the last event)."""
        return self._liquid

    def _deliver(self, volume: float, comp: Composition) -> None:
        for k, v in comp.items():
            self._delivered[k] = self._delivered.get(k, 0.0) + volume * v
        self._liquid += volume * liquid_fraction(comp)
        self._tip_air += volume * comp.get(AIR, 0.0)

    # -- the state machine ------------------------------------------------------------
    def _settle(self) -> None:
        """Advance the state to now along the current linear segment."""
        dt = self._dt()
        if dt <= 0:
            return
        self._counter += self._counter_rate * dt
        self._drawn += self._q_draw * dt
        self._p += self._slope * dt
        self._p_up += self._slope_up * dt
        volume = self._q_out * dt
        if volume > 0:
            if self._air_pending > 0:
                self._air_pending = max(0.0, self._air_pending - volume)
            if self._x_det is not None:
                self._det_air += volume * self._det.get(AIR, 0.0)
            for v, comp in self.tube.push(volume, self._inflow):
                self._deliver(v, comp)
        self._t = self.now

    def _snap(self) -> None:
        """Land exactly on the boundaries a timed event was scheduled for."""
        end = self._phase_end
        if math.isfinite(end) and abs(self._counter - end) <= 1e-9 * max(1.0, abs(end)):
            self._counter = end
        if self.now >= self._seg_end - 1e-9:
            self._p = self._target
        stall = self.mechanism.stall_pressure
        if abs(self._p - stall) <= 1e-9 * stall:
            self._p = stall
        if self._air_pending <= _TOL:
            self._air_pending = 0.0
        if math.isfinite(self._reservoir0) and self._reservoir0 - self._drawn <= _TOL * max(
            1.0, self._reservoir0
        ):
            self._drawn = self._reservoir0
        if self._p_up <= UPSTREAM_VACUUM + 1e-9:
            self._p_up = UPSTREAM_VACUUM

    def _relieve(self) -> None:
        """Back-off: reverse the drive until the line is back at its back-pressure."""
        volume = self._stored()
        if volume > _TOL:
            self._drawn -= volume
            self._backed_off += volume
            self._p = self.line.back_pressure
            self.log("back_off", volume_mL=volume)

    def _recompute(self) -> None:  # noqa: C901 - one place for the segment's rates
        """New rates from the settled state; schedule the next change; record."""
        mech = self.mechanism
        left = self._reservoir0 - self._drawn
        # 1. the mechanism
        q_m = counter_rate = sensed = 0.0  # sensed: the drop sensor's stroke-averaged flow
        mech_dt = math.inf
        self._phase_end = math.inf
        if self._rate > 0 and left > _TOL:
            ph = mech.phase(self._counter, self._rate)
            q_m, counter_rate, mech_dt = ph.flow, ph.counter_rate, ph.duration
            sensed = ph.flow if ph.mean is None else ph.mean
            if math.isfinite(mech_dt):
                self._phase_end = self._counter + mech_dt * counter_rate
        elif self._rate > 0:  # container empty: the drive runs on, nothing comes
            counter_rate = self._rate
            if not self._empty_logged:
                self._empty_logged = True
                self.log("reservoir_empty_physical", delivered_mL=self.delivered)
        if self._free_flow is not None and left > _TOL:  # gravity sets the flow, not the motor
            q_m = sensed = self._free_flow
        # 2. upstream occlusion
        q_draw = q_m
        slope_up = 0.0
        s_up = self._severity["upstream"]
        sensed *= 1 - s_up  # what the drop sensor above the pump sees come in
        if s_up > 0 and q_m > 0:
            c_up = mech.upstream_compliance
            if c_up and self._p_up > UPSTREAM_VACUUM:
                q_draw, slope_up = (1 - s_up) * q_m, -s_up * q_m / c_up
            else:
                q_m = q_draw = (1 - s_up) * q_m
        # 3. the compliant chamber and the drive's stall pressure
        resistance = occluded_resistance(self.line.resistance, self._severity["downstream"])
        pv, stall, c = self.line.back_pressure, mech.stall_pressure, self.compliance
        if c <= 0:
            p_eq = equilibrium_pressure(q_m, resistance, pv)
            if p_eq > stall:
                q_lim = 0.0 if math.isinf(resistance) else (stall - pv) / resistance
                scale = q_lim / q_m if q_m > 0 else 0.0
                q_m, q_draw, counter_rate, p_eq = q_lim, q_draw * scale, counter_rate * scale, stall
                sensed = min(sensed, q_m)
            self._p, self._target = p_eq, p_eq
            q_out, slope, seg_dt = q_m, 0.0, math.inf
        else:
            if resistance == 0 and abs(self._p - pv) > 1e-12:  # instant release (τ = 0)
                self._push_bolus(self._stored())
                self._p = pv
            seg = chamber_segment(self._p, q_m, resistance, pv, c)
            if self._p >= stall - 1e-9 and seg.slope > 0:
                q_lim = 0.0 if math.isinf(resistance) else (stall - pv) / resistance
                scale = min(1.0, q_lim / q_m) if q_m > 0 else 0.0
                q_m, q_draw, counter_rate = q_m * scale, q_draw * scale, counter_rate * scale
                sensed = min(sensed, q_m)
                seg = chamber_segment(self._p, q_m, resistance, pv, c)
                if seg.slope > 0:
                    seg = type(seg)(seg.outflow, 0.0, math.inf, self._p)
            q_out, slope, seg_dt = seg.outflow, seg.slope, seg.duration
            self._target = seg.target
        stall_dt = (stall - self._p) / slope if slope > 0 and self._p < stall else math.inf
        # 4. air entering: the tube takes air instead of the container's liquid
        inflow: Composition = self.fluid
        if self._air_pending > 0:
            inflow = _AIR_COMP
            q_draw -= q_out
        self._q_out, self._q_draw, self._counter_rate = q_out, q_draw, counter_rate
        self._slope, self._slope_up = slope, slope_up
        self._seg_end = self.now + seg_dt
        self._inflow = inflow
        self._tip = self.tube.outlet if self.tube.volume > 0 else inflow
        self._det = inflow if not self._x_det else self.tube.composition_at(self._x_det)
        # 5. the next change
        candidates = [mech_dt, seg_dt, stall_dt]
        if self._stroke_to is not None and counter_rate > 0:
            candidates.append((self._stroke_to - self._counter) / counter_rate)
        if q_out > 0:
            candidates.append(self.tube.volume_to_change(self.tube.volume, inflow) / q_out)
            if self._x_det:
                candidates.append(self.tube.volume_to_change(self._x_det, inflow) / q_out)
            if self._air_pending > 0:
                candidates.append(self._air_pending / q_out)
        if q_draw > 0 and math.isfinite(left):
            candidates.append(left / q_draw)
        if slope_up < 0:
            candidates.append((self._p_up - UPSTREAM_VACUUM) / -slope_up)
        self._schedule_internal(min(candidates))
        self._record()
        self._notify()
        if self.drop_sensor is not None:
            self.drop_sensor.see(sensed)
        for name, target in list(self._watches.items()):
            self._arm_volume(name, target)
        for name, (limit, side) in list(self._pwatches.items()):
            self._arm_pressure(name, limit, side)

    def _push_bolus(self, volume: float) -> None:
        """Push ``volume`` [mL] through the tube at once (a release with no resistance)."""
        if volume <= _TOL:
            return
        for v, comp in self.tube.push(volume, self.fluid):
            self._deliver(v, comp)
            self.outlet.receive_bolus(self.source, v, comp)
        self.log("release_bolus", volume_mL=volume)

    def _record(self) -> None:
        t = self.now
        liquid_tip = self._q_out * liquid_fraction(self._tip)
        self.flow.set(t, liquid_tip)
        self.rate_signal.set(t, self._rate)
        self.infused_signal.set(t, self._counter - self._backed_off, self._counter_rate)
        self.delivered_signal.set(t, self.delivered, liquid_tip)
        if math.isfinite(self._reservoir0):
            self.reservoir_signal.set(t, self._reservoir0 - self._drawn, -self._q_draw)
        liquid_in = self._q_out * liquid_fraction(self._inflow)
        c_up = self.mechanism.upstream_compliance or 0.0
        line_slope = liquid_in - liquid_tip + self.compliance * self._slope + c_up * self._slope_up
        self.line_signal.set(t, self._line_liquid(), line_slope)
        self.pressure_signal.set(t, self._p, self._slope)
        self.upstream_signal.set(t, self._p_up, self._slope_up)

    def _notify(self) -> None:
        sent = self._sent
        if sent is None or sent[0] != self._q_out or not same_composition(sent[1], self._tip):
            self._sent = (self._q_out, dict(self._tip))
            self.outlet.receive(self.source, self._q_out, self._tip)

    def _sensors(self) -> list[SensorEvent]:
        """Bubbles that finished passing the detector or the tip since the last event."""
        events: list[SensorEvent] = []
        det = self._inflow if not self._x_det else self.tube.composition_at(self._x_det)
        if self._x_det is not None and self._det_air > _TOL and det.get(AIR, 0.0) <= 0:
            volume, self._det_air = self._det_air, 0.0
            self._bubbles = [(t, v) for t, v in self._bubbles if t > self.now - AIR_WINDOW]
            self._bubbles.append((self.now, volume))
            window = sum(v for _, v in self._bubbles)
            self.log("air_detected", volume_mL=volume, window_mL=window)
            events += [SensorEvent("air", volume), SensorEvent("air_cumulative", window)]
        tip = self.tube.outlet if self.tube.volume > 0 else self._inflow
        if self._tip_air > _TOL and tip.get(AIR, 0.0) <= 0:
            if self.to_patient:
                self.log("air_to_patient", volume_mL=self._tip_air)
            self._tip_air = 0.0
        return events

    # -- scheduling ------------------------------------------------------------
    def _schedule_internal(self, delay: float) -> None:
        self._internal_token += 1
        if math.isfinite(delay):
            event = self.env.timeout(max(0.0, delay))
            event.callbacks.append(functools.partial(self._internal, self._internal_token))

    def _internal(self, token: int, _event: object = None) -> None:
        if token != self._internal_token:
            return
        if self.now == self._last_internal:  # boundaries at one instant: bounded, never a loop
            self._same_instant += 1
            if self._same_instant > 1000:
                raise RuntimeError(f"{self.source}: no progress at t = {self.now} s (a bug)")
        else:
            self._last_internal, self._same_instant = self.now, 0
        self._settle()
        self._snap()
        end = self._stroke_to
        if end is not None and self._counter >= end - 1e-9 * max(1.0, end):
            self._counter, self._stroke_to = end, None
            if self.back_off:
                self._relieve()
            self._rate = 0.0
            self.log("stroke_completed", infused_mL=self.infused)
        events = self._sensors()
        self._recompute()
        for ev in events:
            self.controller.on_sensor(self, ev)

    def _arm_volume(self, name: str, target: float) -> None:
        remaining = target - self.infused
        if remaining <= 1e-12:
            self._schedule(name, 0.0)
        elif self._counter_rate > 0:
            self._schedule(name, remaining / self._counter_rate)
        else:
            self._tokens[name] = self._tokens.get(name, 0) + 1  # paused: not due

    def _arm_pressure(self, name: str, limit: float, side: str) -> None:
        p = self.pressure(side)
        slope = self._slope_up if side == "upstream" else self._slope
        rising = limit > 0
        if (rising and p >= limit - 1e-9) or (not rising and p <= limit + 1e-9):
            self._schedule(name, 0.0)
        elif (rising and slope > 0) or (not rising and slope < 0):
            self._schedule(name, (limit - p) / slope)
        else:
            self._tokens[name] = self._tokens.get(name, 0) + 1  # not moving towards it

    def _schedule(self, name: str, delay: float) -> None:
        token = self._tokens.get(name, 0) + 1
        self._tokens[name] = token
        event = self.env.timeout(delay)
        event.callbacks.append(functools.partial(self._fire, name, token))

    def _fire(self, name: str, token: int, _event: object = None) -> None:
        if self._tokens.get(name) != token:
            return
        self._tokens[name] = token + 1
        self._watches.pop(name, None)
        self._pwatches.pop(name, None)
        self.controller.on_timer(self, name)

    def start(self) -> None:
        """Hand control to the controller at the current time."""
        self._recompute()
        self.controller.on_start(self)

    def finish(self) -> None:
        """Bring every tally to the current time (end of the run)."""
        self._settle()
        self._recompute()

    # -- results -----------------------------------------------------------------
    def columns(self, grid: np.ndarray) -> dict[str, np.ndarray]:
        """Extra time-series columns of a pump with physics (none for an ideal one)."""
        if not self.physics:
            return {}
        p = f"pump.{self.id}"
        out = {
            f"{p}.rate[mL/h]": self.rate_signal.evaluate(grid) * 3600.0,
            f"{p}.delivered[mL]": self.delivered_signal.evaluate(grid),
            f"{p}.line[mL]": self.line_signal.evaluate(grid),
            f"{p}.pressure[mmHg]": self.pressure_signal.evaluate(grid),
        }
        if math.isfinite(self._reservoir0):
            out[f"{p}.reservoir[mL]"] = self.reservoir_signal.evaluate(grid)
        if self.mechanism.upstream_compliance is not None:
            out[f"{p}.upstream_pressure[mmHg]"] = self.upstream_signal.evaluate(grid)
        return out

    def summary(self) -> dict[str, Any]:
        """Extra summary entries of a pump with physics."""
        if not self.physics:
            return {}
        return {
            "volume_delivered_mL": self.delivered,
            "air_delivered_mL": self._delivered.get(AIR, 0.0),
            "peak_pressure_mmHg": float(max(self.pressure_signal.values)),
        }
