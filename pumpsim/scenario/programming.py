"""Scenario schema for pump programming: program modes, operator and patient events, DERS.

Program steps are told apart by ``mode`` (``continuous`` when absent, see
:class:`pumpsim.scenario.schema.ProgramStep`): ``loading``, ``intermittent``,
``pca``, ``taper``, ``secondary``. Operator and patient inputs are scenario
events delivered to a pump's controller: ``pca_press`` (optionally repeated
``every`` ... ``until``), ``start``, ``stop``, ``silence``, ``confirm``,
``clinician_bolus``, ``titrate`` and ``program`` (in
:mod:`pumpsim.scenario.schema`, as it holds program steps).

Doses may be written as amounts (``"1 mg"``, ``"0.1 mg/kg"``) or, for any pump
including plain fluid, as volumes (``"1 mL"``); a basal as a flow or a dose
rate. The cross-field checks here (units against the pump's concentration,
rates against its maximum, the drug library and care area, a controller that
imports) report exact field paths, like :mod:`pumpsim.scenario.checks`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from pumpsim.errors import Problem, UnitError
from pumpsim.scenario.quantities import DoseRate, Flow, Time, Volume, written_schema
from pumpsim.units import Amount, format_amount, format_quantity, parse, parse_amount

__all__ = [
    "DoseOrVolume",
    "RateOrDoseRate",
    "LoadingStep",
    "IntermittentStep",
    "PcaLimit",
    "PcaStep",
    "TaperStep",
    "SecondaryStep",
    "PcaPressEvent",
    "StartEvent",
    "StopEvent",
    "SilenceEvent",
    "ConfirmEvent",
    "ClinicianBolusEvent",
    "TitrateEvent",
    "OPERATOR_EVENTS",
    "step_ends",
    "step_length",
    "check_steps",
    "check_operation",
]

#: event types that are operator or patient inputs to a pump's controller
OPERATOR_EVENTS = ("pca_press", "start", "stop", "silence", "confirm", "clinician_bolus",
                   "titrate", "program", "tci_target")  # fmt: skip


class _Either:
    """Reads an amount (``parse_amount`` kind) or else a plain quantity (``parse`` kind)."""

    def __init__(self, amount_kind: str, plain_kind: str, example: str) -> None:
        self.amount_kind, self.plain_kind, self.example = amount_kind, plain_kind, example

    def read(self, value: Any) -> Amount | float:
        if isinstance(value, Amount):
            return value
        try:
            return parse_amount(value, self.amount_kind)
        except UnitError:
            pass
        try:
            return parse(value, self.plain_kind)
        except UnitError:
            raise UnitError(
                f"{value!r} is neither a {self.amount_kind.replace('_', ' ')} nor a "
                f"{self.plain_kind}; write e.g. {self.example}"
            ) from None

    def write(self, value: Amount | float) -> str:
        if isinstance(value, Amount):
            return format_amount(value, self.amount_kind)
        return format_quantity(value, self.plain_kind)


_DOSE = _Either("dose", "volume", "'1 mg', '0.1 mg/kg' or '2 mL'")
_RATE = _Either("dose_rate", "flow", "'1 mg/h' or '2 mL/h'")
#: a dose (``"1 mg"``, ``"0.1 mg/kg"``, an :class:`~pumpsim.units.Amount`) or a volume [mL]
DoseOrVolume = Annotated[
    Amount | float, BeforeValidator(_DOSE.read), PlainSerializer(_DOSE.write, return_type=str),
    written_schema("dose or volume", _DOSE.example),
]
#: a dose rate (an :class:`~pumpsim.units.Amount` per s) or a flow [mL/s]
RateOrDoseRate = Annotated[
    Amount | float, BeforeValidator(_RATE.read), PlainSerializer(_RATE.write, return_type=str),
    written_schema("dose rate or flow", _RATE.example),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _value(v: Amount | float | None) -> float:
    return 0.0 if v is None else (v.value if isinstance(v, Amount) else float(v))


def _check_positive(**values: Amount | float | None) -> None:
    for name, v in values.items():
        if v is not None and _value(v) <= 0:
            raise ValueError(f"{name} must be greater than zero")


def _check_non_negative(**values: Amount | float | None) -> None:
    for name, v in values.items():
        if v is not None and _value(v) < 0:
            raise ValueError(f"{name} must not be negative")


class LoadingStep(_Model):
    """``mode: loading``: ``loading_dose`` over ``loading_time``, then maintenance at
    ``rate`` or ``dose_rate`` until ``vtbi`` (the loading dose included) or for ``duration``."""

    mode: Literal["loading"]
    at: Time | None = None
    loading_dose: DoseOrVolume
    loading_time: Time
    rate: Flow | None = None
    dose_rate: DoseRate | None = None
    vtbi: Volume | None = None
    duration: Time | None = None

    @model_validator(mode="after")
    def _valid(self) -> LoadingStep:
        if (self.rate is None) == (self.dose_rate is None):
            raise ValueError("give exactly one maintenance 'rate' (e.g. '2 mL/h') or 'dose_rate'")
        if self.vtbi is not None and self.duration is not None:
            raise ValueError("give at most one of 'vtbi' and 'duration'")
        _check_positive(loading_dose=self.loading_dose, loading_time=self.loading_time,
                        vtbi=self.vtbi, duration=self.duration)  # fmt: skip
        _check_non_negative(at=self.at, rate=self.rate, dose_rate=self.dose_rate)
        return self


class IntermittentStep(_Model):
    """``mode: intermittent``: ``dose`` over ``over`` (or at ``rate``) every ``every``,
    ``count`` times (absent: until the scenario ends); ``between`` doses KVO or stop."""

    mode: Literal["intermittent"]
    at: Time | None = None
    dose: DoseOrVolume
    over: Time | None = None
    rate: Flow | None = None
    every: Time
    count: int | None = Field(default=None, ge=1)
    between: Literal["kvo", "stop"] = "kvo"

    @model_validator(mode="after")
    def _valid(self) -> IntermittentStep:
        if (self.over is None) == (self.rate is None):
            raise ValueError("give exactly one of 'over' (e.g. '30 min') or 'rate'")
        _check_positive(dose=self.dose, over=self.over, rate=self.rate, every=self.every)
        _check_non_negative(at=self.at)
        if self.over is not None and self.over >= self.every:
            raise ValueError("'over' must be shorter than 'every'")
        return self


class PcaLimit(_Model):
    """At most ``dose`` (an amount or a volume) in any ``window``."""

    dose: DoseOrVolume
    window: Time

    @model_validator(mode="after")
    def _valid(self) -> PcaLimit:
        _check_positive(dose=self.dose, window=self.window)
        return self


class PcaStep(_Model):
    """``mode: pca``: ``demand_dose`` on each accepted press, ``lockout`` from the start of a
    demand dose, an optional ``basal``, an optional ``limit`` over a rolling window, an
    optional ``max_demands`` per hour; for ``duration`` or until the scenario ends."""

    mode: Literal["pca"]
    at: Time | None = None
    demand_dose: DoseOrVolume
    lockout: Time
    limit: PcaLimit | None = None
    basal: RateOrDoseRate | None = None
    max_demands: int | None = Field(default=None, ge=1)
    duration: Time | None = None

    @model_validator(mode="after")
    def _valid(self) -> PcaStep:
        _check_positive(demand_dose=self.demand_dose, lockout=self.lockout,
                        duration=self.duration)  # fmt: skip
        _check_non_negative(at=self.at, basal=self.basal)
        return self


class TaperStep(_Model):
    """``mode: taper`` (ramp and taper): ``up`` rising and ``down`` falling in ``increments``
    steps each, a plateau at ``rate``/``dose_rate`` — or the plateau that gives ``vtbi`` —
    for ``duration`` in all."""

    mode: Literal["taper"]
    at: Time | None = None
    rate: Flow | None = None
    dose_rate: DoseRate | None = None
    vtbi: Volume | None = None
    duration: Time
    up: Time = 0.0
    down: Time = 0.0
    increments: int = Field(default=4, ge=1, le=20)

    @model_validator(mode="after")
    def _valid(self) -> TaperStep:
        given = [x is not None for x in (self.rate, self.dose_rate, self.vtbi)]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'rate', 'dose_rate' (the plateau) or 'vtbi'")
        _check_positive(duration=self.duration, vtbi=self.vtbi, rate=self.rate,
                        dose_rate=self.dose_rate)  # fmt: skip
        _check_non_negative(at=self.at, up=self.up, down=self.down)
        if self.up + self.down >= self.duration:
            raise ValueError("'up' and 'down' must add up to less than 'duration'")
        return self


class SecondaryStep(_Model):
    """``mode: secondary`` (piggyback): at ``at``, ``vtbi`` at ``rate``/``dose_rate``; the
    primary pauses and resumes where it was."""

    mode: Literal["secondary"]
    at: Time
    rate: Flow | None = None
    dose_rate: DoseRate | None = None
    vtbi: Volume

    @model_validator(mode="after")
    def _valid(self) -> SecondaryStep:
        if (self.rate is None) == (self.dose_rate is None):
            raise ValueError("give exactly one of 'rate' (e.g. '100 mL/h') or 'dose_rate'")
        _check_positive(vtbi=self.vtbi, rate=self.rate, dose_rate=self.dose_rate)
        _check_non_negative(at=self.at)
        return self


# -- operator and patient events -------------------------------------------------------


class _Input(_Model):
    at: Time
    pump: str

    @model_validator(mode="after")
    def _at(self) -> _Input:
        _check_non_negative(at=self.at)
        return self


class PcaPressEvent(_Input):
    """The patient presses the PCA button; with ``every``, again and again until ``until``
    (or the scenario's end)."""

    type: Literal["pca_press"]
    every: Time | None = None
    until: Time | None = None

    @model_validator(mode="after")
    def _repeat(self) -> PcaPressEvent:
        _check_positive(every=self.every)
        if self.until is not None and self.every is None:
            raise ValueError("'until' needs 'every' (e.g. every: 1 min)")
        if self.until is not None and self.until < self.at:
            raise ValueError("'until' must not be before 'at'")
        return self


class StartEvent(_Input):
    """The operator presses start (resume; acknowledges a stop alarm)."""

    type: Literal["start"]


class StopEvent(_Input):
    """The operator stops the infusion (the program is kept)."""

    type: Literal["stop"]


class SilenceEvent(_Input):
    """The operator silences the active alarms (they re-activate after the profile's time)."""

    type: Literal["silence"]


class ConfirmEvent(_Input):
    """The operator confirms a soft-limit override (or acknowledges a repeated alarm)."""

    type: Literal["confirm"]


class ClinicianBolusEvent(_Input):
    """A clinician bolus of ``dose`` (an amount or a volume) on top of the basal, ``over``
    a time or at the pump's bolus rate."""

    type: Literal["clinician_bolus"]
    dose: DoseOrVolume
    over: Time | None = None

    @model_validator(mode="after")
    def _valid(self) -> ClinicianBolusEvent:
        _check_positive(dose=self.dose, over=self.over)
        return self


class TitrateEvent(_Input):
    """The operator changes the rate of the running step (no stop)."""

    type: Literal["titrate"]
    rate: Flow | None = None
    dose_rate: DoseRate | None = None

    @model_validator(mode="after")
    def _valid(self) -> TitrateEvent:
        if (self.rate is None) == (self.dose_rate is None):
            raise ValueError("give exactly one of 'rate' (e.g. '2 mL/h') or 'dose_rate'")
        _check_non_negative(rate=self.rate, dose_rate=self.dose_rate)
        return self


# -- helpers the cross-field checks use ------------------------------------------------


def step_ends(step: Any) -> bool:
    """Does ``step`` end by itself (so a following step without ``at`` can start)?"""
    mode = getattr(step, "mode", "continuous")
    if mode == "intermittent":
        return step.count is not None
    if mode == "taper":
        return True
    return getattr(step, "vtbi", None) is not None or getattr(step, "duration", None) is not None


def step_length(step: Any) -> float | None:
    """Length [s] of ``step`` when it is known without running it."""
    mode = getattr(step, "mode", "continuous")
    if mode == "intermittent":
        return step.every * (step.count - 1) + (step.over or 0.0) if step.count else None
    if getattr(step, "duration", None) is not None:
        return float(step.duration)
    rate, vtbi = getattr(step, "rate", None), getattr(step, "vtbi", None)
    return vtbi / rate if vtbi is not None and rate else None


def _amount_ok(path: str, v: Any, pump: Any, sc: Any, what: str, problems: list) -> bool:
    if not isinstance(v, Amount):
        return True
    conc = pump.concentration
    if conc is None:
        problems.append(Problem(path, f"a {what} in {v.unit} needs the pump's 'concentration'; "
                                      "for plain fluid write a volume such as '2 mL'"))  # fmt: skip
        return False
    if v.unit != conc.unit:
        problems.append(Problem(path, f"is in {v.unit} but the concentration is in {conc.unit}/mL"))
        return False
    if v.per_kg and sc.patient is None:
        problems.append(Problem(path, "is per kg: the scenario needs a patient"))
        return False
    return True


def _flow(v: Any, pump: Any, sc: Any) -> float:
    if not isinstance(v, Amount):
        return float(v)
    weight = sc.patient.weight if (v.per_kg and sc.patient is not None) else 1.0
    return v.value * weight / pump.concentration.value


def _volume(v: Any, pump: Any, sc: Any) -> float:
    return _flow(v, pump, sc)


def check_steps(path: str, steps: list[Any], pump: Any, sc: Any, max_rate: float,
                problems: list, first: int = 0) -> None:  # fmt: skip
    """Units, rates and volumes of program ``steps`` of ``pump`` (any mode); ``first`` is
    the index of ``steps[0]`` in the program (for the field paths)."""
    for j, step in enumerate(steps, start=first):
        spath = f"{path}[{j}]"
        rates: list[tuple[str, float]] = []
        for name in ("rate", "dose_rate", "basal"):
            v = getattr(step, name, None)
            if v is not None and _amount_ok(f"{spath}.{name}", v, pump, sc, "rate", problems):
                rates.append((name, _flow(v, pump, sc)))
        mode = getattr(step, "mode", "continuous")
        if mode == "loading" and _amount_ok(f"{spath}.loading_dose", step.loading_dose, pump,
                                            sc, "dose", problems):  # fmt: skip
            loading = _volume(step.loading_dose, pump, sc)
            rates.append(("loading_dose", loading / step.loading_time))
            if step.vtbi is not None and step.vtbi <= loading:
                problems.append(Problem(f"{spath}.vtbi", f"{step.vtbi:g} mL does not exceed the "
                                        f"{loading:g} mL loading dose it includes"))  # fmt: skip
        if mode == "intermittent" and _amount_ok(f"{spath}.dose", step.dose, pump, sc, "dose",
                                                 problems) and step.over is not None:  # fmt: skip
            rates.append(("over", _volume(step.dose, pump, sc) / step.over))
        if mode == "pca":
            ok = _amount_ok(f"{spath}.demand_dose", step.demand_dose, pump, sc, "dose", problems)
            lim = step.limit
            if lim is not None and _amount_ok(f"{spath}.limit.dose", lim.dose, pump, sc, "dose",
                                              problems) and ok:  # fmt: skip
                if _volume(lim.dose, pump, sc) < _volume(step.demand_dose, pump, sc) * (1 - 1e-9):
                    problems.append(Problem(f"{spath}.limit.dose", "is less than one demand dose"))
        for name, rate in rates:
            if rate > max_rate * (1 + 1e-9):
                problems.append(Problem(
                    f"{spath}.{name}", f"{rate * 3600:.4g} mL/h is above the pump's maximum of "
                    f"{max_rate * 3600:g} mL/h"))  # fmt: skip


def check_operation(sc: Any, max_rate_of: Any, problems: list) -> None:
    """Controller, drug library and care areas, and the operator events of ``sc``."""
    spec = getattr(sc, "controller", None)
    if spec is not None:  # its form only: validating never imports or runs code
        from pumpsim.pump.controller import BUILTIN_CONTROLLERS

        module, sep, name = spec.rpartition(":")
        if spec not in BUILTIN_CONTROLLERS and not (sep and module and name.isidentifier()):
            problems.append(Problem("controller", f"controller {spec!r}: write "
                                    "'package.module:ClassName' or 'file.py:ClassName'"))
    library = None
    lib_spec = getattr(sc, "drug_library", None)
    areas = [(i, p) for i, p in enumerate(sc.pumps) if getattr(p, "care_area", None)]
    if lib_spec is not None or areas:
        from pumpsim.pump.druglib import DrugLibraryError, load_library

        try:
            library = load_library(lib_spec or "builtin")
        except DrugLibraryError as exc:
            problems.append(Problem("drug_library", str(exc)))
        if library is not None:
            for i, p in areas:
                conc = p.concentration.value if p.concentration is not None else None
                try:
                    library.entry(p.drug, p.care_area, conc)
                except DrugLibraryError as exc:
                    field = "concentration" if "concentration" in str(exc) else "care_area"
                    problems.append(Problem(f"pumps[{i}].{field}", str(exc)))
    pumps = {p.id: p for p in sc.pumps}
    for i, ev in enumerate(sc.events):
        path = f"events[{i}]"
        pump = pumps.get(getattr(ev, "pump", None))
        if pump is None or ev.type not in OPERATOR_EVENTS:
            continue
        max_rate = max_rate_of(pump)
        if ev.type == "pca_press":
            steps = list(pump.program)
            steps += [s for e in sc.events if e.type == "program" and e.pump == pump.id
                      for s in e.program]  # fmt: skip
            if not any(getattr(s, "mode", "") == "pca" for s in steps):
                problems.append(Problem(f"{path}.pump", f"pump {pump.id!r} has no 'mode: pca' "
                                                        "step to answer a press"))  # fmt: skip
        elif ev.type == "clinician_bolus":
            _amount_ok(f"{path}.dose", ev.dose, pump, sc, "dose", problems)
        elif ev.type == "titrate":
            v = ev.rate if ev.rate is not None else ev.dose_rate
            name = "rate" if ev.rate is not None else "dose_rate"
            if _amount_ok(f"{path}.{name}", v, pump, sc, "rate", problems):
                if _flow(v, pump, sc) > max_rate * (1 + 1e-9):
                    problems.append(Problem(f"{path}.{name}", f"{_flow(v, pump, sc) * 3600:.4g} "
                                            f"mL/h is above the pump's maximum of "
                                            f"{max_rate * 3600:g} mL/h"))  # fmt: skip
        elif ev.type == "program":
            check_steps(f"{path}.program", list(ev.program), pump, sc, max_rate, problems)
    for i, p in enumerate(sc.pumps):
        bolus_rate = getattr(p.settings, "bolus_rate", None)
        if bolus_rate is not None and bolus_rate > max_rate_of(p) * (1 + 1e-9):
            problems.append(Problem(f"pumps[{i}].settings.bolus_rate",
                                    f"{bolus_rate * 3600:.4g} mL/h is above the pump's maximum "
                                    f"of {max_rate_of(p) * 3600:g} mL/h"))  # fmt: skip


def anchor_paths(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Make a scenario file's relative ``drug_library`` and ``controller`` file paths
    relative to the file's folder (when the file is there), for code that reads a file
    into a mapping before loading it (live sessions, sweeps). Loading the mapping still
    applies :func:`pumpsim.load_scenario`'s rules: no code runs and no file outside the
    working directory is opened unless allowed."""
    out = dict(data)
    lib = out.get("drug_library")
    if isinstance(lib, str) and lib != "builtin" and not Path(lib).is_absolute():
        if (folder / lib).is_file():
            out["drug_library"] = str(folder / lib)
    ctl = out.get("controller")
    if isinstance(ctl, str) and ".py:" in ctl:
        file, _, name = ctl.rpartition(":")
        if not Path(file).is_absolute() and (folder / file).is_file():
            out["controller"] = f"{folder / file}:{name}"
    return out
