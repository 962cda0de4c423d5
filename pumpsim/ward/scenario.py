"""Ward scenario files: beds with a patient and pumps, nurses, alarm rates (pydantic v1).

A ward file is YAML or TOML like a scenario file; its ``beds`` key tells pumpsim it is a
ward (``pumpsim ward FILE``, or ``pumpsim sweep FILE --grid nurses.count=3,4``)::

    name: Medical-surgical ward, 30 beds, 4 nurses
    duration: 7 d
    seed: 1
    layout: {bed_spacing: 4 m}            # beds in a corridor, bed i at (i+1)*spacing
    nurses:
      count: 4
      walking_speed: 1.2 m/s
      response: {median: 45 s, gsd: 4.8}  # from hearing the alarm to setting off
    alarms:                               # random pump alarms while a pump infuses
      occlusion: {rate: 0.041/h, task: 2 min}
    containers: {change: 5 min, near_empty: 30 min}
    beds:
      - repeat: 30
        patient: {age: 65 y, weight: 75 kg, height: 170 cm, sex: male}
        pumps:
          - {id: fluids, rate: 83 mL/h, container: 1000 mL}
          - {id: abx, program: [{at: 0 h, rate: 100 mL/h}, {at: 30 min, rate: 0 mL/h}],
             container: 50 mL}
    events:                               # scripted alarms (tests, teaching)
      - {at: 10 min, bed: 2, pump: fluids, alarm: occlusion}

Alarm priorities and whether an alarm stops the pump come from pumpsim's alarm table
(``pumpsim/data/alarms.yaml``, :mod:`pumpsim.pump.alarms`) unless the ward file says
``priority``/``stops``. Where the default numbers come from: :mod:`pumpsim.ward`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from pumpsim.errors import Problem, ScenarioError
from pumpsim.scenario.clinical import ClinicianResponse
from pumpsim.scenario.quantities import Flow, Frequency, Time, Volume
from pumpsim.scenario.schema import Patient
from pumpsim.units import format_quantity, parse

__all__ = ["Ward", "WardPump", "Bed", "load_ward", "ALARM_KINDS"]

Length = Annotated[float, BeforeValidator(lambda v: parse(v, "length")),
                   PlainSerializer(lambda v: format_quantity(v, "length"), return_type=str)]
Speed = Annotated[float, BeforeValidator(lambda v: parse(v, "speed")),
                  PlainSerializer(lambda v: format_quantity(v, "speed"), return_type=str)]

#: alarms a ward pump can raise at random (the alarm table's kinds a nurse answers)
ALARM_KINDS = ("occlusion", "occlusion_upstream", "air_in_line", "door_open",
               "under_infusion", "idle_standby", "program_unfinished", "battery_low",
               "vtbi_complete", "pump_fault")  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Layout(_Model):
    """Beds in one corridor: bed ``i`` (0-based) at ``station + (i + 1) * bed_spacing``."""

    bed_spacing: Length = 4.0
    station: Length = 0.0


class Nurses(_Model):
    """The nurses answering the ward's pump alarms."""

    count: int = Field(default=4, ge=1, le=200)
    walking_speed: Speed = 1.2
    response: ClinicianResponse = ClinicianResponse(median="45 s", gsd=4.8)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _speed(self) -> Nurses:
        if self.walking_speed <= 0:
            raise ValueError("walking_speed must be greater than zero, e.g. '1.2 m/s'")
        return self


class AlarmRate(_Model):
    """A random pump alarm: Poisson ``rate`` per infusing hour, ``task`` at the bedside."""

    rate: Frequency
    task: Time = 60.0
    priority: Literal["high", "medium", "low"] | None = None
    stops: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> AlarmRate:
        if self.rate < 0 or self.task < 0:
            raise ValueError("rate and task must not be negative")
        return self


class Containers(_Model):
    """Container (bag, syringe) changes: ``change`` time at the bedside; ``near_empty``
    sounds a low-priority alert this long before the container runs dry (null: none)."""

    change: Time = 300.0
    near_empty: Time | None = 1800.0


class Step(_Model):
    at: Time = 0.0
    rate: Flow


class WardPump(_Model):
    """A pump at a bed: a constant ``rate`` or a ``program`` of rate steps, a container."""

    id: str = Field(min_length=1)
    drug: str = "fluid"
    rate: Flow | None = None
    program: list[Step] | None = None
    container: Volume
    critical: bool = False  # a drug whose interruption matters (reported apart)

    @model_validator(mode="after")
    def _program(self) -> WardPump:
        if (self.rate is None) == (self.program is None):
            raise ValueError("give either rate or program (a list of {at, rate})")
        steps = self.steps
        if any(s.rate < 0 for s in steps):
            raise ValueError("rates must not be negative")
        if [s.at for s in steps] != sorted(s.at for s in steps):
            raise ValueError("program steps must be in time order")
        if self.container <= 0:
            raise ValueError("container must be greater than zero, e.g. '500 mL'")
        return self

    @property
    def steps(self) -> list[Step]:
        if self.program is not None:
            return list(self.program)
        return [Step.model_construct(at=0.0, rate=self.rate)]


class Bed(_Model):
    """One bed (or ``repeat`` identical beds): a patient and the pumps at the bedside."""

    repeat: int = Field(default=1, ge=1, le=1000)
    patient: Patient | None = None
    pumps: list[WardPump] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids(self) -> Bed:
        ids = [p.id for p in self.pumps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"pump ids must be unique at a bed: {', '.join(ids)}")
        return self


class ScriptedAlarm(_Model):
    """An alarm at a fixed time (0-based ``bed`` index after expanding ``repeat``)."""

    at: Time
    bed: int = Field(ge=0)
    pump: str
    alarm: str


class Ward(_Model):
    """A ward scenario (see the module docstring)."""

    name: str = "ward"
    duration: Time
    seed: int = 0
    layout: Layout = Layout()
    nurses: Nurses = Nurses()
    alarms: dict[str, AlarmRate] = Field(default_factory=dict)
    containers: Containers = Containers()
    beds: list[Bed] = Field(min_length=1)
    events: list[ScriptedAlarm] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Ward:
        if self.duration <= 0:
            raise ValueError("duration must be greater than zero, e.g. '7 d'")
        for kind in self.alarms:
            if kind not in ALARM_KINDS:
                raise ValueError(f"alarms: unknown alarm {kind!r}; allowed: "
                                 f"{', '.join(ALARM_KINDS)}")  # fmt: skip
        beds = self.expanded()
        for i, ev in enumerate(self.events):
            if ev.bed >= len(beds):
                raise ValueError(f"events[{i}].bed: {ev.bed} but the ward has beds "
                                 f"0..{len(beds) - 1}")  # fmt: skip
            if ev.pump not in {p.id for p in beds[ev.bed].pumps}:
                raise ValueError(f"events[{i}].pump: bed {ev.bed} has no pump {ev.pump!r}")
        return self

    def expanded(self) -> list[Bed]:
        """One Bed per bed of the ward (``repeat`` expanded), in order."""
        return [bed for spec in self.beds for bed in [spec] * spec.repeat]


def load_ward(source: str | Path | Mapping[str, Any] | Ward) -> Ward:
    """Load and validate a ward scenario from a file, a mapping or a Ward.

    Raises
    ------
    ScenarioError
        One located problem per line.
    """
    if isinstance(source, Ward):
        return source
    if isinstance(source, Mapping):
        data, label = dict(source), "<dict>"
    else:
        from pumpsim.scenario.load import read_file

        data, label = read_file(source), str(source)
    try:
        return Ward.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "required"
            problems.append(Problem(path.lstrip("."), msg))
        raise ScenarioError(problems, label) from None
