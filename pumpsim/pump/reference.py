"""pumpsim's reference controller: an explicit state machine over programs, alarms, DERS, PCA.

States (:data:`STATES`) and the transitions allowed between them
(:data:`TRANSITIONS`) are data; every transition is logged (``transition``
record: ``from``, ``to``, ``cause``) and shown (:meth:`Hardware.set_state`).

- ``idle``: no program running (before a scheduled start, or after a refusal)
- ``programming``: a program is entered and checked against the drug library;
  a soft-limit breach waits here for ``confirm``
- ``running``: delivering the current phase (plus a bolus on top, capped at the
  pump maximum, GIP 1.4.3; the basal is never changed by it, GIP 1.4.4)
- ``paused``: stopped by the operator, a zero-rate step, or between intermittent
  doses without KVO
- ``kvo``: keep-vein-open at min(KVO rate, the rate that was running) (GIP 1.1.8)
- ``alarm``: stopped by an alarm whose action is ``stop`` at once (GIP 1.6.2); ``start``
  resumes. Every other stop (operator, VTBI end, a zero-rate step) lets a stroke pump
  complete its stroke (``hw.stop(complete_stroke=True)``, GIP 1.6.1)
- ``complete``: the program has ended

The motor rate is computed in one place (:meth:`ReferenceController._rate`) from
the state, the current phase and the bolus; every rate change logs the time
remaining (GIP 1.5.2-1.5.4). Alarms follow the data table of
:mod:`pumpsim.pump.alarms`; PCA bookkeeping is :mod:`pumpsim.pump.pca`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

from pumpsim.pump.alarms import AlarmManager, default_alarm_table, restrictiveness
from pumpsim.pump.bolus import FLOWING, Bolus, Boluses
from pumpsim.pump.controller import Hardware, PumpConfig, SensorEvent
from pumpsim.pump.druglib import Breach
from pumpsim.pump.keypad import Keypad
from pumpsim.pump.pca import PcaLedger
from pumpsim.pump.program import (
    IntermittentStep,
    LoadingStep,
    PcaStep,
    Phase,
    SecondaryStep,
    Step,
    phases,
)
from pumpsim.pump.sensors import LineSafety, UnderInfusionWatch

__all__ = ["ReferenceController", "STATES", "TRANSITIONS"]

STATES: tuple[str, ...] = ("idle", "programming", "running", "paused", "alarm", "kvo", "complete")

#: state -> states it may go to (anything else is a bug and raises)
TRANSITIONS: dict[str, frozenset[str]] = {
    # waiting for a scheduled start, or after a refused program
    "idle": frozenset({"programming", "running", "paused", "kvo", "alarm"}),
    # checked against the drug library; waits here for a soft-limit override
    "programming": frozenset({"running", "paused", "kvo", "idle", "alarm"}),
    "running": frozenset({"paused", "kvo", "alarm", "complete", "idle"}),
    "paused": frozenset({"running", "kvo", "alarm", "complete", "idle"}),
    "kvo": frozenset({"running", "paused", "alarm", "complete", "idle"}),
    # an operator start resumes whatever the alarm interrupted
    "alarm": frozenset({"running", "paused", "kvo", "complete", "idle", "programming"}),
    # a new program or a secondary runs again
    "complete": frozenset({"running", "kvo", "alarm", "idle"}),
}


@dataclass
class _Saved:
    """The primary's place while a secondary runs."""

    index: int | None
    phases: Iterator[Phase]
    phase: Phase | None
    left: float | None  # volume [mL] or time [s] left in the phase
    state: str
    pca: PcaLedger | None


class ReferenceController(Boluses, Keypad):
    """pumpsim's reference firmware (see the module docstring for its states).

    Parameters
    ----------
    config : PumpConfig
        The pump's configuration (a list of Steps also works, with ``vtbi_end``
        and ``kvo_rate`` [mL/s], for the foundation's call form).
    """

    def __init__(
        self,
        config: PumpConfig | list[Step],
        vtbi_end: str = "stop",
        kvo_rate: float = 1 / 3600,
    ) -> None:
        if not isinstance(config, PumpConfig):
            config = PumpConfig("?", tuple(config), vtbi_end=vtbi_end, kvo_rate=kvo_rate)
        self.config = config
        self.program: list[Step] = list(config.program)
        table = default_alarm_table()
        self.alarms = AlarmManager(table, config.alarm_profile)
        self.profile = self.alarms.profile
        self.safety = LineSafety.from_settings(SimpleNamespace(**config.settings))
        self.state = "idle"
        self.index: int | None = None
        self._phases: Iterator[Phase] = iter(())
        self._phase: Phase | None = None
        self._phase_t0 = 0.0
        self._phase_v0 = 0.0
        self._phase_end: float | None = None  # absolute end time of a timed phase
        self._phase_left: float | None = None  # time left of a timed phase while held
        self._bolus: Bolus | None = None
        self._saved: _Saved | None = None
        self._secondary: int | None = None
        self._pending: tuple[str, Any] | None = None  # awaiting confirm: (what, payload)
        self._resume = "running"
        self._held_by: str | None = None  # "operator" | "alarm" while held
        self._later: list[Phase] = []  # phases of the current step after this one
        self._kvo_ref = 0.0
        self._kvo_cause: str | None = None
        self.pca: PcaLedger | None = None
        self._rate_now = 0.0
        self._finishing = False  # a normal stop may still be completing its stroke
        self.door_open = False
        self.flow_watch = UnderInfusionWatch()  # drop sensor: GIP 1.2.3

    # == the state machine =====================================================
    def _to(self, hw: Hardware, state: str, cause: str) -> None:
        if state == self.state:
            return
        if state not in TRANSITIONS[self.state]:  # pragma: no cover - a bug, not a user error
            raise RuntimeError(f"reference controller: no transition {self.state} -> {state}")
        hw.log("transition", **{"from": self.state, "to": state, "cause": cause})
        self.state = state
        hw.set_state(state)

    def _hold(self, hw: Hardware, state: str, cause: str, by: str) -> None:
        """Stop delivering (operator stop or stop alarm), remembering what to resume;
        a timed phase's clock stops too."""
        if self._held_by is None:
            self._resume = self.state
            if self._phase_end is not None:
                self._phase_left = max(0.0, self._phase_end - hw.now)
                hw.cancel("phase")
                self._phase_end = None
        self._held_by = by
        self._cancel_bolus(hw, cause)
        self._to(hw, state, cause)

    def _release(self, hw: Hardware, cause: str) -> None:
        """Resume after a hold."""
        self._held_by = None
        if self._phase_left is not None:
            self._arm_time(hw, hw.now + self._phase_left)
            self._phase_left = None
        self._to(hw, self._resume, cause)
        self._arm_occlusion(hw)

    def _rate(self) -> float:
        """The one place the motor rate is decided [mL/s]."""
        cfg = self.config
        if self.state == "running" and self._phase is not None:
            base = self._phase.rate
            if self._bolus is not None:
                return min(base + self._bolus.extra, cfg.max_rate)
            return min(base, cfg.max_rate)
        if self.state == "kvo":
            return min(cfg.kvo_rate, self._kvo_ref)  # KVO never above the running rate
        return 0.0

    def _apply(self, hw: Hardware) -> None:
        rate = self._rate()
        alarm_stop = rate == 0 and self.state == "alarm"  # at once, even mid-stroke (GIP 1.6.2)
        if rate == self._rate_now and rate == hw.rate and not (alarm_stop and self._finishing):
            return
        self._finishing = rate == 0 and self._rate_now > 0 and not alarm_stop
        if self._finishing:  # a normal stop completes the stroke (GIP 1.6.1)
            hw.stop(complete_stroke=True)
        else:
            hw.set_rate(rate)
        self._rate_now = rate
        if self.pca is not None:
            extra = self._bolus.extra if self._bolus is not None else 0.0
            self.pca.set_background(hw.now, max(0.0, rate - extra))
        if rate > 0:
            remaining, basis = self._remaining(hw, rate)
            hw.log("time_remaining", remaining_s=remaining, basis=basis, rate_mL_h=rate * 3600)
        self._arm_cap(hw)
        self._check_flow(hw)

    def _remaining(self, hw: Hardware, rate: float) -> tuple[float | None, str | None]:
        """Time until the running infusion ends (its VTBI or duration) or, when the
        reservoir runs out first, until the reservoir alarm [s]."""
        planned: tuple[float, float] | None = None  # (time, volume) of the program left
        if self.state == "running" and self._phase is not None:
            planned = self._step_left(hw, rate)
        left = hw.reservoir - self.profile.reservoir_alarm
        if planned is not None and (not math.isfinite(left) or planned[1] <= left + 1e-9):
            return planned[0], "secondary" if self._secondary is not None else "program"
        if math.isfinite(left):
            return max(0.0, left) / rate, "reservoir"
        return None, None

    def _step_left(self, hw: Hardware, rate: float) -> tuple[float, float] | None:
        """(time [s], volume [mL]) until the current step (or secondary) ends, at the
        current rate now and the planned rates after; None when open-ended."""
        ph = self._phase
        assert ph is not None
        if ph.volume is not None:
            vol = max(0.0, ph.volume - (hw.infused - self._phase_v0))
            time = vol / rate
        elif self._phase_end is not None:
            time = self._phase_end - hw.now
            vol = time * rate
        else:
            return None
        for p in [] if self._secondary is not None else self._later:
            if p.nominal is None:
                return None
            time, vol = time + p.nominal, vol + p.nominal * p.rate
        return time, vol

    # == programming and DERS ==================================================
    def _breaches(self, steps: list[Step]) -> list[tuple[int, Breach]]:
        entry = self.config.ders
        if entry is None:
            return []
        c, w = self.config.concentration, self.config.weight
        found: list[tuple[int, Breach]] = []
        for i, step in enumerate(steps):
            items: list[Breach | None] = []
            if isinstance(step, PcaStep):
                items += entry.check_pca(step.demand, step.lockout, step.limit_volume,
                                         step.limit_window, step.rate, c, w)  # fmt: skip
            elif isinstance(step, IntermittentStep):
                items += [entry.check_bolus(step.dose_volume, c, w, "dose"),
                          entry.check_rate(step.rate, c, w)]  # fmt: skip
            else:
                if isinstance(step, LoadingStep):
                    items.append(entry.check_bolus(step.loading_volume, c, w, "loading_dose"))
                if step.rate > 0:
                    items.append(entry.check_rate(step.rate, c, w))
            found += [(i, b) for b in items if b is not None]
        return found

    def _blocks(self, breaches: list[Breach]) -> str | None:
        """``"hard"``, ``"soft"`` or None: how the breaches gate programming."""
        levels = {b.level for b in breaches}
        return "hard" if "hard" in levels else ("soft" if "soft" in levels else None)

    def _screen(self, hw: Hardware, what: str, breaches: list[Breach], **where: Any) -> str | None:
        """Log each breach; return how they gate ``what`` (hard refuses, soft waits)."""
        for b in breaches:
            hw.log("ders", what=what, **where, **b.as_details())
        gate = self._blocks(breaches)
        if gate == "hard":
            reasons = "; ".join(b.message for b in breaches if b.level == "hard")
            hw.log(f"{what}_refused", reason=reasons)
        elif gate == "soft":
            hw.log("override_required", what=what,
                   reason="; ".join(b.message for b in breaches))  # fmt: skip
        return gate

    def _enter_program(self, hw: Hardware, steps: list[Step], first: bool) -> None:
        found = self._breaches(steps)
        gate = self._screen(hw, "program", [b for _, b in found])
        if gate == "hard":
            if first:
                self._to(hw, "idle", "hard limit: program refused")
            return
        if gate == "soft":
            self._pending = ("program", steps)
            hw.set_timer("reminder", hw.now + self.alarms.table.reminder)
            return
        self._load(hw, steps)

    def _load(self, hw: Hardware, steps: list[Step]) -> None:
        for name in ("phase", "bolus_end", *(f"step{j}" for j in range(len(self.program)))):
            hw.cancel(name)
        self._cancel_bolus(hw, "new program")
        self.alarms.clear(hw, "vtbi_complete", "new program")
        self.alarms.clear(hw, "program_unfinished", "program started")
        self.program = list(steps)
        self._saved, self._secondary = None, None
        # step times are scenario times: begin with the latest primary step already due
        due = [j for j, st in enumerate(self.program) if not isinstance(st, SecondaryStep)
               and st.start is not None and st.start <= hw.now]  # fmt: skip
        first = due[-1] if due else 0
        for j, step in enumerate(self.program):  # every step still to come, the first included
            if step.start is not None and step.start > hw.now:
                hw.set_timer(f"step{j}", step.start)
        start = self.program[first].start
        if start is not None and start > hw.now:
            self._go(hw, "idle", "waiting for the scheduled start")
        else:
            self._begin(hw, first)
        self._arm_reservoir(hw)

    # == program steps and phases ==============================================
    def _begin(self, hw: Hardware, index: int) -> None:
        step = self.program[index]
        if isinstance(step, SecondaryStep):
            self._start_secondary(hw, index)
            return
        self.index = index
        hw.log("program_step", step=index, mode=step.mode, rate_mL_h=step.rate * 3600,
               vtbi_mL=step.vtbi, duration_s=step.duration)  # fmt: skip
        if isinstance(step, PcaStep):
            old = self.pca
            self.pca = PcaLedger(step.demand, step.lockout, step.limit_volume,
                                 step.limit_window, step.max_demands)  # fmt: skip
            if old is not None:
                self.pca.doses, self.pca.last_demand = old.doses, old.last_demand
                self.pca.demand_times = old.demand_times
            self.pca.set_background(hw.now, self._rate_now)
        else:
            self.pca = None
        # an intermittent dose is an infusion of its own: time remaining counts to its end
        plan = None if isinstance(step, IntermittentStep) else list(phases(step))
        self._phases = iter(plan) if plan is not None else phases(step)
        self._later = list(plan or [])
        self._next_phase(hw)

    def _next_phase(self, hw: Hardware) -> None:
        ph = next(self._phases, None)
        self._later = self._later[1:]
        if ph is None:
            self._step_finished(hw)
            return
        prev_t0 = self._phase_t0
        self._phase, self._phase_t0, self._phase_v0 = ph, hw.now, hw.infused
        hw.cancel("phase")
        self._phase_end = None
        self._phase_left = None
        if ph.volume is not None:
            hw.watch_volume("phase", self._phase_v0 + ph.volume)
        elif ph.duration is not None:
            end = (prev_t0 if ph.from_previous else hw.now) + ph.duration
            if self._held_by is not None:
                self._phase_left = max(0.0, end - hw.now)
            else:
                self._arm_time(hw, end)
        step = self.program[self.index] if self.index is not None else None
        if ph.label == "interval":
            between = step.between if isinstance(step, IntermittentStep) else "stop"
            if between == "kvo":
                self._kvo_ref, self._kvo_cause = step.rate if step else 0.0, "interval"
                self._go(hw, "kvo", "between intermittent doses")
            else:
                self._go(hw, "paused", "between intermittent doses")
        elif ph.rate == 0 and not isinstance(step, PcaStep):
            self._go(hw, "paused", "zero-rate step")
        else:
            self._go(hw, "running", f"{ph.label or 'step'} started")
        self._arm_occlusion(hw)

    def _go(self, hw: Hardware, state: str, cause: str) -> None:
        """Go to ``state`` — unless held by the operator or an alarm: then resume into it."""
        if self._held_by is not None:
            self._resume = state
            return
        if state == "running" and restrictiveness(self.alarms.action) >= restrictiveness("kvo"):
            self._kvo_ref, self._kvo_cause = self._phase.rate if self._phase else 0.0, "alarm"
            state = "kvo"
        self._to(hw, state, cause)

    def _arm_time(self, hw: Hardware, end: float) -> None:
        self._phase_end = end
        hw.set_timer("phase", end)

    def _step_finished(self, hw: Hardware) -> None:
        index = self.index
        assert index is not None
        step = self.program[index]
        reason = "vtbi_complete" if step.vtbi is not None else "step_complete"
        hw.log(reason, step=index)
        follow = next((j for j in range(index + 1, len(self.program))
                       if not isinstance(self.program[j], SecondaryStep)), None)  # fmt: skip
        if follow is not None and self.program[follow].start is None:
            self._begin(hw, follow)
            return
        later = follow is not None
        if reason == "vtbi_complete":
            self.alarms.raise_alarm(hw, "vtbi_complete")
            end = self.config.vtbi_end
            if end == "continue":
                assert self._phase is not None
                self._phase = replace(self._phase, volume=None, duration=None, label="continue")
                self._log_remaining(hw)
                return
            if end == "kvo":
                self._kvo_ref, self._kvo_cause = self._phase.rate if self._phase else 0.0, "vtbi"
                self._phase = None
                self._go(hw, "kvo", "VTBI complete: KVO")
                return
        self._phase = None
        cause = "waiting for the next step" if later else reason.replace("_", " ")
        self._go(hw, "idle" if later else "complete", cause)

    def _log_remaining(self, hw: Hardware) -> None:
        if hw.rate > 0:
            remaining, basis = self._remaining(hw, hw.rate)
            hw.log("time_remaining", remaining_s=remaining, basis=basis,
                   rate_mL_h=hw.rate * 3600)  # fmt: skip

    # -- secondary (piggyback) ---------------------------------------------------
    def _start_secondary(self, hw: Hardware, index: int) -> None:
        step = self.program[index]
        left: float | None = None
        if self._phase is not None and self._phase.volume is not None:
            left = max(0.0, self._phase.volume - (hw.infused - self._phase_v0))
        elif self._phase_end is not None:
            left = max(0.0, self._phase_end - hw.now)
        elif self._phase_left is not None:
            left = self._phase_left
        self._saved = _Saved(self.index, self._phases, self._phase, left, self.state, self.pca)
        self._secondary = index
        self._cancel_bolus(hw, "secondary started")
        hw.cancel("phase")
        self._phase_end = self._phase_left = None
        self._phase = Phase(step.rate, volume=step.vtbi, label="secondary")
        self._phase_t0, self._phase_v0 = hw.now, hw.infused
        hw.watch_volume("phase", hw.infused + (step.vtbi or 0.0))
        hw.log("secondary_start", step=index, rate_mL_h=step.rate * 3600, vtbi_mL=step.vtbi)
        self._go(hw, "running", "secondary infusion started")

    def _end_secondary(self, hw: Hardware) -> None:
        saved = self._saved
        assert saved is not None
        hw.log("secondary_complete", step=self._secondary)
        self._saved, self._secondary = None, None
        self.index, self._phases, self.pca = saved.index, saved.phases, saved.pca
        ph = saved.phase
        self._phase = ph
        self._phase_t0, self._phase_v0 = hw.now, hw.infused
        if ph is not None and ph.volume is not None:
            self._phase = replace(ph, volume=saved.left)
            hw.watch_volume("phase", hw.infused + (saved.left or 0.0))
        elif ph is not None and saved.left is not None:
            self._arm_time(hw, hw.now + saved.left)
        hw.log("return_to_primary", step=self.index)
        back = (
            saved.state
            if saved.state in ("running", "kvo", "complete", "idle", "paused")
            else "running"
        )
        if ph is None and back == "running":
            back = "complete"
        self._go(hw, back, "back to the primary infusion")

    # == alarms ================================================================
    def _raise(self, hw: Hardware, kind: str, message: str = "") -> None:
        self.alarms.raise_alarm(hw, kind, message)
        self._alarms_changed(hw)

    def _alarms_changed(self, hw: Hardware) -> None:
        """Apply the action in force (the most restrictive active one)."""
        rank = restrictiveness(self.alarms.action)
        if rank >= restrictiveness("stop"):
            if self.state != "alarm":
                self._hold(hw, "alarm", f"alarm {self.alarms.arbitration().winner}", "alarm")
            return
        if rank >= restrictiveness("inhibit_bolus"):
            self._cancel_bolus(hw, f"alarm {self.alarms.arbitration().winner}")
        if rank >= restrictiveness("kvo") and self.state == "running":
            self._kvo_ref = self._phase.rate if self._phase is not None else 0.0
            self._kvo_cause = "alarm"
            self._to(hw, "kvo", f"alarm {self.alarms.arbitration().winner}: KVO")
        elif rank < restrictiveness("kvo") and self.state == "kvo" and self._kvo_cause == "alarm":
            self._kvo_cause = None
            self._to(hw, "running", "alarm cleared")
        if (
            self._held_by
            and self._resume == "kvo"
            and self._kvo_cause == "alarm"
            and rank < restrictiveness("kvo")
        ):
            self._resume = "running"

    def _arm_reservoir(self, hw: Hardware) -> None:
        if not math.isfinite(hw.reservoir):
            return
        left = hw.reservoir
        if self.profile.reservoir_warning is not None and left > self.profile.reservoir_warning:
            hw.watch_volume("near_empty", hw.infused + left - self.profile.reservoir_warning)
        hw.watch_volume("empty", hw.infused + max(0.0, left - self.profile.reservoir_alarm))

    def _arm_occlusion(self, hw: Hardware) -> None:
        """Watch the line pressures while delivering (limits: :class:`LineSafety`)."""
        if self.state in FLOWING:
            self.safety.arm(hw)

    def _check_flow(self, hw: Hardware, sensed: float | None = None) -> None:
        """Sensed flow against the set rate (GIP 1.2.3): arm, cancel or clear."""
        if not self.flow_watch.update(hw, sensed) and self.alarms.clear(
            hw, "under_infusion", "flow recovered" if hw.rate > 0 else "pump stopped"
        ):
            self._alarms_changed(hw)

    def _on_line_alarm(self, hw: Hardware, found: tuple[str, str] | None) -> None:
        """Occlusion or air: alarm and stop at once (GIP 1.6.2, 1.9.1, 1.10.3)."""
        if found is not None:
            self._raise(hw, *found)

    # == callbacks =============================================================
    def on_start(self, hw: Hardware) -> None:
        self._to(hw, "programming", "program loaded")
        self._enter_program(hw, self.program, first=True)
        self._apply(hw)

    def on_timer(self, hw: Hardware, name: str) -> None:
        if self.alarms.on_timer(hw, name):
            pass
        elif name == "phase":
            self._phase_end = None
            if self._secondary is not None:
                self._end_secondary(hw)
            else:
                self._next_phase(hw)
        elif name.startswith("step") and name[4:].isdigit():
            self._begin(hw, int(name[4:]))
        elif name == "bolus_end":
            bolus, self._bolus = self._bolus, None
            if bolus is not None:
                hw.log("bolus_end", bolus=bolus.kind, volume_mL=bolus.volume)
        elif name == "lockout":
            hw.log("lockout_end")
        elif name == "pca_window":
            self._window_check(hw)
        elif name == "pca_cap":
            self._cap_check(hw)
        elif name == "near_empty":
            self._raise(hw, "near_empty")
        elif name == "empty":
            self._raise(hw, "reservoir_empty")
        elif name == UnderInfusionWatch.TIMER:
            sensed = self.flow_watch.sensed or 0.0
            self._raise(hw, "under_infusion", f"flow {sensed * 3600:.3g} mL/h, set "
                        f"{hw.rate * 3600:.3g} mL/h, for 15 min")  # fmt: skip
        elif name in ("occlusion", "occlusion_upstream"):
            self._on_line_alarm(hw, self.safety.alarm_for_timer(hw, name))
        elif name == "reminder":
            if self._pending is not None:
                self._raise(hw, "program_unfinished")
            elif self._held_by == "operator":
                self._raise(hw, "idle_standby")
        self._apply(hw)

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        kind, value = event.kind, event.value
        if kind in ("air", "air_cumulative"):
            self._on_line_alarm(hw, self.safety.alarm_for_sensor(event))
        elif kind == "door":
            self.door_open = bool(value)  # start is refused while it is open (keypad)
            if value:
                self._raise(hw, "door_open")
            else:  # the alarm's cause is gone; the stop holds until an operator start
                self.alarms.clear(hw, "door_open", "door closed")
        elif kind == "battery":  # reported as the time left crosses 15 and 5 min
            if value <= 5:
                self._raise(hw, "battery_depleted", f"{value:.0f} min of battery left")
            elif value <= 15:
                self._raise(hw, "battery_low", f"{value:.0f} min of battery left")
            elif self.alarms.clear(hw, "battery_low", "battery recovered"):
                self._alarms_changed(hw)
        elif kind == "mains" and value and self.alarms.clear(hw, "battery_low", "mains restored"):
            self._alarms_changed(hw)
        elif kind == "flow" and value > 1.2 * hw.rate + 1e-12:  # drop sensor: CRISYS 16
            self._raise(hw, "free_flow", f"flow {value * 3600:.3g} mL/h, set {hw.rate * 3600:.3g}")
            self._check_flow(hw, value)
        elif kind == "flow":
            hw.log("sensor", sensor=kind, value=value)
            self._check_flow(hw, value)  # below the setting for 15 min: GIP 1.2.3
        else:
            hw.log("sensor", sensor=kind, value=value)
        self._apply(hw)
