"""Pump mechanisms: what flow a pump really pushes for a commanded rate.

A mechanism turns the controller's commanded rate [mL/s] into the flow it
pushes into the line. Everything is piecewise constant and expressed against
the mechanism's **counter** (the motor displacement the firmware counts,
[mL]): :meth:`Mechanism.phase` returns the flow now and how long it stays
constant, so the engine schedules each change as an event. Pure classes: no
SimPy, no PK.

Kinds (registry :data:`MECHANISMS`):

* ``ideal`` — delivers exactly the commanded rate.
* ``syringe`` — plunger driven by a lead screw: free play and stiction at
  start-up (no flow, then a ramp; Neff 2001, Neff 2007), purge removes most
  of the play, a once-per-revolution flow variation (pulsatility), syringe
  compliance by size (Snijder 2015 range).
* ``volumetric`` — peristaltic/cassette strokes: stroke volume, stroke period
  set by the rate, two-level flow within each stroke (26–28 % (max−min)/mean);
  or a rotary ambulatory pump delivering each stroke as a short shot.
* ``elastomeric`` — a balloon through a capillary restrictor, no controller:
  nominal flow shaped by fill level and scaled by the water viscosity at the
  restrictor's temperature.

Sources are in docs/references.md (keys named at each value); tags as there: [V] read in the
source, [R] recalled, [D] derived here, [I] illustrative (a parameter to set).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Phase",
    "Mechanism",
    "IdealMechanism",
    "SyringeMechanism",
    "SyringeSpec",
    "VolumetricMechanism",
    "ElastomericMechanism",
    "ClampController",
    "MECHANISMS",
    "SYRINGES",
    "STALL_PRESSURE",
    "build_mechanism",
    "stroke_end",
    "syringe_spec",
    "water_viscosity",
]

#: pressure [mmHg] at which a drive stalls: the highest occlusion limit ECRI allows,
#: 20 psi = 1034 mmHg [V]; a pump never pushes harder (the drive force limit) [I].
STALL_PRESSURE = 20.0 * 51.71493


@dataclass(frozen=True)
class Phase:
    """The mechanism's output until its next change.

    ``flow`` pushed into the line [mL/s]; ``counter_rate`` at which the counter
    (``Hardware.infused``) grows [mL/s]; ``duration`` [s] until the next change
    (``inf``: none while the rate holds); ``mean``: the flow averaged over a periodic
    cycle (strokes, lead-screw turns) — what a drop or flow sensor reports — None: ``flow``.
    """

    flow: float
    counter_rate: float
    duration: float
    mean: float | None = None


class Mechanism(Protocol):
    """What the engine needs from a mechanism (read-only attributes and :meth:`phase`)."""

    @property
    def kind(self) -> str: ...

    @property
    def compliance(self) -> float:
        """Compliance of the syringe or cassette [mL/mmHg]."""
        ...

    @property
    def stall_pressure(self) -> float:
        """Pressure at which the drive stalls (or the balloon's pressure) [mmHg]."""
        ...

    @property
    def detector_volume(self) -> float | None:
        """Volume from air entry to the air detector [mL]; None: no detector."""
        ...

    @property
    def upstream_compliance(self) -> float | None:
        """Compliance upstream of the pump [mL/mmHg]; None: no upstream pressure sensor."""
        ...

    @property
    def citations(self) -> tuple[str, ...]: ...

    def phase(self, counter: float, rate: float) -> Phase:
        """Output at counter ``counter`` [mL] for commanded ``rate`` [mL/s] > 0."""
        ...


def _cycle_phase(
    counter: float, rate: float, start: float, cycle: float, levels: Sequence[tuple[float, float]]
) -> Phase:
    """A periodic profile after ``start``: ``levels`` = (fraction of cycle, flow/rate).

    Positions within the cycle are taken to a tolerance that grows with the
    counter (rounding of ``counter % cycle`` after hours of pumping), so a
    boundary just reached is never scheduled again a rounding error later.
    """
    tol = 1e-12 * cycle + 64 * 2.2e-16 * max(abs(counter), abs(start), cycle)
    pos = (counter - start) % cycle
    if cycle - pos <= tol:
        pos = 0.0
    edge = 0.0
    mean = rate * sum(fraction * ratio for fraction, ratio in levels)
    for fraction, ratio in levels:
        edge += fraction * cycle
        if pos < edge - tol:
            return Phase(rate * ratio, rate, (edge - pos) / rate, mean)
    return Phase(rate * levels[-1][1], rate, (cycle - pos) / rate, mean)  # pragma: no cover


@dataclass(frozen=True)
class IdealMechanism:
    """Delivers exactly the commanded rate; no compliance, an ideal air detector."""

    kind: str = "ideal"
    compliance: float = 0.0
    stall_pressure: float = STALL_PRESSURE
    detector_volume: float | None = 0.0
    upstream_compliance: float | None = None
    citations: tuple[str, ...] = ()

    def phase(self, counter: float, rate: float) -> Phase:
        return Phase(rate, rate, math.inf)


# -- syringe ------------------------------------------------------------------------
@dataclass(frozen=True)
class SyringeSpec:
    """A syringe size: nominal volume [mL], inner diameter [mm], compliance [mL/mmHg]."""

    size: float
    inner_diameter_mm: float
    compliance: float

    @property
    def area_mm2(self) -> float:
        return math.pi * (self.inner_diameter_mm / 2.0) ** 2

    @property
    def ml_per_mm(self) -> float:
        """Volume per mm of plunger travel [mL/mm]."""
        return self.area_mm2 / 1000.0


#: Inner diameters [mm] of BD Plastipak syringes as syringe-pump makers tabulate them
#: (e.g. the New Era NE-1000 syringe table) [R]; 50 and 60 mL share one barrel.
_DIAMETERS = {1: 4.699, 3: 8.585, 5: 11.99, 10: 14.43, 20: 19.05, 30: 21.59, 50: 26.59, 60: 26.59}
#: Snijder 2015 review: syringe compliance 9–21 uL/kPa ≈ 1.2–2.8 uL/mmHg [V]. Spread over
#: the sizes in proportion to plunger area (1 mL at 1.2, 50/60 mL at 2.8) [D/I].
_C_RANGE = (1.2e-3, 2.8e-3)


def _build_syringes() -> dict[float, SyringeSpec]:
    area = {s: math.pi * (d / 2) ** 2 for s, d in _DIAMETERS.items()}
    lo, hi = min(area.values()), max(area.values())
    return {
        float(s): SyringeSpec(
            float(s), d, _C_RANGE[0] + (_C_RANGE[1] - _C_RANGE[0]) * (area[s] - lo) / (hi - lo)
        )
        for s, d in _DIAMETERS.items()
    }


SYRINGES: dict[float, SyringeSpec] = _build_syringes()


def syringe_spec(size: float) -> SyringeSpec:
    """The syringe of nominal ``size`` [mL]; between table sizes, the next larger barrel."""
    if not 1.0 <= size <= 60.0:
        raise ValueError(f"syringe size {size:g} mL; allowed 1-60 mL")
    for s in sorted(SYRINGES):
        if size <= s + 1e-9:
            return SYRINGES[s]
    return SYRINGES[60.0]  # pragma: no cover


#: Free play of the plunger drive [mm of travel] before the plunger moves: 0.6 mm gives
#: 20 min to first fluid for a 50 mL syringe at 1 mL/h, inside Neff 2001's 6.75–57.2 min
#: (four pumps, 1 mL/h, no purge) [D/I].
FREE_PLAY_MM = 0.6
#: Fraction of the free play a purge leaves: Neff 2001's 2 mL start-up bolus cut the time
#: to first fluid to 0.3–1.1 min; 3 % of 20 min is 0.6 min [D].
PURGE_RESIDUAL = 0.03
#: Neff 2007 (Eur J Anaesthesiol 24:602–608; Alaris Asena GH, BD syringes, gravimetric):
#: time to steady flow from 3.6 min (10 mL syringe, 1 mL/h) to 74.5 min (50 mL, 0.1 mL/h)
#: [V]. Taken as purged syringes (3.6 min is below every unpurged time of Neff 2001).
NEFF2007_ENDPOINTS = ((10.0, 1.0, 3.6), (50.0, 0.1, 74.5))  # (size mL, rate mL/h, t2 min)
#: Stiction ramp: the plunger breaks loose over this many equal flow steps [I].
RAMP_STEPS = 8
#: Lead-screw pitch [mm per revolution]: one flow variation cycle per revolution [I].
LEAD_PITCH_MM = 1.0
#: (max − min)/mean flow of syringe pumps ≈ 9 % [V].
SYRINGE_PULSATILITY = 0.09


def _ramp_law() -> tuple[float, float]:
    """Ramp displacement ``V_ramp = a + b·A`` [mL] through Neff 2007's endpoints [D].

    ``t2 = (residual play + V_ramp)/rate`` with the purged residual play
    ``PURGE_RESIDUAL·A·FREE_PLAY_MM``; two endpoints give the line in plunger area.
    """
    pts = []
    for size, rate_ml_h, t2_min in NEFF2007_ENDPOINTS:
        spec = SYRINGES[size]
        total = rate_ml_h * t2_min / 60.0
        play = PURGE_RESIDUAL * spec.ml_per_mm * FREE_PLAY_MM
        pts.append((spec.area_mm2, total - play))
    (a1, v1), (a2, v2) = pts
    b = (v2 - v1) / (a2 - a1)
    return v1 - b * a1, b


_RAMP_A, _RAMP_B = _ramp_law()


@dataclass(frozen=True)
class SyringeMechanism:
    """A syringe on a lead-screw drive.

    The counter is the plunger-drive travel [mL]. Flow is zero while the drive
    takes up the free play ``play_volume`` (time to first fluid ``t1 =
    play/rate``), then rises in :data:`RAMP_STEPS` equal steps while the
    stopper breaks loose over ``ramp_volume`` (steady at ``t2 = (play +
    ramp)/rate``), then varies ±pulsatility/2 over each lead-screw
    revolution. Start-up therefore grows with syringe size and falls with rate
    (Neff 2007), and a purge removes most of it (Neff 2001).

    Parameters
    ----------
    size : float
        Nominal syringe volume [mL], 1–60.
    purged : bool
        The syringe was purged (primed) in the pump before connection.
    play_volume, ramp_volume, compliance : float, optional
        Override the defaults derived from the syringe size [mL], [mL], [mL/mmHg].
    pulsatility : float
        (max − min)/mean flow over a revolution.
    """

    size: float
    purged: bool = False
    play_volume: float | None = None
    ramp_volume: float | None = None
    compliance_override: float | None = None
    pulsatility: float = SYRINGE_PULSATILITY
    kind: str = "syringe"
    stall_pressure: float = STALL_PRESSURE
    detector_volume: float | None = None  # syringe pumps rarely have an air detector
    upstream_compliance: float | None = None
    spec: SyringeSpec = field(init=False)
    citations: tuple[str, ...] = (
        "Neff T et al. Start-up delays of infusion syringe pumps. Paediatr Anaesth "
        "2001;11:561-565. doi:10.1046/j.1460-9592.2001.00730.x",
        "Neff SB et al. Flow rate, syringe size and architecture are critical to start-up "
        "performance of syringe pumps. Eur J Anaesthesiol 2007;24:602-608",
        "Snijder RA et al. Flow variability and its physical causes in infusion technology: "
        "a systematic review. Biomed Eng Online 2015 (syringe compliance)",
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", syringe_spec(self.size))
        if not 0 <= self.pulsatility < 2:
            raise ValueError("pulsatility must be in [0, 2)")

    @property
    def compliance(self) -> float:  # type: ignore[override]
        if self.compliance_override is not None:
            return self.compliance_override
        return self.spec.compliance

    @property
    def play(self) -> float:
        """Free play still to take up at the start [mL]."""
        if self.play_volume is not None:
            return self.play_volume
        full = self.spec.ml_per_mm * FREE_PLAY_MM
        return full * PURGE_RESIDUAL if self.purged else full

    @property
    def ramp(self) -> float:
        """Drive travel [mL] over which the stopper breaks loose."""
        if self.ramp_volume is not None:
            return self.ramp_volume
        return _RAMP_A + _RAMP_B * self.spec.area_mm2

    @property
    def revolution(self) -> float:
        """Volume per lead-screw revolution [mL]."""
        return self.spec.ml_per_mm * LEAD_PITCH_MM

    def startup_times(self, rate: float) -> tuple[float, float]:
        """(time to first fluid, time to steady flow) [s] at ``rate`` [mL/s]."""
        return self.play / rate, (self.play + self.ramp) / rate

    def phase(self, counter: float, rate: float) -> Phase:
        play, ramp = self.play, self.ramp
        if counter < play - 1e-12:
            return Phase(0.0, rate, (play - counter) / rate)
        if ramp > 0 and counter < play + ramp - 1e-12:
            step = ramp / RAMP_STEPS
            k = min(int((counter - play) / step + 1e-9), RAMP_STEPS - 1)
            end = play + (k + 1) * step
            return Phase(rate * (k + 0.5) / RAMP_STEPS, rate, (end - counter) / rate)
        a = self.pulsatility / 2.0
        if a == 0:
            return Phase(rate, rate, math.inf)
        return _cycle_phase(
            counter, rate, play + ramp, self.revolution, ((0.5, 1 + a), (0.5, 1 - a))
        )


# -- volumetric ---------------------------------------------------------------------
#: Stroke volume of a volumetric (peristaltic/cassette) pump [mL] [I].
STROKE_VOLUME = 0.1
#: (max − min)/mean flow of peristaltic pumps 26–28 % [V]; 27 % used.
PERISTALTIC_PULSATILITY = 0.27
#: Compliance of a volumetric pump's cassette or pumping segment [mL/mmHg] [I].
CASSETTE_COMPLIANCE = 1.0e-3
#: Volume from the pump inlet (where scenario air enters) to the air detector [mL] [I].
DETECTOR_VOLUME = 0.2
#: Compliance of the upstream set between container and pump [mL/mmHg] [I].
UPSTREAM_COMPLIANCE = 1.0e-3
#: Cycles shorter than this are delivered as their mean (PK cannot tell them apart;
#: Chan, Breton & Kovatchev 2008 for periods up to 15 min) [s].
MIN_CYCLE = 1.0


@dataclass(frozen=True)
class VolumetricMechanism:
    """A volumetric pump: one stroke of ``stroke_volume`` every ``stroke_volume/rate``.

    Without ``shot``, each stroke delivers at ``rate·(1 + p/2)`` for its first half
    and ``rate·(1 − p/2)`` for its second (``p`` = pulsatility, (max − min)/mean).
    With ``shot`` [s], each stroke is a shot of that duration at the end of its
    period and nothing in between — a rotary ambulatory pump giving 50 uL per
    revolution delivers one shot every 3 min at 1 mL/h (docs/references.md [Snijder2015] [V]).
    """

    stroke_volume: float = STROKE_VOLUME
    pulsatility: float = PERISTALTIC_PULSATILITY
    shot: float | None = None
    compliance: float = CASSETTE_COMPLIANCE
    kind: str = "volumetric"
    stall_pressure: float = STALL_PRESSURE
    detector_volume: float | None = DETECTOR_VOLUME
    upstream_compliance: float | None = UPSTREAM_COMPLIANCE
    citations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.stroke_volume <= 0:
            raise ValueError("stroke_volume must be > 0")
        if not 0 <= self.pulsatility < 2:
            raise ValueError("pulsatility must be in [0, 2)")
        if self.shot is not None and self.shot <= 0:
            raise ValueError("shot duration must be > 0")

    def phase(self, counter: float, rate: float) -> Phase:
        period = self.stroke_volume / rate
        if period < MIN_CYCLE:
            return Phase(rate, rate, math.inf)
        if self.shot is not None:
            fraction = self.shot / period
            if fraction >= 1.0:
                return Phase(rate, rate, math.inf)
            return _cycle_phase(
                counter,
                rate,
                0.0,
                self.stroke_volume,
                ((1 - fraction, 0.0), (fraction, 1 / fraction)),
            )
        a = self.pulsatility / 2.0
        if a == 0:
            return Phase(rate, rate, math.inf)
        return _cycle_phase(counter, rate, 0.0, self.stroke_volume, ((0.5, 1 + a), (0.5, 1 - a)))


def stroke_end(mechanism: Mechanism, counter: float) -> float | None:
    """Counter [mL] at the end of the stroke under way at ``counter``; None when the
    mechanism has no strokes or ``counter`` is on a stroke boundary (GIP 1.6.1)."""
    stroke = getattr(mechanism, "stroke_volume", None)
    if not stroke:
        return None
    tol = 1e-9 * stroke + 64 * 2.2e-16 * abs(counter)
    pos = counter % stroke
    if pos <= tol or stroke - pos <= tol:
        return None
    return counter + (stroke - pos)


# -- elastomeric --------------------------------------------------------------------
def water_viscosity(temperature_c: float) -> float:
    """Dynamic viscosity of water [mPa·s] at ``temperature_c`` [°C].

    Vogel-type correlation μ = 0.02414·10^(247.8/(T − 140)) mPa·s, T in K
    (Al-Shemmeri, *Engineering Fluid Mechanics*, 2012; within about 2.5 % over
    0–100 °C): 1.00 at 20 °C, 0.76 at 32 °C.
    """
    t = temperature_c + 273.15
    return 0.02414 * 10.0 ** (247.8 / (t - 140.0))


#: Flow relative to nominal by fraction of the fill delivered, (upper bound, ratio) [I]:
#: above nominal while the balloon is full, a rise near the end as the balloon nears its
#: unstretched size (Lipscombe & Lipscombe 2024, J Biosci Med 12:270-288, doi:10.4236/
#: jbm.2024.129023 "toxicity bump"), and a terminal decline after 97 % delivered
#: (Medecell Infu-Disk data sheet). An illustrative shape: set it per device.
ELASTOMERIC_PROFILE: tuple[tuple[float, float], ...] = (
    (0.05, 1.10),
    (0.60, 1.00),
    (0.85, 0.97),
    (0.97, 1.08),
    (1.00, 0.40),
)
#: Temperature [°C] at which elastomeric pumps are labelled: the restrictor taped to the
#: skin, about 31–33 °C [I]; flow scales with μ(reference)/μ(T) through the capillary
#: (Hagen–Poiseuille) [D].
ELASTOMERIC_REFERENCE_C = 32.0
#: Balloon pressure [mmHg]: flow stops when the line reaches it (about 7 psi) [I].
BALLOON_PRESSURE = 360.0


@dataclass(frozen=True)
class ElastomericMechanism:
    """An elastomeric balloon pump (no motor, no controller).

    The counter is the volume actually delivered. Flow = nominal rate ×
    :data:`ELASTOMERIC_PROFILE` ratio at the fraction of ``fill`` delivered ×
    ``μ(reference)/μ(temperature)`` (capillary restrictor, Hagen–Poiseuille)
    [D]; near 32 °C that is about +2.3 % per °C.
    """

    fill: float
    temperature: float = ELASTOMERIC_REFERENCE_C
    reference_temperature: float = ELASTOMERIC_REFERENCE_C
    profile: tuple[tuple[float, float], ...] = ELASTOMERIC_PROFILE
    compliance: float = 0.0
    kind: str = "elastomeric"
    stall_pressure: float = BALLOON_PRESSURE
    detector_volume: float | None = None
    upstream_compliance: float | None = None
    citations: tuple[str, ...] = (
        "Lipscombe CB, Lipscombe TC. Quasi-static, Poiseuille flow of analgesics from an "
        "elastomeric pump. J Biosci Med 2024;12. doi:10.4236/jbm.2024.129023",
    )

    def __post_init__(self) -> None:
        if self.fill <= 0:
            raise ValueError("an elastomeric pump needs a fill volume > 0")

    @property
    def temperature_factor(self) -> float:
        return water_viscosity(self.reference_temperature) / water_viscosity(self.temperature)

    def phase(self, counter: float, rate: float) -> Phase:
        for upper, ratio in self.profile:
            edge = upper * self.fill
            if counter < edge - 1e-12 * self.fill or upper >= 1.0:
                flow = rate * ratio * self.temperature_factor
                remaining = edge - counter if upper < 1.0 else math.inf
                return Phase(flow, flow, remaining / flow if flow > 0 else math.inf)
        return Phase(0.0, 0.0, math.inf)  # pragma: no cover - fraction beyond the table


class ClampController:
    """An elastomeric pump has no firmware: its clamp opens at the program's start.

    It sets the nominal rate from the program's first step, logs when the
    balloon is empty, and ignores sensors and inputs (it cannot alarm).
    """

    def __init__(self, program: Sequence[Any]) -> None:
        self.program = list(program)
        self.state = "idle"

    def on_start(self, hw: Any) -> None:
        first = self.program[0]
        if first.start is not None and first.start > hw.now:
            hw.set_timer("open", first.start)
        else:
            self._open(hw)

    def _open(self, hw: Any) -> None:
        hw.set_rate(self.program[0].rate)
        self.state = "running"
        hw.set_state("running")
        if hw.reservoir != math.inf:
            hw.watch_volume("empty", hw.infused + hw.reservoir)

    def on_timer(self, hw: Any, name: str) -> None:
        if name == "open":
            self._open(hw)
        elif name == "empty":
            hw.set_rate(0.0)
            self.state = "empty"
            hw.set_state("empty")
            hw.log("container_empty")

    def on_sensor(self, hw: Any, event: Any) -> None:
        hw.log("sensor", sensor=getattr(event, "kind", "?"), value=getattr(event, "value", 0.0))

    def on_input(self, hw: Any, event: Any) -> None:
        hw.log("input_ignored", input=getattr(event, "kind", "?"))


def _ideal(**_: Any) -> Mechanism:
    return IdealMechanism()


def _syringe(*, size: float, purged: bool = False, compliance: float | None = None,
             free_play: float | None = None, pulsatility: float | None = None,
             **_: Any) -> Mechanism:  # fmt: skip
    return SyringeMechanism(
        size, purged, play_volume=free_play, compliance_override=compliance,
        pulsatility=SYRINGE_PULSATILITY if pulsatility is None else pulsatility,
    )  # fmt: skip


def _volumetric(*, stroke_volume: float | None = None, pulsatility: float | None = None,
                shot: float | None = None, compliance: float | None = None,
                **_: Any) -> Mechanism:  # fmt: skip
    return VolumetricMechanism(
        STROKE_VOLUME if stroke_volume is None else stroke_volume,
        PERISTALTIC_PULSATILITY if pulsatility is None else pulsatility,
        shot,
        CASSETTE_COMPLIANCE if compliance is None else compliance,
    )


def _elastomeric(*, fill: float, temperature: float | None = None, **_: Any) -> Mechanism:
    return ElastomericMechanism(
        fill, ELASTOMERIC_REFERENCE_C if temperature is None else temperature
    )


#: pump kind -> factory taking keyword parameters (canonical units)
MECHANISMS: dict[str, Callable[..., Mechanism]] = {
    "ideal": _ideal,
    "syringe": _syringe,
    "volumetric": _volumetric,
    "elastomeric": _elastomeric,
}


def build_mechanism(kind: str, **params: Any) -> Mechanism:
    """The mechanism of pump ``kind`` from keyword parameters (see :data:`MECHANISMS`)."""
    try:
        factory = MECHANISMS[kind]
    except KeyError:
        raise ValueError(f"unknown pump kind {kind!r}; allowed: {', '.join(MECHANISMS)}") from None
    return factory(**params)
