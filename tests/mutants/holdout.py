"""Holdout mutants: written after the oracles were final and run once, without changing any
oracle or scenario afterwards, to estimate how often a fault nobody tuned verify for is caught.

    python benchmarks/mutation/run_mutants.py --file tests/mutants/holdout.py
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pumpsim.pump.controller import Hardware
from pumpsim.pump.reference import ReferenceController


class DoseLimitStopsInsteadOfKvo(ReferenceController):
    """At the PCA dose limit the pump stops instead of dropping to KVO."""

    def _rate(self) -> float:
        if self.state == "kvo" and self.alarms.is_active("dose_limit"):
            return 0.0
        return super()._rate()


class SecondaryStartsLate(ReferenceController):
    """A secondary starts one minute after its scheduled time."""

    def on_timer(self, hw: Hardware, name: str) -> None:
        if name.startswith("step") and name[4:].isdigit():
            step = self.program[int(name[4:])]
            if step.mode == "secondary" and not getattr(self, "_late", False):
                self._late = True
                hw.set_timer(name, hw.now + 60.0)
                return
        super().on_timer(hw, name)


class ClinicianBolusRestartsLockout(ReferenceController):
    """A clinician bolus is recorded as a demand dose: it restarts the PCA lockout."""

    def _clinician_bolus(self, hw: Hardware, volume: float, duration: float | None) -> None:
        super()._clinician_bolus(hw, volume, duration)
        if self.pca is not None and self._bolus is not None and self._bolus.kind == "clinician":
            self.pca.last_demand = hw.now


class AirLimitDoubled(ReferenceController):
    """The single-bubble limit is read as 400 uL instead of the setting (200 uL)."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.safety = replace(self.safety, air_limit=self.safety.air_limit * 2)


class SilenceTenMinutesOnGip(ReferenceController):
    """Silenced alarms re-activate after 10 min whatever the profile (GIP asks 2 min)."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.alarms.silence_s = 600.0


class NearEmptyAtHalfMillilitre(ReferenceController):
    """The near-empty warning is armed at 0.5 mL left instead of 1 mL."""

    def _arm_reservoir(self, hw: Hardware) -> None:
        super()._arm_reservoir(hw)
        if self.profile.reservoir_warning is not None:
            hw.watch_volume("near_empty", hw.infused + hw.reservoir - 0.5)


class BolusAtBasalRateOnly(ReferenceController):
    """A clinician bolus is given at the bolus rate without the basal under it (the basal
    stops during the bolus)."""

    def _rate(self) -> float:
        if self.state == "running" and self._bolus is not None and self._bolus.kind == "clinician":
            return min(self._bolus.extra, self.config.max_rate)
        return super()._rate()


class ResumeAfterDoorCloseWithoutStart(ReferenceController):
    """Closing the door resumes the infusion without an operator start."""

    def on_sensor(self, hw: Hardware, event: Any) -> None:
        super().on_sensor(hw, event)
        if event.kind == "door" and not event.value and self.state == "alarm":
            self._in_start(hw, {})
            self._apply(hw)


MUTANTS: dict[str, str] = {
    "DoseLimitStopsInsteadOfKvo": "PCA",
    "SecondaryStartsLate": "programs",
    "ClinicianBolusRestartsLockout": "PCA",
    "AirLimitDoubled": "sensors",
    "SilenceTenMinutesOnGip": "alarms",
    "NearEmptyAtHalfMillilitre": "alarms",
    "BolusAtBasalRateOnly": "programs",
    "ResumeAfterDoorCloseWithoutStart": "alarms",
}
