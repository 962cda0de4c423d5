"""Scenario schema v1: what a scenario file may say, validated and frozen.

Every model forbids unknown keys (a typo is an error, not a silently ignored
setting) and is frozen. Quantities are strings with units, read once into
canonical floats (:mod:`pumpsim.scenario.quantities`). Checks that span
fields (a VTBI larger than the syringe, an event after the end, a pump id
that does not exist, a patient outside a model's range) live in
:mod:`pumpsim.scenario.checks` and report the exact field path.

The bedside blocks - top-level ``clinicians:`` (nurses answering alarms), a pump's
``interlock:`` (pause a PCA pump on low RR / SpO2) and the ``pca_demand`` event (seeded
Poisson presses) - are defined and documented in :mod:`pumpsim.scenario.clinical`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from pumpsim.scenario.clinical import Clinicians, Interlock, PcaDemandEvent
from pumpsim.scenario.faults import (
    DisconnectionEvent,
    DoorCloseEvent,
    DoorOpenEvent,
    FreeFlowEvent,
    InfiltrationEvent,
    MainsLostEvent,
    MainsRestoredEvent,
    ReconnectionEvent,
)
from pumpsim.scenario.programming import (
    ClinicianBolusEvent,
    ConfirmEvent,
    IntermittentStep,
    LoadingStep,
    PcaPressEvent,
    PcaStep,
    SecondaryStep,
    SilenceEvent,
    StartEvent,
    StopEvent,
    TaperStep,
    TitrateEvent,
)
from pumpsim.scenario.quantities import (
    CV,
    Age,
    Compliance,
    Concentration,
    Creatinine,
    Dose,
    DoseRate,
    Flow,
    Frequency,
    Height,
    Percent,
    Pressure,
    Resistance,
    Temperature,
    Time,
    Volume,
    Weight,
)
from pumpsim.scenario.tci import BisSpec, TciStep, TciTargetEvent

__all__ = [
    "Scenario",
    "Output",
    "Patient",
    "Vitals",
    "Pump",
    "Line",
    "Manifold",
    "MechanismSettings",
    "PumpSettings",
    "ProgramStep",
    "AnyProgramStep",
    "ProgramEvent",
    "Event",
    "BolusEvent",
    "OcclusionEvent",
    "ClearOcclusionEvent",
    "AirEvent",
    "AdverseReactionEvent",
    "ROUTES",
    "PUMP_KINDS",
]

Route = Literal["iv", "sc", "im", "io", "epidural"]
ROUTES: tuple[str, ...] = ("iv", "sc", "im", "io", "epidural")
PumpKind = Literal["ideal", "syringe", "volumetric", "elastomeric"]
PUMP_KINDS: tuple[str, ...] = ("ideal", "syringe", "volumetric", "elastomeric")
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _non_negative(value: float | None, what: str = "value") -> float | None:
    if value is not None and value < 0:
        raise ValueError(f"must not be negative; a {what} of zero or more is allowed")
    return value


def _positive(value: float | None, what: str = "value") -> float | None:
    if value is not None and value <= 0:
        raise ValueError(f"must be greater than zero (a {what})")
    return value


class Output(_Model):
    """What the run records: the sampling ``interval`` of the time series."""

    interval: Time = Field(default=10.0, description="output sampling interval")
    plots: bool = True

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: float) -> float:
        return _positive(v, "time interval such as '30 s'")  # type: ignore[return-value]


class Population(_Model):
    """A virtual population: ``n`` patients with the model's published variability.

    ``variability`` (drug -> parameter -> CV, e.g. ``{morphine: {cl1: 30 %}}``)
    adds or replaces a model's variability: for models that publish none, or
    to explore "what if". It is the user's assumption, reported as such.
    """

    n: int = Field(ge=1, le=100_000)
    seed: int | None = None
    percentiles: list[float] = Field(default_factory=lambda: [5.0, 50.0, 95.0])
    variability: dict[str, dict[str, CV]] = Field(default_factory=dict)

    @field_validator("variability")
    @classmethod
    def _cv(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for drug, cvs in v.items():
            for name, cv in cvs.items():
                if not 0 < cv <= 300:
                    raise ValueError(
                        f"{drug}.{name}: a CV must be above 0 and at most 300 %, e.g. '30 %'"
                    )
        return v

    @field_validator("percentiles")
    @classmethod
    def _pct(cls, v: list[float]) -> list[float]:
        if not v or any(not 0 <= p <= 100 for p in v) or sorted(set(v)) != v:
            raise ValueError("must be increasing numbers from 0 to 100, e.g. [5, 50, 95]")
        return v


class Vitals(_Model):
    """Baseline vital signs (any left out: :func:`pumpsim.patient.vitals.baseline_for`).

    Giving ``vitals`` (even ``{}``) turns on the vital-sign model, its columns
    and the monitor's alarms; ``fio2`` is the inspired O2 fraction (0.21 air).
    """

    hr: Frequency | None = None
    map: Pressure | None = None
    rr: Frequency | None = None
    spo2: Annotated[Percent, Field(gt=50.0, le=100.0)] | None = None
    fio2: Annotated[Percent, Field(gt=0.0, le=100.0)] | None = None
    profile: Literal["resting", "drive"] = "resting"  # ventilation PD profile

    @field_validator("fio2")
    @classmethod
    def _fio2(cls, v: float | None) -> float | None:
        if v is not None and v > 1.0:  # written as a percentage
            v = v / 100.0
        if v is not None and v < 0.21:
            raise ValueError("must be between 0.21 (air) and 1, or 21 % and 100 %")
        return v


class Patient(_Model):
    """The patient's covariates (and, optionally, a virtual population around them)."""

    age: Age
    weight: Weight
    height: Height
    sex: Literal["male", "female"]
    opioids: bool = False
    lean_body_mass: Weight | None = None
    creatinine: Creatinine | None = None
    population: Population | None = None
    vitals: Vitals | None = None

    @field_validator("age")
    @classmethod
    def _age(cls, v: float) -> float:
        if not 0 <= v <= 120:
            raise ValueError("must be between 0 and 120 y")
        return v

    @field_validator("weight")
    @classmethod
    def _weight(cls, v: float) -> float:
        if not 0.3 <= v <= 350:
            raise ValueError("must be between 0.3 and 350 kg")
        return v

    @field_validator("height")
    @classmethod
    def _height(cls, v: float) -> float:
        if not 20 <= v <= 250:
            raise ValueError("must be between 20 and 250 cm")
        return v


class Line(_Model):
    """The administration set between the pump and the patient."""

    dead_volume: Volume = 0.0
    compliance: Compliance | None = None
    resistance: Resistance | None = None
    back_pressure: Pressure = 0.0  # at the patient's end (venous pressure, head height)
    primed_with: Literal["drug", "carrier"] = "drug"
    manifold: Identifier | None = None  # joins the common line of that manifold

    @field_validator("dead_volume", "compliance", "resistance", "back_pressure")
    @classmethod
    def _nonneg(cls, v: float | None) -> float | None:
        return _non_negative(v)


class Manifold(_Model):
    """A common line that several pumps join (their ``line.manifold``) before the patient."""

    id: Identifier
    dead_volume: Volume = 0.0
    primed_with: Literal["drug", "carrier"] = "carrier"

    @field_validator("dead_volume")
    @classmethod
    def _nonneg(cls, v: float) -> float:
        return _non_negative(v)  # type: ignore[return-value]


class MechanismSettings(_Model):
    """Overrides of a pump mechanism's physical defaults (each applies to some kinds)."""

    compliance: Compliance | None = None  # syringe or cassette compliance
    free_play: Volume | None = None  # syringe: drive travel before the plunger moves
    pulsatility: float | None = Field(default=None, ge=0.0, lt=2.0)  # (max-min)/mean
    stroke_volume: Volume | None = None  # volumetric
    shot: Time | None = None  # volumetric: each stroke as a shot of this duration
    temperature: Temperature | None = None  # elastomeric: at the flow restrictor

    @field_validator("compliance", "free_play")
    @classmethod
    def _nonneg(cls, v: float | None) -> float | None:
        return _non_negative(v)

    @field_validator("stroke_volume", "shot")
    @classmethod
    def _pos(cls, v: float | None) -> float | None:
        return _positive(v)

    @field_validator("temperature")
    @classmethod
    def _temperature(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v <= 60.0:
            raise ValueError("must be between 0 and 60 degC")
        return v


class PumpSettings(_Model):
    """Settings the pump's controller uses (limits, KVO, end-of-infusion action)."""

    occlusion_limit: Pressure | None = None
    air_limit: Volume | None = None
    kvo_rate: Flow | None = None
    max_rate: Flow | None = None
    vtbi_end: Literal["stop", "kvo", "continue"] = "stop"
    air_cumulative_limit: Volume | None = None  # air passing in a rolling 15 min
    back_off: bool = False  # relieve line pressure when the pump stops (bolus reduction)
    bolus_rate: Flow | None = None  # demand / clinician bolus rate (default: max_rate)
    alarm_profile: Literal["GIP", "OPCA", "CRISYS"] = "GIP"  # silence, reservoir thresholds
    battery: Time | None = None  # run time on a full battery (pumpsim.engine.faults)
    flow_sensor: bool = False  # a drop / flow sensor reports the real flow (free flow)

    @field_validator("occlusion_limit", "air_limit", "kvo_rate", "max_rate", "air_cumulative_limit",
                     "bolus_rate", "battery")  # fmt: skip
    @classmethod
    def _pos(cls, v: float | None) -> float | None:
        return _positive(v)


class ProgramStep(_Model):
    """One step of a pump program.

    ``at`` is when the step starts (scenario time); a step without ``at``
    starts when the previous step ends (its ``vtbi`` or ``duration``). The
    rate is either a volume rate (``rate``) or a dose rate (``dose_rate``),
    converted with the patient's weight and the pump's concentration.
    """

    at: Time | None = None
    mode: Literal["continuous"] = "continuous"
    rate: Flow | None = None
    dose_rate: DoseRate | None = None
    vtbi: Volume | None = None
    duration: Time | None = None

    @field_validator("rate", "at")
    @classmethod
    def _nonneg(cls, v: float | None) -> float | None:
        return _non_negative(v)

    @field_validator("vtbi", "duration")
    @classmethod
    def _pos(cls, v: float | None) -> float | None:
        return _positive(v)

    @field_validator("dose_rate")
    @classmethod
    def _dose_rate(cls, v):  # type: ignore[no-untyped-def]
        if v is not None and v.value < 0:
            raise ValueError("must not be negative")
        return v

    @model_validator(mode="after")
    def _one_rate(self) -> ProgramStep:
        if (self.rate is None) == (self.dose_rate is None):
            raise ValueError("give exactly one of 'rate' (e.g. '2 mL/h') or 'dose_rate'")
        if self.vtbi is not None and self.duration is not None:
            raise ValueError("give at most one of 'vtbi' and 'duration'")
        return self


def _step_mode(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("mode", "continuous"))
    return str(getattr(value, "mode", "continuous"))


#: a program step of any mode (``mode`` tells them apart; absent means continuous)
AnyProgramStep = Annotated[
    Annotated[ProgramStep, Tag("continuous")]
    | Annotated[LoadingStep, Tag("loading")]
    | Annotated[IntermittentStep, Tag("intermittent")]
    | Annotated[PcaStep, Tag("pca")]
    | Annotated[TaperStep, Tag("taper")]
    | Annotated[SecondaryStep, Tag("secondary")]
    | Annotated[TciStep, Tag("tci")],
    Discriminator(_step_mode),
]


class AbsorptionSpec(_Model):
    """Absorption parameters a user supplies for a route (one first-order pathway).

    Give ``ka`` (e.g. ``"0.05 1/min"``) or ``half_life`` (e.g. ``"12 min"``);
    ``chain`` compartments in series each empty at ``ka``.
    """

    ka: Frequency | None = None
    half_life: Time | None = None
    bioavailability: float = Field(default=1.0, gt=0.0, le=1.0)
    lag: Time = 0.0
    chain: int = Field(default=1, ge=1, le=20)

    @model_validator(mode="after")
    def _one_rate(self) -> AbsorptionSpec:
        if (self.ka is None) == (self.half_life is None):
            raise ValueError("give exactly one of 'ka' (e.g. '0.05 1/min') or 'half_life'")
        if (self.ka is not None and self.ka <= 0) or (
            self.half_life is not None and self.half_life <= 0
        ):
            raise ValueError("the absorption rate must be greater than zero")
        if self.lag < 0:
            raise ValueError("lag must not be negative")
        return self


class Pump(_Model):
    """One pump, its container, its drug, its line and its program."""

    id: Identifier
    kind: PumpKind = "ideal"
    drug: str
    salt: str | None = None
    pk_model: str | None = None
    concentration: Concentration | None = None
    route: Route = "iv"
    absorption: AbsorptionSpec | None = None
    syringe: Volume | None = None
    container: Volume | None = None
    fill: Volume | None = None
    line: Line = Line()
    settings: PumpSettings = PumpSettings()
    mechanism: MechanismSettings = MechanismSettings()
    purge: bool = False  # syringe purged (primed) in the pump before connection
    care_area: str | None = None  # drug-library care area (DERS limits apply)
    program: list[AnyProgramStep] = Field(min_length=1)
    interlock: Interlock | None = None  # pause on low RR / SpO2 (pumpsim.scenario.clinical)

    @field_validator("concentration")
    @classmethod
    def _conc(cls, v):  # type: ignore[no-untyped-def]
        if v is not None and v.value <= 0:
            raise ValueError("must be greater than zero, e.g. '10 mg/mL'")
        return v

    @field_validator("syringe", "container", "fill")
    @classmethod
    def _pos(cls, v: float | None) -> float | None:
        return _positive(v, "volume such as '50 mL'")

    @property
    def reservoir(self) -> float | None:
        """Volume loaded into the pump [mL] (None: unlimited, ideal source)."""
        if self.fill is not None:
            return self.fill
        return self.syringe if self.syringe is not None else self.container


class _EventBase(_Model):
    at: Time

    @field_validator("at")
    @classmethod
    def _at(cls, v: float) -> float:
        return _non_negative(v, "time")  # type: ignore[return-value]


class BolusEvent(_EventBase):
    """A manual dose given without a pump (a push or a short infusion)."""

    type: Literal["bolus"]
    drug: str
    dose: Dose
    route: Route = "iv"
    absorption: AbsorptionSpec | None = None
    salt: str | None = None
    pk_model: str | None = None
    duration: Time | None = None

    @field_validator("dose")
    @classmethod
    def _dose(cls, v):  # type: ignore[no-untyped-def]
        if v.value <= 0:
            raise ValueError("must be greater than zero, e.g. '2 mg/kg'")
        return v

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: float | None) -> float | None:
        return _positive(v, "time")


class OcclusionEvent(_EventBase):
    """The line of ``pump`` becomes occluded on ``side``."""

    type: Literal["occlusion"]
    pump: str
    side: Literal["upstream", "downstream"] = "downstream"
    severity: float = Field(default=1.0, gt=0.0, le=1.0)
    onset: Time | None = None  # gradual: severity grows from 0 over this time

    @field_validator("onset")
    @classmethod
    def _onset(cls, v: float | None) -> float | None:
        return _positive(v, "time such as '10 min'")


class ClearOcclusionEvent(_EventBase):
    type: Literal["clear_occlusion"]
    pump: str


class AirEvent(_EventBase):
    type: Literal["air"]
    pump: str
    volume: Volume

    @field_validator("volume")
    @classmethod
    def _vol(cls, v: float) -> float:
        return _positive(v, "volume such as '250 uL'")  # type: ignore[return-value]


class AdverseReactionEvent(_EventBase):
    type: Literal["adverse_reaction"]
    reaction: Literal["anaphylaxis"]
    severity: Literal["mild", "moderate", "severe"] = "moderate"


class ProgramEvent(_EventBase):
    """The operator enters a new ``program`` on ``pump`` (checked against the drug library;
    step times are scenario times)."""

    type: Literal["program"]
    pump: str
    program: list[AnyProgramStep] = Field(min_length=1)


Event = Annotated[
    BolusEvent | OcclusionEvent | ClearOcclusionEvent | AirEvent | AdverseReactionEvent
    | PcaPressEvent | StartEvent | StopEvent | SilenceEvent | ConfirmEvent | ClinicianBolusEvent
    | TitrateEvent | ProgramEvent | PcaDemandEvent
    | InfiltrationEvent | DisconnectionEvent | ReconnectionEvent | DoorOpenEvent | DoorCloseEvent
    | MainsLostEvent | MainsRestoredEvent | FreeFlowEvent | TciTargetEvent,
    Field(discriminator="type"),
]


class Scenario(_Model):
    """A whole scenario: patient, pumps, scripted events and what to record."""

    name: str = "unnamed scenario"
    description: str = ""
    duration: Time | None = None
    seed: int | None = None
    output: Output = Output()
    patient: Patient | None = None
    pumps: list[Pump] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    manifolds: list[Manifold] = Field(default_factory=list)
    clinicians: Clinicians | None = None  # nurses answering alarms (pumpsim.scenario.clinical)
    bis: BisSpec | None = None  # bispectral index monitor (pumpsim.scenario.tci)
    controller: str | None = Field(
        default=None, description="every pump's controller: 'package.module:Class' or 'file.py:Cls'"
    )
    drug_library: str | None = Field(
        default=None, description="drug library (DERS): 'builtin' or a YAML file"
    )
    variants: dict[Identifier, dict[str, Any]] = Field(
        default_factory=dict, description="named overrides: field path -> value"
    )
    compare: bool = Field(default=False, description="run base and every variant, overlaid")

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: float | None) -> float | None:
        return _positive(v, "time such as '4 h'")
