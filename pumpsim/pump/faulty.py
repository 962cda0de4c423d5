"""Deliberately faulty controllers: examples for ``pumpsim verify`` to catch.

Each is the reference controller with one realistic firmware bug; the
conformance report must fail exactly the requirements that bug breaks and pass
the rest. Never use them to drive anything but a demonstration.

===============================  ===================================  ========================
controller                       bug                                  ``pumpsim verify`` fails
===============================  ===================================  ========================
LockoutIgnoringController        gives a PCA demand dose in lockout   OPCA R5.2.0(3)
OcclusionIgnoringController      never reacts to the occlusion watch  GIP 1.6.2, GIP 1.10.3,
                                 (pumps into a closed line, which     GIP 1.10.7, GIP 1.2.2,
                                 then empties into the patient)       CRISYS 16/19, PS-OCC.U
HardLimitIgnoringController      runs values beyond a hard limit      GIP 6.1.3
UnderInfusionIgnoringController  reads its flow sensor for free flow  GIP 1.2.3
                                 only, never for a flow below the
                                 setting
===============================  ===================================  ========================

More single-bug controllers (42, across programs, PCA, alarms, DERS and sensors) are the
mutation suite in ``tests/mutants/mutants.py``; ``benchmarks/mutation/run_mutants.py`` prints
the share ``pumpsim verify`` catches.

Also by short name: ``pumpsim verify --controller faulty-lockout`` (``faulty-occlusion``,
``faulty-hard-limit``, ``faulty-under-infusion``).
"""

from __future__ import annotations

from typing import Any

from pumpsim.pump.controller import Hardware
from pumpsim.pump.druglib import Breach
from pumpsim.pump.reference import ReferenceController

__all__ = [
    "LockoutIgnoringController",
    "OcclusionIgnoringController",
    "HardLimitIgnoringController",
    "UnderInfusionIgnoringController",
]


class LockoutIgnoringController(ReferenceController):
    """Forgets the PCA lockout: every press outside a running bolus gives a dose.

    The dose limit over the window still holds, so only the lockout requirement
    (OPCA R5.2.0(3)) breaks.
    """

    def _lockout_active(self, hw: Hardware) -> bool:
        return False


class OcclusionIgnoringController(ReferenceController):
    """Sets no pressure watch and ignores the occlusion alarm: pumps into a closed line."""

    def _arm_occlusion(self, hw: Hardware) -> None:
        return None

    def _on_line_alarm(self, hw: Hardware, found: tuple[str, str] | None) -> None:
        if found is not None and not found[0].startswith("occlusion"):
            super()._on_line_alarm(hw, found)


class HardLimitIgnoringController(ReferenceController):
    """Logs a hard-limit breach but lets the value through (soft limits still wait for
    confirmation): the drug library no longer blocks anything."""

    def _screen(self, hw: Hardware, what: str, breaches: list[Breach], **where: Any) -> str | None:
        for b in breaches:
            if b.level == "hard":
                hw.log("ders", what=what, **where, **b.as_details())
        soft = [b for b in breaches if b.level != "hard"]
        return super()._screen(hw, what, soft, **where)


class UnderInfusionIgnoringController(ReferenceController):
    """Reads its drop sensor for free flow only: a flow below the setting never alarms
    (GIP 1.2.3), however long it lasts."""

    def _check_flow(self, hw: Hardware, sensed: float | None = None) -> None:
        return None
