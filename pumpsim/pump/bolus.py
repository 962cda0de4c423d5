"""Boluses of the reference controller: clinician boluses and PCA demand doses.

A bolus rides on top of the running basal: the combined rate is capped at the
pump maximum (GIP 1.4.3) and the basal setting is never touched, so the pump
returns to it when the bolus volume has been delivered (a volume watch; GIP
1.4.4). No bolus starts while an alarm forbids it (GIP 1.4.11). A PCA demand
is refused during the lockout, during another bolus, above the hourly count or
when it would exceed the dose limit over the rolling window; then the pump
drops to KVO and warns (``dose_limit``) until the oldest dose leaves the window
(a timer at that exact time). Every request is logged (``pca_request``;
OPCA R5.2.0(3), R5.2.0(5)).

:class:`Boluses` is a part of :class:`~pumpsim.pump.reference.ReferenceController`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pumpsim.pump.alarms import AlarmManager, restrictiveness
from pumpsim.pump.controller import Hardware, PumpConfig
from pumpsim.pump.druglib import Breach
from pumpsim.pump.pca import PcaLedger
from pumpsim.pump.program import Phase, Step

__all__ = ["Boluses", "Bolus", "FLOWING"]

#: states in which the pump delivers
FLOWING = ("running", "kvo")


@dataclass
class Bolus:
    kind: str  # "pca" | "clinician"
    volume: float
    extra: float  # rate on top of the basal [mL/s]
    start: float


@dataclass
class Boluses:
    """Clinician and PCA boluses (a part of the reference controller)."""

    config: PumpConfig
    alarms: AlarmManager
    pca: PcaLedger | None
    program: list[Step]
    index: int | None
    state: str
    _bolus: Bolus | None
    _phase: Phase | None
    _secondary: int | None
    _rate_now: float
    _pending: tuple[str, Any] | None

    if TYPE_CHECKING:  # provided by the ReferenceController this part is mixed into

        def _alarms_changed(self, hw: Hardware) -> None: ...
        def _screen(
            self, hw: Hardware, what: str, breaches: list[Breach], **where: Any
        ) -> str | None: ...

    def _bolus_inhibited(self) -> str | None:
        """The alarm that forbids a bolus now (GIP 1.4.11), if any."""
        for kind, a in self.alarms.active.items():
            if kind == "dose_limit":
                continue
            if a.spec.priority == "high" or restrictiveness(a.spec.action) >= 1:
                return kind
        return None

    def _start_bolus(self, hw: Hardware, kind: str, volume: float,
                     duration: float | None = None) -> bool:  # fmt: skip
        cfg = self.config
        base = self._phase.rate if self._phase is not None else 0.0
        wanted = volume / duration if duration else (cfg.bolus_rate or cfg.max_rate)
        extra = min(wanted, cfg.max_rate - base)  # combined rate capped at the maximum
        if extra <= 0:
            hw.log("bolus_refused", bolus=kind, reason="basal already at the pump maximum")
            return False
        self._bolus = Bolus(kind, volume, extra, hw.now)
        hw.watch_volume("bolus_end", hw.infused + volume * (base + extra) / extra)
        hw.log("bolus_start", bolus=kind, volume_mL=volume, rate_mL_h=(base + extra) * 3600,
               basal_mL_h=base * 3600)  # fmt: skip
        return True

    def _cancel_bolus(self, hw: Hardware, cause: str) -> None:
        if self._bolus is not None:
            hw.cancel("bolus_end")
            hw.log("bolus_cancelled", bolus=self._bolus.kind, cause=cause)
            self._bolus = None

    def _lockout_active(self, hw: Hardware) -> bool:
        """Is the PCA lockout running? (a hook the faulty example overrides)"""
        return self.pca is not None and self.pca.in_lockout(hw.now)

    def _pca_request(self, hw: Hardware) -> None:
        def refuse(reason: str, **details: Any) -> None:
            hw.log("pca_request", accepted=False, reason=reason, **details)

        ledger = self.pca
        if ledger is None or self._secondary is not None:
            return refuse("no PCA program running")
        if self.state not in FLOWING:
            return refuse(f"pump {self.state}")
        alarm = self._bolus_inhibited()
        if alarm is not None:
            return refuse("alarm", alarm=alarm)
        if self._bolus is not None:
            return refuse("bolus_in_progress")
        if self._lockout_active(hw):
            end = ledger.lockout_end() or hw.now
            return refuse("lockout", lockout_left_s=end - hw.now)
        if (
            ledger.max_demands is not None
            and ledger.demands_last_hour(hw.now) >= ledger.max_demands
        ):
            return refuse("hourly_count")
        if ledger.would_exceed(hw.now):
            self._limit_reached(hw)
            return refuse("dose_limit", window_mL=ledger.window_volume(hw.now))
        if self.alarms.is_active("dose_limit"):
            self.alarms.clear(hw, "dose_limit", "window has room")
            self._alarms_changed(hw)
        if self._start_bolus(hw, "pca", ledger.demand):
            ledger.record(hw.now, ledger.demand)
            hw.set_timer("lockout", hw.now + ledger.lockout)
            hw.log("pca_request", accepted=True, reason="delivered", dose_mL=ledger.demand)
        else:
            refuse("no capacity above the basal")

    def _limit_reached(self, hw: Hardware) -> None:
        """OPCA R5.2.0(5): refuse, drop to KVO and warn; ask again when a dose leaves."""
        ledger = self.pca
        assert ledger is not None
        if not self.alarms.is_active("dose_limit"):
            self.alarms.raise_alarm(hw, "dose_limit")
            self._alarms_changed(hw)
        free = ledger.next_free(hw.now)
        if free is not None:
            hw.set_timer("pca_window", free)

    def _window_check(self, hw: Hardware) -> None:
        ledger = self.pca
        if ledger is None or not self.alarms.is_active("dose_limit"):
            return
        if ledger.would_exceed(hw.now):
            free = ledger.next_free(hw.now)
            if free is not None:
                hw.set_timer("pca_window", free)
            return
        self.alarms.clear(hw, "dose_limit", "window has room")
        self._alarms_changed(hw)

    def _arm_cap(self, hw: Hardware) -> None:
        """With a basal, watch the volume at which the window would reach the limit."""
        ledger = self.pca
        if ledger is None or ledger.limit is None or self.alarms.is_active("dose_limit"):
            hw.cancel("pca_cap")
            return
        if self._rate_now <= 0 or (self._phase is None or self._phase.rate <= 0):
            hw.cancel("pca_cap")
            return
        if self._bolus is not None:  # counted whole at its start: the watch resumes at its end
            hw.cancel("pca_cap")  # (else a dose that fills the window is cut at once)
            return
        room = ledger.limit - ledger.window_volume(hw.now)
        hw.watch_volume("pca_cap", hw.infused + max(room, 0.0))

    def _cap_check(self, hw: Hardware) -> None:
        ledger = self.pca
        if ledger is None or ledger.limit is None:
            return
        if ledger.window_volume(hw.now) >= ledger.limit * (1 - 1e-9):
            self._limit_reached(hw)
        else:
            self._arm_cap(hw)

    def _in_clinician_bolus(self, hw: Hardware, details: dict[str, Any]) -> None:
        volume = float(details["volume"])
        duration = details.get("duration")
        entry = self.config.ders
        found = (entry.check_bolus(volume, self.config.concentration, self.config.weight)
                 if entry else None)  # fmt: skip
        gate = self._screen(hw, "clinician_bolus", [found] if found else [])
        if gate == "soft":
            self._pending = ("clinician_bolus", (volume, duration))
        elif gate is None:
            self._clinician_bolus(hw, volume, duration)

    def _clinician_bolus(self, hw: Hardware, volume: float, duration: float | None) -> None:
        alarm = self._bolus_inhibited()
        if alarm is not None or self.state != "running" or self._bolus is not None:
            reason = (f"alarm {alarm}" if alarm else
                      "bolus in progress" if self._bolus else f"pump {self.state}")  # fmt: skip
            hw.log("bolus_refused", bolus="clinician", reason=reason)
            return
        if self.pca is not None and self.pca.would_exceed(hw.now, volume):
            hw.log("bolus_refused", bolus="clinician", reason="dose limit over the window")
            return
        if self._start_bolus(hw, "clinician", volume, duration) and self.pca is not None:
            self.pca.record(hw.now, volume, demand=False)
