"""A mutation suite for ``pumpsim verify``: the reference controller with one realistic firmware
bug each, written the way a pump engineer would write a faulty build (a subclass that overrides
one method of :class:`~pumpsim.pump.reference.ReferenceController`).

They were written before the oracles that now catch them, from the classes of bug pump firmware
is known to have (programs, PCA, alarms, drug library, sensors), not from what the oracles check.
``MUTANTS`` lists each with its area; ``benchmarks/mutation/run_mutants.py`` runs them all through
``pumpsim verify`` and prints the kill ratio (a mutant is killed when a requirement fails).
Run one as a user would::

    pumpsim verify --controller tests/mutants/mutants.py:KvoAtRunningRate
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pumpsim.pump.controller import Hardware, OperatorInput, SensorEvent
from pumpsim.pump.druglib import Breach
from pumpsim.pump.program import PcaStep, Phase
from pumpsim.pump.reference import ReferenceController

# == programs ====================================================================


class VtbiOvershoot(ReferenceController):
    """The VTBI watch is armed 10 % late (a percent-vs-fraction slip): infuses past the VTBI."""

    def _next_phase(self, hw: Hardware) -> None:
        super()._next_phase(hw)
        ph = self._phase
        if ph is not None and ph.volume is not None and self._held_by is None:
            hw.watch_volume("phase", self._phase_v0 + ph.volume * 1.1)


class VtbiEndAlwaysStops(ReferenceController):
    """Ignores the vtbi_end setting: every VTBI end stops the pump (no KVO, no continue)."""

    def _step_finished(self, hw: Hardware) -> None:
        self.config = replace(self.config, vtbi_end="stop")
        super()._step_finished(hw)


class KvoAtRunningRate(ReferenceController):
    """KVO runs at the rate that was running instead of the KVO rate."""

    def _rate(self) -> float:
        if self.state == "kvo":
            return self._kvo_ref
        return super()._rate()


class LastStepDropped(ReferenceController):
    """Off-by-one in the step loop: the last primary step of a multi-step program never runs."""

    def _step_finished(self, hw: Hardware) -> None:
        index = self.index
        primaries = [j for j, s in enumerate(self.program) if s.mode != "secondary"]
        if len(primaries) > 1 and index == primaries[-2]:
            self.program = [s for j, s in enumerate(self.program) if j != primaries[-1]]
        super()._step_finished(hw)


class SecondaryNoReturn(ReferenceController):
    """After a secondary the pump pauses instead of resuming the primary."""

    def _end_secondary(self, hw: Hardware) -> None:
        super()._end_secondary(hw)
        if self.state == "running":
            self._to(hw, "paused", "secondary complete")


class SecondaryRateKept(ReferenceController):
    """Back on the primary, the pump keeps the secondary's rate."""

    def _end_secondary(self, hw: Hardware) -> None:
        rate = self._phase.rate if self._phase is not None else 0.0
        super()._end_secondary(hw)
        if self._phase is not None:
            self._phase = replace(self._phase, rate=rate)


class LoadingDoseSkipped(ReferenceController):
    """The loading phase is skipped: a loading program starts at the maintenance rate."""

    def _next_phase(self, hw: Hardware) -> None:
        super()._next_phase(hw)
        if self._phase is not None and self._phase.label == "loading":
            super()._next_phase(hw)


class TitrationIgnored(ReferenceController):
    """A titration is logged but the motor keeps the old rate."""

    def _titrate(self, hw: Hardware, rate: float) -> None:
        hw.log("titrated", old_mL_h=self._phase.rate * 3600 if self._phase else 0.0,
               new_mL_h=rate * 3600)  # fmt: skip


class IntermittentOnce(ReferenceController):
    """An intermittent program gives its first dose only."""

    def _next_phase(self, hw: Hardware) -> None:
        if self._phase is not None and self._phase.label == "interval":
            self._phases = iter(())
        super()._next_phase(hw)


class TimeRemainingStale(ReferenceController):
    """Time remaining is computed once at the start and never after a rate change."""

    def _remaining(self, hw: Hardware, rate: float) -> tuple[float | None, str | None]:
        if not hasattr(self, "_first_remaining"):
            self._first_remaining = super()._remaining(hw, rate)
            self._first_at = hw.now
        left, basis = self._first_remaining
        return (None if left is None else max(0.0, left - (hw.now - self._first_at))), basis


class PausedClockRuns(ReferenceController):
    """A timed phase's clock keeps running while the pump is stopped (delivers less)."""

    def _release(self, hw: Hardware, cause: str) -> None:
        self._phase_left = None
        super()._release(hw, cause)


# == PCA =========================================================================


class LockoutFromBolusEnd(ReferenceController):
    """The lockout is counted from the end of the demand dose, not its start."""

    def on_timer(self, hw: Hardware, name: str) -> None:
        if name == "bolus_end" and self._bolus is not None and self._bolus.kind == "pca":
            if self.pca is not None:
                self.pca.last_demand = hw.now
        super().on_timer(hw, name)


class RefusedPressRestartsLockout(ReferenceController):
    """A press refused in lockout restarts the lockout."""

    def _pca_request(self, hw: Hardware) -> None:
        in_lockout = self.pca is not None and self.pca.in_lockout(hw.now)
        super()._pca_request(hw)
        if in_lockout and self.pca is not None:
            self.pca.last_demand = hw.now


class HourlyCountIgnored(ReferenceController):
    """The maximum number of demands per hour is never checked."""

    def _begin(self, hw: Hardware, index: int) -> None:
        super()._begin(hw, index)
        if self.pca is not None:
            self.pca.max_demands = None


class LimitWithoutBasal(ReferenceController):
    """The dose limit counts demand doses only, not the basal."""

    def _apply(self, hw: Hardware) -> None:
        super()._apply(hw)
        if self.pca is not None:
            self.pca.background = [(0.0, 0.0)]


class LimitWithoutClinicianBolus(ReferenceController):
    """Clinician boluses are not counted toward the PCA dose limit."""

    def _clinician_bolus(self, hw: Hardware, volume: float, duration: float | None) -> None:
        pca, self.pca = self.pca, None
        try:
            super()._clinician_bolus(hw, volume, duration)
        finally:
            self.pca = pca


class DemandDuringAlarm(ReferenceController):
    """Boluses are not inhibited by alarms."""

    def _bolus_inhibited(self) -> str | None:
        return None


class DemandDoubled(ReferenceController):
    """The demand dose volume is read twice (mg and mL both applied): twice the dose."""

    def _start_bolus(self, hw: Hardware, kind: str, volume: float,
                     duration: float | None = None) -> bool:  # fmt: skip
        return super()._start_bolus(hw, kind, volume * 2 if kind == "pca" else volume, duration)


class PcaRequestsNotLogged(ReferenceController):
    """Refused PCA requests are not written to the log."""

    def _pca_request(self, hw: Hardware) -> None:
        class Quiet:
            def __getattr__(self, name: str) -> Any:
                return getattr(hw, name)

            def log(self, kind: str, **details: Any) -> None:
                if not (kind == "pca_request" and not details.get("accepted")):
                    hw.log(kind, **details)

        super()._pca_request(Quiet())  # type: ignore[arg-type]


class BasalLostAfterBolus(ReferenceController):
    """After a bolus the pump returns to zero instead of the basal."""

    def on_timer(self, hw: Hardware, name: str) -> None:
        super().on_timer(hw, name)
        if name == "bolus_end" and self._phase is not None and self.state == "running":
            self._phase = replace(self._phase, rate=0.0)
            self._apply(hw)


class DemandIgnoredAtBasalMax(ReferenceController):
    """A permitted request with a basal running is answered with nothing (bolus rate bug)."""

    def _start_bolus(self, hw: Hardware, kind: str, volume: float,
                     duration: float | None = None) -> bool:  # fmt: skip
        if kind == "pca" and self._phase is not None and self._phase.rate > 0:
            hw.log("bolus_refused", bolus=kind, reason="no capacity")
            return False
        return super()._start_bolus(hw, kind, volume, duration)


# == alarms ======================================================================


class SilenceClearsAlarm(ReferenceController):
    """Silence clears the active alarms instead of pausing their audio."""

    def _in_silence(self, hw: Hardware, _details: dict[str, Any]) -> None:
        for kind in list(self.alarms.active):
            self.alarms.clear(hw, kind, "silenced")
        self._alarms_changed(hw)


class SilenceForever(ReferenceController):
    """Silenced alarms never re-activate."""

    def on_timer(self, hw: Hardware, name: str) -> None:
        if name == self.alarms.TIMER:
            return
        super().on_timer(hw, name)


class DoorIgnored(ReferenceController):
    """The door sensor is read for the start interlock only: opening it raises no alarm."""

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        if event.kind == "door":
            self.door_open = bool(event.value)
            return
        super().on_sensor(hw, event)


class StartWithDoorOpen(ReferenceController):
    """Start is accepted with the door open."""

    def _in_start(self, hw: Hardware, details: dict[str, Any]) -> None:
        door, self.door_open = self.door_open, False
        try:
            super()._in_start(hw, details)
        finally:
            self.door_open = door


class NoNearEmptyWarning(ReferenceController):
    """The near-empty warning is never armed; only the empty alarm is."""

    def on_timer(self, hw: Hardware, name: str) -> None:
        if name == "near_empty":
            name = "_ignored"
        super().on_timer(hw, name)


class EmptyAtZero(ReferenceController):
    """The empty alarm comes at 0 mL instead of the profile's reservoir alarm volume."""

    def _arm_reservoir(self, hw: Hardware) -> None:
        super()._arm_reservoir(hw)
        hw.watch_volume("empty", hw.infused + hw.reservoir)


class UpstreamIgnored(ReferenceController):
    """Only the downstream pressure is watched."""

    def on_timer(self, hw: Hardware, name: str) -> None:
        if name == "occlusion_upstream":
            name = "_ignored"
        super().on_timer(hw, name)


class CumulativeAirIgnored(ReferenceController):
    """Only single bubbles are checked; accumulated air never alarms."""

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        if event.kind == "air_cumulative":
            return
        super().on_sensor(hw, event)


class AirAlarmNoStop(ReferenceController):
    """An air-in-line alarm is raised at medium priority and the pump goes on."""

    def _on_line_alarm(self, hw: Hardware, found: tuple[str, str] | None) -> None:
        if found is not None and found[0].startswith("air"):
            hw.alarm(found[0], "medium", found[1])
            return
        super()._on_line_alarm(hw, found)


class BatteryIgnored(ReferenceController):
    """Battery reports are logged but never alarm."""

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        if event.kind == "battery":
            hw.log("sensor", sensor="battery", value=event.value)
            return
        super().on_sensor(hw, event)


class NoEscalation(ReferenceController):
    """Repeated alert-stop-start never escalates."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.alarms.table = replace(self.alarms.table, escalation_count=10**6)


class OcclusionLimitDoubled(ReferenceController):
    """The occlusion watch is set at twice the configured limit (unit slip)."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.safety = replace(self.safety, occlusion_limit=self.safety.occlusion_limit * 2)


class AlarmStopCompletesStroke(ReferenceController):
    """A stop alarm lets the stroke under way complete (as a normal stop would)."""

    def _apply(self, hw: Hardware) -> None:
        if self._rate() == 0 and self.state == "alarm" and hw.rate > 0:
            hw.stop(complete_stroke=True)
            self._rate_now = 0.0
            return
        super()._apply(hw)


# == drug library (DERS) =========================================================


class SoftLimitNoConfirm(ReferenceController):
    """A soft-limit breach is logged but goes ahead without waiting for confirmation."""

    def _screen(self, hw: Hardware, what: str, breaches: list[Breach], **where: Any) -> str | None:
        for b in breaches:
            hw.log("ders", what=what, **where, **b.as_details())
        return super()._screen(hw, what, [b for b in breaches if b.level == "hard"], **where)


class TitrationNotScreened(ReferenceController):
    """Titrations skip the drug library (only whole programs are checked)."""

    def _in_titrate(self, hw: Hardware, details: dict[str, Any]) -> None:
        self._titrate(hw, float(details["rate"]))


class PcaSettingsNotScreened(ReferenceController):
    """PCA settings (demand, lockout, limit) are not checked against the drug library."""

    def _breaches(self, steps: list[Any]) -> list[tuple[int, Breach]]:
        return super()._breaches([s for s in steps if not isinstance(s, PcaStep)])


class RatesNotScreened(ReferenceController):
    """Rate limits are checked only for dose-rate (per kg) programs, not plain mL/h ones."""

    def _breaches(self, steps: list[Any]) -> list[tuple[int, Breach]]:
        found = super()._breaches(steps)
        return [(i, b) for i, b in found if "rate" not in b.field or b.field == "dose_rate"]


class BolusLimitNotScreened(ReferenceController):
    """Clinician boluses skip the drug library."""

    def _in_clinician_bolus(self, hw: Hardware, details: dict[str, Any]) -> None:
        self._clinician_bolus(hw, float(details["volume"]), details.get("duration"))


# == sensors =====================================================================


class FreeFlowThresholdHigh(ReferenceController):
    """Free flow alarms only above twice the setting (not 20 % over)."""

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        if event.kind == "flow" and 1.2 * hw.rate < event.value <= 2.0 * hw.rate:
            event = SensorEvent("flow", hw.rate, event.details)
        super().on_sensor(hw, event)


class UnderInfusionNeverClears(ReferenceController):
    """Reads the flow sensor for free flow only (under-infusion never alarms)."""

    def _check_flow(self, hw: Hardware, sensed: float | None = None) -> None:
        return None


class InputAfterAlarmResumes(ReferenceController):
    """Any operator input (not only start) resumes after a stop alarm."""

    def on_input(self, hw: Hardware, event: OperatorInput) -> None:
        if event.kind in ("silence", "confirm") and self.state == "alarm":
            super().on_input(hw, OperatorInput("start"))
        super().on_input(hw, event)


_ = Phase  # re-exported for mutants written against it

#: name -> area
MUTANTS: dict[str, str] = {
    "VtbiOvershoot": "programs",
    "VtbiEndAlwaysStops": "programs",
    "KvoAtRunningRate": "programs",
    "LastStepDropped": "programs",
    "SecondaryNoReturn": "programs",
    "SecondaryRateKept": "programs",
    "LoadingDoseSkipped": "programs",
    "TitrationIgnored": "programs",
    "IntermittentOnce": "programs",
    "TimeRemainingStale": "programs",
    "PausedClockRuns": "programs",
    "LockoutFromBolusEnd": "PCA",
    "RefusedPressRestartsLockout": "PCA",
    "HourlyCountIgnored": "PCA",
    "LimitWithoutBasal": "PCA",
    "LimitWithoutClinicianBolus": "PCA",
    "DemandDuringAlarm": "PCA",
    "DemandDoubled": "PCA",
    "PcaRequestsNotLogged": "PCA",
    "BasalLostAfterBolus": "PCA",
    "DemandIgnoredAtBasalMax": "PCA",
    "SilenceClearsAlarm": "alarms",
    "SilenceForever": "alarms",
    "DoorIgnored": "alarms",
    "StartWithDoorOpen": "alarms",
    "NoNearEmptyWarning": "alarms",
    "EmptyAtZero": "alarms",
    "NoEscalation": "alarms",
    "InputAfterAlarmResumes": "alarms",
    "SoftLimitNoConfirm": "DERS",
    "TitrationNotScreened": "DERS",
    "PcaSettingsNotScreened": "DERS",
    "RatesNotScreened": "DERS",
    "BolusLimitNotScreened": "DERS",
    "UpstreamIgnored": "sensors",
    "CumulativeAirIgnored": "sensors",
    "AirAlarmNoStop": "sensors",
    "BatteryIgnored": "sensors",
    "OcclusionLimitDoubled": "sensors",
    "AlarmStopCompletesStroke": "sensors",
    "FreeFlowThresholdHigh": "sensors",
    "UnderInfusionNeverClears": "sensors",
}
