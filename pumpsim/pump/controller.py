"""The pump's firmware interface: what a controller is told, and what it may do.

A controller never touches the simulation. It is called back when something
happens and acts only through the :class:`Hardware` it is handed: motor
commands (:meth:`Hardware.set_rate`), timers, volume and pressure watches, its
displayed state, alarms and log records. Every pump kind — ``ideal`` included —
is driven through a controller, so program logic can be tested without physics.
Times are seconds, volumes mL, rates mL/s, pressures mmHg.

Writing your own controller
---------------------------
A controller is any object with the four callbacks of :class:`Controller`,
built by a factory that receives the pump's :class:`PumpConfig` — a class
whose ``__init__`` takes the config is the usual form::

    # mypkg/mymodule.py
    from pumpsim.pump import Hardware, OperatorInput, PumpConfig, SensorEvent

    class MyController:
        def __init__(self, config: PumpConfig) -> None:
            self.step = config.program[0]

        def on_start(self, hw: Hardware) -> None:
            hw.set_rate(self.step.rate)
            hw.set_state("running")

        def on_timer(self, hw: Hardware, name: str) -> None: ...
        def on_sensor(self, hw: Hardware, event: SensorEvent) -> None: ...
        def on_input(self, hw: Hardware, event: OperatorInput) -> None: ...

Run it with ``pumpsim run scenario.yaml --controller mypkg.mymodule:MyController``,
``controller: mypkg.mymodule:MyController`` in the scenario, or
``pumpsim.simulate(sc, controller=MyController)``; check it against the
safety requirements with ``pumpsim verify --controller mypkg.mymodule:MyController``.
A file path works too: ``--controller path/to/my_controller.py:MyController``.

Log vocabulary the requirement oracles read
-------------------------------------------
Oracles (:mod:`pumpsim.analysis.requirements`) judge behaviour from what the
hardware did (flows, alarms raised through :meth:`Hardware.alarm`, displayed
states) and from the operator and patient inputs the engine delivered. A few
requirements are about what the pump records; they read these records, written
with :meth:`Hardware.log`:

=====================  ==========================================================
kind                   details and when
=====================  ==========================================================
``alarm_cleared``      ``alarm``: the alarm of that kind is no longer active
``alarm_silenced``     ``alarm``: its audio is paused (``silence`` input)
``alarm_reactivated``  ``alarm``: a silenced alarm sounds again (GIP 3.2.1)
``pca_request``        ``accepted`` (bool), ``reason``: every patient request
``time_remaining``     ``remaining_s``: at every rate change (GIP 1.5.2-1.5.4)
``ders``               ``field``, ``level``, ``value``, ``limit``: every limit breach
=====================  ==========================================================
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pumpsim.errors import PumpsimError
from pumpsim.pump.druglib import DersEntry, DrugLibrary
from pumpsim.pump.program import Step, resolve_program

__all__ = [
    "Hardware",
    "Controller",
    "ControllerFactory",
    "ControllerError",
    "PumpConfig",
    "ReferenceController",  # noqa: F822 - provided lazily by __getattr__
    "SensorEvent",
    "OperatorInput",
    "load_controller",
    "pump_config",
    "check_log_fields",
    "RESERVED_LOG_FIELDS",
]


@dataclass(frozen=True)
class SensorEvent:
    """Something a sensor reports that the controller did not ask a watch for.

    ``kind`` is e.g. ``"air"`` (a bubble passed the air detector; ``value`` its
    volume [mL]), ``"air_cumulative"`` (rolling-window air volume [mL]),
    ``"door"`` (``value`` 1 open, 0 closed), ``"battery"`` (minutes left, reported when
    mains is lost and as 15 and 5 min are crossed), ``"mains"`` (1 on, 0 off),
    ``"flow"`` (a drop sensor's measured flow [mL/s], averaged over strokes; pumps with
    ``flow_sensor``; reported whenever it changes, :mod:`pumpsim.engine.flowsensor`).
    """

    kind: str
    value: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OperatorInput:
    """An input from a person; ``details`` are canonical numbers.

    =================== ==========================================================
    ``kind``            ``details``
    =================== ==========================================================
    ``pca_press``       (none): the patient pressed the PCA button
    ``start``           (none): start or resume (acknowledges a stop alarm)
    ``stop``            (none): stop the infusion (the program is kept)
    ``silence``         (none): pause the audio of the active alarms
    ``confirm``         (none): acknowledge a soft-limit override or an alarm
    ``clinician_bolus`` ``volume`` [mL], ``duration`` [s] or absent (pump's choice)
    ``titrate``         ``rate`` [mL/s]: new rate of the running step
    ``program``         ``program``: list of :class:`~pumpsim.pump.program.Step`
    =================== ==========================================================
    """

    kind: str
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Hardware(Protocol):
    """What a controller may read and command."""

    @property
    def now(self) -> float:
        """Current time [s]."""
        ...

    @property
    def infused(self) -> float:
        """Volume the mechanism has delivered since the start [mL]."""
        ...

    @property
    def reservoir(self) -> float:
        """Volume left in the syringe or container [mL] (inf for an unlimited source)."""
        ...

    @property
    def rate(self) -> float:
        """Rate the motor is commanded to [mL/s] (0 after :meth:`stop`)."""
        ...

    def set_rate(self, rate: float) -> None:
        """Command the motor to ``rate`` [mL/s] (0 stops it at once)."""
        ...

    def stop(self, complete_stroke: bool = False) -> None:
        """Stop the motor: at once (as ``set_rate(0)``), or with ``complete_stroke`` — a
        normal stop of a stroke pump (GIP 1.6.1) — at the end of the stroke under way. A
        later command (``set_rate(0)`` on an alarm) overrides it. A Hardware of your own may
        implement it as ``set_rate(0)``; controllers that never call it are unaffected."""
        ...

    def set_timer(self, name: str, at: float) -> None:
        """Call ``on_timer(name)`` at time ``at`` [s] (replaces a timer of that name)."""
        ...

    def watch_volume(self, name: str, infused: float) -> None:
        """Call ``on_timer(name)`` when the delivered volume reaches ``infused`` [mL]."""
        ...

    def cancel(self, name: str) -> None:
        """Cancel the timer or volume watch ``name`` if it is pending."""
        ...

    def pressure(self, side: str = "downstream") -> float:
        """Line pressure sensed on ``side`` [mmHg] (0 where the pump has no sensor)."""
        ...

    def watch_pressure(self, name: str, limit: float, side: str = "downstream") -> None:
        """Call ``on_timer(name)`` when the ``side`` pressure reaches ``limit`` [mmHg]."""
        ...

    def set_state(self, state: str) -> None:
        """The state the pump shows (idle, running, paused, alarm, kvo, complete...)."""
        ...

    def alarm(self, kind: str, priority: str, message: str = "") -> None:
        """Raise an alarm of ``priority`` (high, medium, low)."""
        ...

    def log(self, kind: str, /, **details: Any) -> None:
        """Write a record ``kind`` with ``details`` to the event log. Detail names must not be
        one of :data:`RESERVED_LOG_FIELDS` (the record's own fields): a
        :class:`ControllerError` says which."""
        ...


class Controller(Protocol):
    """The firmware interface a user's controller implements."""

    def on_start(self, hw: Hardware) -> None:
        """The simulation starts."""
        ...

    def on_timer(self, hw: Hardware, name: str) -> None:
        """A timer, volume watch or pressure watch set through ``hw`` fired."""
        ...

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        """A sensor reports something (air bubble, door, battery...)."""
        ...

    def on_input(self, hw: Hardware, event: OperatorInput) -> None:
        """A person pressed something (PCA button, start, stop, silence...)."""
        ...


#: field names of an event record itself (``events.jsonl``): ``hw.log`` refuses them as details
RESERVED_LOG_FIELDS = frozenset({"time_s", "source", "kind", "details"})


def check_log_fields(kind: str, details: Mapping[str, Any]) -> None:
    """Refuse a ``hw.log`` record whose detail names collide with the record's own fields.

    Raises
    ------
    ControllerError
        One line: the record kind, the colliding names and what is allowed.
    """
    clash = sorted(RESERVED_LOG_FIELDS.intersection(details))
    if clash:
        raise ControllerError(
            f"hw.log({kind!r}, ...): detail name(s) {', '.join(clash)} are reserved for the "
            f"event record itself ({', '.join(sorted(RESERVED_LOG_FIELDS))}); rename them, "
            "e.g. 'at_s' for a time"
        )


ControllerFactory = Callable[["PumpConfig"], Controller]
"""Builds a pump's controller from its :class:`PumpConfig` (a controller class is one)."""


class ControllerError(PumpsimError):
    """A controller that cannot be loaded (one line: what was asked, what went wrong)."""


@dataclass(frozen=True)
class PumpConfig:
    """What a controller is told about its pump when it is built (canonical units).

    Attributes
    ----------
    pump_id : str
    program : tuple of Step
        The resolved program (:mod:`pumpsim.pump.program`).
    kind : str
        Mechanism: ideal, syringe, volumetric, elastomeric.
    drug : str
    concentration : float or None
        Amount per mL (mg/mL or IU/mL); None for plain fluid.
    amount_unit : str or None
        ``"mg"`` or ``"IU"``.
    weight : float or None
        Patient weight [kg].
    reservoir : float
        Volume loaded [mL] (inf for an unlimited source).
    max_rate : float
        Highest rate the pump may run [mL/s].
    kvo_rate : float
        Keep-vein-open rate [mL/s].
    vtbi_end : {"stop", "kvo", "continue"}
    bolus_rate : float or None
        Rate of a demand or clinician bolus [mL/s]; None: ``max_rate``.
    alarm_profile : {"GIP", "OPCA", "CRISYS"}
        Requirement set whose alarm parameters apply (silence, reservoir thresholds).
    occlusion_limit : float or None
        Downstream occlusion pressure limit [mmHg].
    air_limit : float or None
        Single-bubble air limit [mL].
    ders : DersEntry or None
        The drug-library entry for this drug, concentration and care area.
    settings : mapping
        Every pump setting the scenario gave, canonical, by name (including any
        this version does not name above).
    covariates : object or None
        The patient as keyed into the pump (age, weight, height, sex...: a
        :class:`pumpsim.pk.Covariates`); a TCI pump builds its own model from it.
    """

    pump_id: str
    program: tuple[Step, ...]
    kind: str = "ideal"
    drug: str = "fluid"
    concentration: float | None = None
    amount_unit: str | None = None
    weight: float | None = None
    reservoir: float = math.inf
    max_rate: float = 1200.0 / 3600.0
    kvo_rate: float = 1.0 / 3600.0
    vtbi_end: str = "stop"
    bolus_rate: float | None = None
    alarm_profile: str = "GIP"
    occlusion_limit: float | None = None
    air_limit: float | None = None
    ders: DersEntry | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    covariates: Any = None


def pump_config(
    pump: Any,
    weight: float | None = None,
    library: DrugLibrary | None = None,
    program: list[Step] | None = None,
    default_max_rate: float = 1200.0 / 3600.0,
    covariates: Any = None,
) -> PumpConfig:
    """The :class:`PumpConfig` of a scenario pump (:class:`pumpsim.scenario.schema.Pump`).

    ``library`` is the drug library when the pump names a ``care_area``.

    Raises
    ------
    DrugLibraryError
        The pump's drug, concentration or care area is not in the library.
    """
    s = pump.settings
    conc = pump.concentration
    ders = None
    care_area = getattr(pump, "care_area", None)
    if library is not None and care_area is not None:
        ders = library.entry(pump.drug, care_area, conc.value if conc is not None else None)
    reservoir = pump.reservoir
    settings = {k: v for k, v in dict(s).items() if v is not None}  # canonical floats, not strings
    return PumpConfig(
        pump_id=pump.id,
        program=tuple(program if program is not None else resolve_program(pump, weight)),
        kind=pump.kind,
        drug=pump.drug,
        concentration=conc.value if conc is not None else None,
        amount_unit=conc.unit if conc is not None else None,
        weight=weight,
        reservoir=reservoir if reservoir is not None else math.inf,
        max_rate=s.max_rate or default_max_rate,
        kvo_rate=s.kvo_rate if s.kvo_rate is not None else 1.0 / 3600.0,
        vtbi_end=s.vtbi_end,
        bolus_rate=getattr(s, "bolus_rate", None),
        alarm_profile=getattr(s, "alarm_profile", "GIP"),
        occlusion_limit=s.occlusion_limit,
        air_limit=s.air_limit,
        ders=ders,
        settings=settings,
        covariates=covariates,
    )


#: short names ``load_controller`` accepts besides ``module:Name``
BUILTIN_CONTROLLERS = {
    "reference": "pumpsim.pump.reference:ReferenceController",
    "faulty-lockout": "pumpsim.pump.faulty:LockoutIgnoringController",
    "faulty-occlusion": "pumpsim.pump.faulty:OcclusionIgnoringController",
    "faulty-hard-limit": "pumpsim.pump.faulty:HardLimitIgnoringController",
    "faulty-under-infusion": "pumpsim.pump.faulty:UnderInfusionIgnoringController",
    "tci": "pumpsim.pump.tci:TciController",
    "pid-bis": "pumpsim.pump.closed_loop:BisPidController",
    "tci-bis": "pumpsim.pump.closed_loop:BisTciController",
}


#: controller specs served by an adapter outside ``pump/``: prefix -> its factory, imported on use
CONTROLLER_SCHEMES = {
    "exec:": "pumpsim.connect.external:controller_factory",
    "tcp://": "pumpsim.connect.external:controller_factory",
    "fmu:": "pumpsim.connect.fmi:controller_factory",
}


def load_controller(spec: str) -> ControllerFactory:
    """Import a controller factory named ``"package.module:Name"`` (or
    ``"path/to/file.py:Name"``, or a short name in :data:`BUILTIN_CONTROLLERS`), or
    reach one in another process: ``"exec:./my_firmware args"``, ``"tcp://127.0.0.1:PORT"``
    (:data:`CONTROLLER_SCHEMES`, :mod:`pumpsim.connect.external`), or a co-simulation
    FMU: ``"fmu:path/to/controller.fmu"`` (:mod:`pumpsim.connect.fmi`).

    The object found is called with each pump's :class:`PumpConfig` and must
    return a :class:`Controller`; a controller class is such a factory.

    Raises
    ------
    ControllerError
        One line: the spec and why it cannot be loaded.
    """
    for prefix, adapter in CONTROLLER_SCHEMES.items():  # exec:CMD, tcp://HOST:PORT
        if spec.startswith(prefix):
            module_name, _, attr = adapter.partition(":")
            return getattr(importlib.import_module(module_name), attr)(spec)  # type: ignore[no-any-return]
    target = BUILTIN_CONTROLLERS.get(spec, spec)
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise ControllerError(
            f"controller {spec!r}: write 'package.module:ClassName' or 'file.py:ClassName'"
        )
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise ControllerError(f"controller {spec!r}: no such file {module_name}")
            name = f"pumpsim_user_controller_{path.stem}"
            loader_spec = importlib.util.spec_from_file_location(name, path)
            assert loader_spec is not None and loader_spec.loader is not None
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[name] = module
            loader_spec.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))
            module = importlib.import_module(module_name)
    except ControllerError:
        raise
    except Exception as exc:
        raise ControllerError(
            f"controller {spec!r}: cannot import {module_name}: {type(exc).__name__}: {exc}"
        ) from None
    try:
        factory = getattr(module, attr)
    except AttributeError:
        raise ControllerError(f"controller {spec!r}: {module_name} has no {attr!r}") from None
    if not callable(factory):
        raise ControllerError(f"controller {spec!r}: {attr} is not a class or a callable")
    return factory  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    # ReferenceController lives in pumpsim.pump.reference; it is importable from here too
    if name == "ReferenceController":
        from pumpsim.pump.reference import ReferenceController

        return ReferenceController
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
