"""The lock-step protocol between pumpsim and a controller in another process (version 1).

A controller outside Python sees exactly what a Python plug-in controller
(:class:`pumpsim.pump.controller.Controller`) sees and may do exactly what it may
do, through JSON lines: one JSON object per line, UTF-8, ending in ``\\n``. The
engine speaks first; the controller answers every message (except ``bye``) before
sim time moves on, so a run through the protocol is as deterministic as one in
process. Units are pumpsim's canonical units: seconds, mL, mL/s, mmHg.

Engine → controller
-------------------
``hello``
    ``{"type": "hello", "protocol": 1, "pumpsim": "<version>"}``; answer
    ``{"type": "hello", "protocol": 1, "name": "<your controller's name>"}``.
``new``
    ``{"type": "new", "id": 1, "config": {...}}``: build the controller of one pump
    (the Python factory's call with a :class:`~pumpsim.pump.controller.PumpConfig`).
    ``id`` names this controller in every later ``call``; one connection serves
    every pump of every run it is used for. ``config`` holds the fields of
    :class:`PumpConfig` by name (see :func:`config_to_json`). Answer ``done`` with no
    commands.
``call``
    ``{"type": "call", "id": 1, "cb": "start" | "timer" | "sensor" | "input",
    "hw": {...}, ...}``: a callback. ``timer`` adds ``"name"``; ``sensor`` adds
    ``"event": {"kind", "value", "details"}``; ``input`` adds
    ``"event": {"kind", "details"}`` (a ``program`` input's ``details.program`` is a
    list of steps shaped as in ``config``). ``hw`` is the :data:`HW_FIELDS` snapshot
    of what the controller may read, taken when the callback starts.
``hw``
    ``{"type": "hw", "hw": {...}}``: the answer to a ``sync``.
``bye``
    ``{"type": "bye"}``: the engine is done; exit (or, on TCP, close). No answer.

Controller → engine
-------------------
``done``
    ``{"type": "done", "cmds": [...]}``: apply these commands in order; the callback
    has returned.
``sync``
    ``{"type": "sync", "cmds": [...]}``: apply these commands now and send fresh
    ``hw`` readings (what a Python controller gets by reading ``hw.infused`` after
    ``hw.set_rate``). Any number of ``sync`` may precede the ``done``.
``error``
    ``{"type": "error", "message": "..."}``: the controller failed; the run stops
    with this message and the controller's name.

Commands (:data:`COMMANDS`) are arrays, the Hardware method's name then its
arguments in order: ``["set_rate", 0.0013]``, ``["stop", true]``,
``["set_timer", "phase", 3600.0]``, ``["watch_volume", "vtbi", 20.0]``,
``["cancel", "phase"]``, ``["watch_pressure", "occlusion", 300.0, "downstream"]``,
``["set_state", "running"]``, ``["alarm", "occlusion", "high", "text"]``,
``["log", "time_remaining", {"remaining_s": 3600.0}]``.

Numbers are JSON numbers, written so that they read back to the same double
(shortest round-trip form, or ``%.17g`` in C). An unlimited reservoir is ``null``;
any other non-finite number is written ``Infinity``, ``-Infinity`` or ``NaN`` as
Python's :mod:`json` does.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from pumpsim.errors import PumpsimError
from pumpsim.pump.controller import OperatorInput, PumpConfig, SensorEvent
from pumpsim.pump.druglib import DersEntry, Limits, PcaLimits
from pumpsim.pump.program import (
    IntermittentStep,
    LoadingStep,
    PcaStep,
    SecondaryStep,
    Step,
    TaperStep,
    TciStep,
)

__all__ = [
    "PROTOCOL_VERSION",
    "COMMANDS",
    "HW_FIELDS",
    "CALLBACKS",
    "ProtocolError",
    "encode",
    "decode",
    "config_to_json",
    "config_from_json",
    "step_to_json",
    "step_from_json",
    "sensor_to_json",
    "sensor_from_json",
    "input_to_json",
    "input_from_json",
    "jsonable",
]

PROTOCOL_VERSION = 1

#: callbacks a ``call`` names, and the Controller method each one is
CALLBACKS: dict[str, str] = {
    "start": "on_start",
    "timer": "on_timer",
    "sensor": "on_sensor",
    "input": "on_input",
}

#: the Hardware readings in every ``hw`` snapshot [s, mL, mL (null: unlimited), mL/s, mmHg, mmHg]
HW_FIELDS = ("now", "infused", "reservoir", "rate", "pressure_downstream", "pressure_upstream")

_NUM = (int, float)
#: command name -> the types of its arguments, in order (a bool is not a number here)
COMMANDS: dict[str, tuple[tuple[type, ...], ...]] = {
    "set_rate": (_NUM,),
    "stop": ((bool,),),
    "set_timer": ((str,), _NUM),
    "watch_volume": ((str,), _NUM),
    "cancel": ((str,),),
    "watch_pressure": ((str,), _NUM, (str,)),
    "set_state": ((str,),),
    "alarm": ((str,), (str,), (str,)),
    "log": ((str,), (dict,)),
}
#: trailing arguments a controller may leave out, with the value the engine uses
OPTIONAL: dict[str, tuple[Any, ...]] = {
    "stop": (False,),
    "watch_pressure": ("downstream",),
    "alarm": ("",),
    "log": ({},),
}


class ProtocolError(PumpsimError):
    """A message that breaks the protocol (one line: what arrived, what is allowed)."""


def jsonable(value: Any) -> Any:
    """What pumpsim's event log writes for a value JSON has no type for (numpy scalars
    and arrays as numbers and lists, anything else as its ``str``)."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    return str(value)


def encode(message: Mapping[str, Any]) -> bytes:
    """One message as a line of JSON (UTF-8, ``\\n`` at the end)."""
    return (json.dumps(message, separators=(",", ":"), default=jsonable) + "\n").encode()


def decode(line: bytes, expected: tuple[str, ...]) -> dict[str, Any]:
    """A line read from the other side, checked to be an object of one of ``expected`` types."""
    try:
        msg = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not a JSON line ({exc}): {_clip(line)}") from None
    if not isinstance(msg, dict) or msg.get("type") not in expected:
        raise ProtocolError(f"expected a message of type {' or '.join(expected)}, got "
                            f"{_clip(line)}")  # fmt: skip
    return msg


def _clip(line: bytes, n: int = 200) -> str:
    text = line.decode("utf-8", "replace").rstrip("\n")
    return text if len(text) <= n else text[:n] + "..."


def check_command(cmd: Any) -> tuple[str, list[Any]]:
    """``(name, arguments)`` of one command, defaults filled in; raises :class:`ProtocolError`."""
    if not isinstance(cmd, list) or not cmd or cmd[0] not in COMMANDS:
        raise ProtocolError(f"command {json.dumps(cmd, default=str)[:120]}: a command is "
                            f"[name, args...] with name one of {', '.join(COMMANDS)}")  # fmt: skip
    name, args = cmd[0], list(cmd[1:])
    types = COMMANDS[name]
    optional = OPTIONAL.get(name, ())
    missing = len(types) - len(args)
    if missing < 0 or missing > len(optional):
        raise ProtocolError(f"command {name}: takes {len(types)} argument(s), got {len(args)}")
    if missing:
        args += list(optional[len(optional) - missing :])
    for i, (arg, allowed) in enumerate(zip(args, types, strict=True)):
        if not isinstance(arg, allowed) or (allowed is _NUM and isinstance(arg, bool)):
            kinds = "number" if allowed is _NUM else allowed[0].__name__
            raise ProtocolError(f"command {name}: argument {i + 1} must be a {kinds}, "
                                f"got {json.dumps(arg, default=str)[:60]}")  # fmt: skip
    return name, args


# -- steps, configs and events as JSON ---------------------------------------------------
#: program step classes by ``mode`` (any other mode is a plain :class:`Step`)
STEP_CLASSES: dict[str, type[Step]] = {
    "loading": LoadingStep,
    "intermittent": IntermittentStep,
    "pca": PcaStep,
    "taper": TaperStep,
    "secondary": SecondaryStep,
    "tci": TciStep,
}


def step_to_json(step: Step) -> dict[str, Any]:
    """A resolved program step as an object: ``mode`` and every field of its class."""
    return {f.name: getattr(step, f.name) for f in dataclasses.fields(step)}


def step_from_json(data: Mapping[str, Any]) -> Step:
    """The step :func:`step_to_json` wrote."""
    cls = STEP_CLASSES.get(str(data.get("mode")), Step)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ProtocolError(f"step {data.get('mode')!r}: unknown field(s) {sorted(unknown)}")
    return cls(**data)


def _limits(data: Mapping[str, Any] | None) -> Limits | None:
    return Limits(**data) if data is not None else None


def _ders_from_json(data: Mapping[str, Any] | None) -> DersEntry | None:
    if data is None:
        return None
    pca = data.get("pca")
    pca_limits = None
    if pca is not None:
        pca_limits = PcaLimits(
            demand=_limits(pca.get("demand")), lockout=_limits(pca.get("lockout")),
            limit=_limits(pca.get("limit")), window=pca.get("window"),
            basal=_limits(pca.get("basal")),
        )  # fmt: skip
    return DersEntry(drug=data["drug"], care_area=data["care_area"],
                     concentration=data.get("concentration"), amount_unit=data.get("amount_unit"),
                     continuous=_limits(data.get("continuous")), bolus=_limits(data.get("bolus")),
                     pca=pca_limits)  # fmt: skip


def config_to_json(config: PumpConfig) -> dict[str, Any]:
    """A pump's :class:`PumpConfig` as the ``config`` object of ``new``.

    Every field by name; ``program`` a list of steps (:func:`step_to_json`),
    ``ders`` the drug-library entry (nested objects) or null, ``reservoir`` null
    when unlimited, ``settings`` an object of the scenario's canonical settings.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name == "program":
            value = [step_to_json(s) for s in value]
        elif f.name == "ders":
            value = dataclasses.asdict(value) if value is not None else None
        elif f.name == "settings":
            value = dict(value)
        elif f.name == "reservoir" and math.isinf(value):
            value = None
        elif f.name == "covariates" and value is not None:
            value = dataclasses.asdict(value)  # the patient as keyed in (a TCI pump's model)
        out[f.name] = value
    return out


def config_from_json(data: Mapping[str, Any]) -> PumpConfig:
    """The :class:`PumpConfig` that :func:`config_to_json` wrote."""
    fields = dict(data)
    fields["program"] = tuple(step_from_json(s) for s in fields.get("program", ()))
    fields["ders"] = _ders_from_json(fields.get("ders"))
    if fields.get("reservoir", 0.0) is None:
        fields["reservoir"] = math.inf
    if isinstance(fields.get("covariates"), Mapping):
        from pumpsim.pk.covariates import Covariates

        fields["covariates"] = Covariates(**fields["covariates"])
    names = {f.name for f in dataclasses.fields(PumpConfig)}
    unknown = set(fields) - names
    if unknown:
        raise ProtocolError(f"config: unknown field(s) {sorted(unknown)}")
    return PumpConfig(**fields)


def sensor_to_json(event: SensorEvent) -> dict[str, Any]:
    return {"kind": event.kind, "value": event.value, "details": dict(event.details)}


def sensor_from_json(data: Mapping[str, Any]) -> SensorEvent:
    return SensorEvent(data["kind"], data.get("value", 0.0), dict(data.get("details") or {}))


def input_to_json(event: OperatorInput) -> dict[str, Any]:
    details = dict(event.details)
    if "program" in details:
        details["program"] = [step_to_json(s) for s in details["program"]]
    return {"kind": event.kind, "details": details}


def input_from_json(data: Mapping[str, Any]) -> OperatorInput:
    details = dict(data.get("details") or {})
    if "program" in details:
        details["program"] = [step_from_json(s) for s in details["program"]]
    return OperatorInput(data["kind"], details)
