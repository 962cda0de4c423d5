"""Closed-loop anaesthesia: controllers that read the BIS monitor and set the propofol dose.

Both are plug-in controllers (the :class:`~pumpsim.pump.controller.Controller`
interface) built on pumpsim's reference controller, so alarms, the drug library,
boluses and operator inputs behave exactly as they do there; only the rate of the
running step is theirs. They declare ``sensors = ("bis",)``: the engine's BIS monitor
(:mod:`pumpsim.engine.bismonitor`, scenario block ``bis:``) sends them
``SensorEvent("bis", value)`` every monitor interval. Without a monitor they run the
program as the reference controller does.

* :class:`BisPidController` — a PID on the BIS error that sets the infusion rate
  (mg/kg/h) of the running continuous step. Derivative on the measurement (no kick on
  a set-point change), conditional integration (anti-windup: the integral is frozen
  while the output is saturated in the direction the error pushes), a rate limit on
  how fast the output may change, and limits on the output: zero, and the drug
  library's upper soft limit for continuous rates (upper hard limit when there is no
  soft one; a closed loop cannot confirm a soft-limit override), never more than the
  pump's maximum rate.
* :class:`BisTciController` — the design of Absalom, Sutcliffe & Kenny 2002
  (docs/references.md [Absalom2002]): a PID on BIS whose output is the target of a
  propofol TCI system, here pumpsim's TCI (:mod:`pumpsim.pump.tci`) of the running
  ``mode: tci`` step, in velocity form (the target moves by increments, so it cannot
  wind up) with target limits and a maximum change per reading. The TCI rate is
  capped at the drug library's upper hard limit. The gains are pumpsim's, chosen for
  the Schnider/Bouillon typical patient; the paper's own gains were not verified.

Both act only while the pump is ``running`` a step of the right mode; in an alarm,
paused or KVO they do nothing (the reference controller decides), and they resume
bumplessly from the rate or target in force. A scenario's ``controller`` runs every
pump: these close the loop only on pumps of the drugs in ``drugs`` (propofol); the
others (a remifentanil infusion alongside) run their program as the reference (or TCI)
controller would.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from typing import Any

from pumpsim.pump.controller import Hardware, PumpConfig, SensorEvent
from pumpsim.pump.program import Step
from pumpsim.pump.reference import ReferenceController
from pumpsim.pump.tci import TciController

__all__ = ["BisPidController", "BisTciController"]


class BisPidController(ReferenceController):
    """PID on BIS setting the dose rate (see the module docstring).

    Class attributes (subclass to tune): ``setpoint`` [BIS], ``kp`` [mg/kg/h per BIS],
    ``ti`` (integral time) [s], ``td`` (derivative time) [s], ``max_step`` [mg/kg/h per
    reading], ``max_dose_rate`` [mg/kg/h] (before the library and pump limits).
    """

    sensors = ("bis",)
    drugs = ("propofol",)
    setpoint = 50.0
    kp = 0.8
    ti = 240.0
    td = 10.0
    max_step = 2.0
    max_dose_rate = 30.0

    def __init__(self, config: PumpConfig | list[Step], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._integral: float | None = None  # [mg/kg/h]
        self._last: tuple[float, float] | None = None  # (time, BIS) of the last reading
        self._u = 0.0  # last output [mg/kg/h]

    # -- units -------------------------------------------------------------------------
    def _per_dose(self) -> float | None:
        """mL/s per mg/kg/h (None without a concentration or weight)."""
        c, w = self.config.concentration, self.config.weight
        if not c or not w:
            return None
        return w / 3600.0 / c

    def _upper(self, per: float) -> float:
        """Highest dose rate [mg/kg/h] allowed by the library, the pump and the class."""
        top = min(self.max_dose_rate, self.config.max_rate / per)
        entry = self.config.ders
        limits = entry.continuous if entry is not None else None
        if limits is not None:
            cap = limits.upper_soft if limits.upper_soft is not None else limits.upper_hard
            per_unit = limits.canonical(per, self.config.concentration, self.config.weight)
            if cap is not None and per_unit:
                top = min(top, cap / per_unit)
        return top

    def _controllable(self) -> bool:
        step = self.program[self.index] if self.index is not None else None
        return (self.state == "running" and self._phase is not None and self._bolus is None
                and self._secondary is None and step is not None
                and step.mode == "continuous")  # fmt: skip

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        if event.kind != "bis":
            super().on_sensor(hw, event)
            return
        per = self._per_dose()
        usable = per is not None and self._controllable() and math.isfinite(event.value)
        if self.config.drug not in self.drugs or not usable or per is None:
            self._last = None  # resume bumplessly later
            self._integral = None
            return
        assert self._phase is not None
        bis, now = float(event.value), hw.now
        u_now = self._phase.rate / per
        if self._integral is None:  # bumpless: start from the rate in force
            self._integral, self._last = u_now, (now, bis)
            return
        assert self._last is not None
        dt = max(now - self._last[0], 1e-9)
        error = bis - self.setpoint  # too awake (BIS high): more drug
        d_meas = (bis - self._last[1]) / dt
        top = self._upper(per)
        p_term = self.kp * error
        d_term = self.kp * self.td * d_meas
        trial = self._integral + self.kp * dt / self.ti * error
        u = p_term + trial + d_term
        saturated_high = u > top and error > 0
        saturated_low = u < 0 and error < 0
        if not (saturated_high or saturated_low):  # conditional integration (anti-windup)
            self._integral = trial
        u = self._integral + p_term + d_term
        u = min(max(u, u_now - self.max_step, 0.0), u_now + self.max_step, top)
        self._last = (now, bis)
        self._u = u
        new = u * per
        if abs(new - self._phase.rate) > 1e-15:
            self._phase = dataclasses.replace(self._phase, rate=new)
            hw.log("closed_loop", bis=bis, dose_rate_mg_kg_h=u, rate_mL_h=new * 3600)
        self._apply(hw)


class BisTciController(TciController):
    """Absalom 2002: PID on BIS -> propofol TCI target (see the module docstring).

    Class attributes: ``setpoint`` [BIS], ``kp`` [ug/mL per BIS], ``ti`` [s],
    ``target_range`` [ug/mL], ``max_step`` [ug/mL per reading], ``average`` (the error
    is that of the mean of the last ``average`` readings: monitor noise would otherwise
    move the target at every reading).
    """

    sensors = ("bis",)
    drugs = ("propofol",)
    setpoint = 50.0
    kp = 0.03
    ti = 60.0
    target_range = (1.0, 8.0)
    max_step = 0.1
    average = 6
    caps_to_ders = True

    def __init__(self, config: PumpConfig | list[Step], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._last_error: tuple[float, float] | None = None
        self._recent: deque[float] = deque(maxlen=max(1, self.average))

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        if event.kind != "bis":
            super().on_sensor(hw, event)
            return
        self._sync(hw)
        conc_unit = 1000.0  # the TCI target is in amount/L; ug/mL = mg/L
        if (self.config.drug not in self.drugs or self._tci_step() is None
                or self.state != "running" or self.target is None
                or not math.isfinite(event.value)):  # fmt: skip
            self._last_error = None
            self._recent.clear()
            return
        self._recent.append(float(event.value))
        error = sum(self._recent) / len(self._recent) - self.setpoint  # smoothed reading
        now = hw.now
        if self._last_error is None:
            self._last_error = (now, error)
            return
        dt = max(now - self._last_error[0], 1e-9)
        step = self.kp * ((error - self._last_error[1]) + dt / self.ti * error) * conc_unit / 1000
        step = max(-self.max_step, min(self.max_step, step))
        lo, hi = self.target_range
        new = min(max(self.target + step, lo), hi)
        self._last_error = (now, error)
        if abs(new - self.target) > 1e-12:
            self._set_target(hw, new, quiet=True)
