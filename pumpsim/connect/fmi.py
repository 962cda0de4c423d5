"""FMI 2.0 co-simulation, both directions (the ``fmi`` extra: FMPy and pythonfmu).

Export — ``pumpsim fmu export SCENARIO --out plant.fmu`` (:func:`export_plant`)
    packages the mechanism, line and patient of the scenario's first pump as a
    co-simulation FMU built with pythonfmu (slave: :mod:`pumpsim.connect.fmi_plant`,
    the scenario embedded as the resource ``scenario.json``). Input ``motor_rate``
    [mL/h] drives the motor (through :class:`RateFollower`, a controller whose rate
    the FMU sets before each step); outputs are in :data:`PLANT_OUTPUTS`. Each
    ``fmi2DoStep`` advances pumpsim's own engine (:meth:`Simulation.advance`). The
    FMU runs on the host's Python: that Python must have pumpsim and pythonfmu
    installed.

Import — ``--controller fmu:path/to/controller.fmu`` (:func:`controller_factory`)
    runs a controller FMU (FMPy, co-simulation) inside the simulated pump through
    the variable mapping :data:`FMU_INPUTS` / :data:`FMU_OUTPUTS` (see the README's
    "FMI 2.0 co-simulation"). :class:`FmuController` steps the FMU on a fixed
    communication step (``?step=S``, default :data:`DEFAULT_STEP` s) and at every
    callback the engine makes (sensor events, operator inputs, the watches below).
"""

from __future__ import annotations

import importlib
import json
import math
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pumpsim.errors import PumpsimError
from pumpsim.pump.controller import (
    ControllerError,
    Hardware,
    OperatorInput,
    PumpConfig,
    SensorEvent,
)

__all__ = [
    "DEFAULT_STEP",
    "FMU_INPUTS",
    "FMU_OUTPUTS",
    "PLANT_OUTPUTS",
    "STATE_CODES",
    "FmuController",
    "FmuFactory",
    "Plant",
    "RateFollower",
    "controller_factory",
    "export_plant",
]

#: default communication step of an imported controller FMU [s]
DEFAULT_STEP = 1.0
#: reservoir reported to a controller FMU for an unlimited source [mL]
UNLIMITED = 1e9

#: plant FMU outputs: FMI name -> (read_now column template, description)
PLANT_OUTPUTS = {
    "flow": ("pump.{id}.flow[mL/h]", "delivered flow at the catheter tip [mL/h]"),
    "infused": ("pump.{id}.infused[mL]", "volume the mechanism delivered [mL]"),
    "pressure": ("pump.{id}.pressure[mmHg]", "downstream line pressure [mmHg]"),
    "reservoir": ("pump.{id}.reservoir[mL]", "volume left [mL]"),
    "plasma": ("patient.{drug}.plasma[{unit}]", "plasma concentration (drug's unit)"),
}

#: controller FMU inputs pumpsim sets (any subset the FMU declares; Real, Integer or Boolean)
FMU_INPUTS = {
    "time": "sim time [s]",
    "pressure_downstream": "downstream line pressure [mmHg]",
    "pressure_upstream": "upstream line pressure [mmHg]",
    "infused": "volume delivered by the mechanism since the run started [mL]",
    "infused_program": "volume delivered since the current program was set [mL]",
    "reservoir": f"volume left [mL] ({UNLIMITED:g} for an unlimited source)",
    "occlusion": "1 while the downstream pressure is at or above the pump's occlusion_limit",
    "air": "1 once a bubble at or above the pump's air_limit passed (latched until start)",
    "air_cumulative": "rolling-window air volume [mL]",
    "door": "1 while the door is open",
    "mains": "1 on mains power, 0 on battery",
    "battery": "battery minutes left (reported on mains loss)",
    "start": "1 for the step that follows an operator start, else 0",
    "stop": "1 for the step that follows an operator stop, else 0",
    "silence": "1 for the step that follows an operator silence, else 0",
    "confirm": "1 for the step that follows an operator confirm, else 0",
    "program_rate": "programmed rate [mL/h] (first step; program and titrate inputs update it)",
    "vtbi": "volume to be infused [mL] (0 when the program sets none)",
}

#: controller FMU outputs pumpsim reads: name -> (alarm kind or None, default priority)
FMU_OUTPUTS: dict[str, tuple[str | None, str | None]] = {
    "motor_rate": (None, None),
    "state": (None, None),
    "alarm_occlusion": ("occlusion", "high"),
    "alarm_occlusion_upstream": ("occlusion_upstream", "high"),
    "alarm_air": ("air_in_line", "high"),
    "alarm_door": ("door_open", "high"),
    "alarm_reservoir_empty": ("reservoir_empty", "high"),
    "alarm_near_empty": ("near_empty", "low"),
    "alarm_vtbi_complete": ("vtbi_complete", "medium"),
    "alarm_battery_low": ("battery_low", "medium"),
    "alarm_battery_depleted": ("battery_depleted", "high"),
}

#: ``state`` output code -> displayed state
STATE_CODES = ("idle", "running", "paused", "alarm", "kvo", "complete")
#: Integer alarm output value -> priority (a Boolean or Real 1 takes the default priority)
PRIORITY_CODES = {1: "low", 2: "medium", 3: "high"}


class FmiError(PumpsimError):
    """An FMU that cannot be exported, loaded or stepped (one line: which, and why)."""


def _fmi_import(what: str, module: str = "fmpy") -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise FmiError(f'{what} needs the fmi extra: pip install "pumpsim[fmi]" ({exc})') from None


# == export: the plant ==========================================================================
class RateFollower:
    """A controller that runs the motor at :attr:`rate` [mL/s], set from outside (open loop)."""

    def __init__(self, config: PumpConfig | None = None, rate: float = 0.0) -> None:
        self.rate = rate
        self.hw: Hardware | None = None

    def on_start(self, hw: Hardware) -> None:
        self.hw = hw
        hw.set_rate(self.rate)
        hw.set_state("running")

    def set(self, rate: float) -> None:
        """Command ``rate`` [mL/s] now (between two advances of the run)."""
        if rate != self.rate:
            self.rate = rate
            if self.hw is not None:
                self.hw.set_rate(rate)

    def on_timer(self, hw: Hardware, name: str) -> None: ...
    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None: ...
    def on_input(self, hw: Hardware, event: OperatorInput) -> None: ...


def plant_scenario(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario a plant FMU embeds: the first pump only, driven by the FMU input
    (no ``controller``, ``variants`` or ``compare``; events aimed at other pumps dropped)."""
    sc = json.loads(json.dumps(dict(raw)))
    pumps = sc.get("pumps") or []
    if not pumps:
        raise FmiError("fmu export: the scenario has no pump (pumps: at least one)")
    first = pumps[0]
    sc["pumps"] = [first]
    for key in ("controller", "variants", "compare"):
        sc.pop(key, None)
    sc["events"] = [ev for ev in sc.get("events") or []
                    if ev.get("pump", first.get("id")) == first.get("id")]  # fmt: skip
    return sc


class Plant:
    """A scenario's first pump, line and patient advanced step by step at a commanded rate."""

    def __init__(self, scenario: Mapping[str, Any], until: float | None = None) -> None:
        """``until``: run to at least this time [s] (the master's stop time), extending the
        scenario's duration if it is shorter."""
        from pumpsim.engine.simulation import Simulation
        from pumpsim.scenario import load_scenario

        sc = load_scenario(dict(scenario))
        if until is not None and until > float(sc.duration):  # type: ignore[arg-type]
            sc = load_scenario({**scenario, "duration": f"{float(until)!r} s"})
        self.follower = RateFollower()
        self.sim = Simulation(sc, controller=lambda config: self.follower)
        pump = sc.pumps[0]
        ch = self.sim.patient.channels.get(pump.drug)
        unit = ch.drug.plasma_unit if ch is not None else ""
        self.columns = {name: col.format(id=pump.id, drug=pump.drug, unit=unit)
                        for name, (col, _) in PLANT_OUTPUTS.items()}  # fmt: skip
        self.started = False

    def start(self, rate_ml_h: float) -> None:
        self.follower.rate = max(0.0, rate_ml_h) / 3600.0
        self.sim.start()
        self.started = True

    def set_rate(self, rate_ml_h: float) -> None:
        self.follower.set(max(0.0, rate_ml_h) / 3600.0)

    def advance(self, until: float) -> bool:
        """Advance to ``until`` [s]; False past the scenario's duration."""
        return self.sim.advance(until) >= until - 1e-9

    def outputs(self) -> dict[str, float]:
        from pumpsim.connect.session import read_now

        now = read_now(self.sim)
        return {name: float(now.get(col, 0.0)) for name, col in self.columns.items()}


def export_plant(scenario: str | Path, out: str | Path) -> Path:
    """Build the plant FMU of ``scenario`` at ``out`` (see the module docstring).

    Raises
    ------
    FmiError
        The fmi extra is missing, or the scenario has no pump.
    ScenarioError
        The scenario is invalid (checked before anything is written).
    """
    _fmi_import("fmu export", "pythonfmu")
    from pythonfmu.builder import FmuBuilder

    from pumpsim.connect.session import _raw_scenario
    from pumpsim.errors import ScenarioError
    from pumpsim.scenario import load_scenario

    raw = plant_scenario(_raw_scenario(Path(scenario)))
    try:
        load_scenario(dict(raw))  # invalid: ScenarioError, nothing written
    except ScenarioError as exc:
        raise ScenarioError(exc.problems, str(scenario)) from None
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="pumpsim-fmu-") as tmp:
        res = Path(tmp) / "scenario.json"
        res.write_text(json.dumps(raw, indent=1), encoding="utf-8")
        script = Path(tmp) / "pumpsim_plant.py"
        shutil.copyfile(Path(__file__).with_name("fmi_plant.py"), script)
        built = FmuBuilder.build_FMU(script, dest=tmp, project_files=[res])
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(built), out)
    return out


# == import: a controller FMU ===================================================================
def parse_spec(spec: str) -> tuple[Path, float]:
    """``fmu:PATH[?step=S]`` -> (path, communication step [s])."""
    body = spec.removeprefix("fmu:")
    path, _, query = body.partition("?")
    step = DEFAULT_STEP
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        if key != "step":
            raise ControllerError(f"controller {spec!r}: unknown option {key!r} (allowed: step)")
        try:
            step = float(value)
        except ValueError:
            step = -1.0
        if not (step > 0 and math.isfinite(step)):
            raise ControllerError(f"controller {spec!r}: step={value!r}: a positive number of s")
    if not Path(path).is_file():
        raise ControllerError(f"controller {spec!r}: no such file {path}")
    return Path(path), step


class FmuFactory:
    """The controller factory behind ``fmu:PATH``: unzips the FMU once, instantiates it per pump."""

    def __init__(self, spec: str) -> None:
        _fmi_import(f"controller {spec!r}")
        from fmpy import extract, read_model_description

        self.spec = spec
        self.path, self.step = parse_spec(spec)
        try:
            self.md = read_model_description(str(self.path))
        except Exception as exc:
            raise ControllerError(f"controller {spec!r}: not an FMU: {exc}") from None
        if self.md.coSimulation is None:
            raise ControllerError(f"controller {spec!r}: the FMU has no co-simulation interface")
        self.vars = {v.name: v for v in self.md.modelVariables}
        if "motor_rate" not in self.vars:
            raise ControllerError(f"controller {spec!r}: the FMU has no output 'motor_rate'")
        self.unzipdir = extract(str(self.path))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.unzipdir, True)
        self.__name__ = self.__qualname__ = spec
        self.__module__ = "fmu"

    def __call__(self, config: PumpConfig) -> FmuController:
        return FmuController(self, config)


class FmuController:
    """A pump's controller that is a co-simulation FMU (mapping: :data:`FMU_INPUTS`,
    :data:`FMU_OUTPUTS`); implements :class:`pumpsim.pump.controller.Controller`."""

    def __init__(self, factory: FmuFactory, config: PumpConfig) -> None:
        from fmpy.fmi2 import FMU2Slave

        self.factory, self.config = factory, config
        md = factory.md
        self.fmu = FMU2Slave(guid=md.guid, unzipDirectory=factory.unzipdir,
                             modelIdentifier=md.coSimulation.modelIdentifier,
                             instanceName=config.pump_id)  # fmt: skip
        self.fmu.instantiate()
        python_fmu = (md.generationTool or "").lower().startswith("pythonfmu")
        self._finalizer = weakref.finalize(self, _free, self.fmu, not python_fmu)
        self._finalizer.atexit = False  # freeing an FMU while Python exits can crash it
        self.t = 0.0
        first = config.program[0] if config.program else None
        rate = getattr(first, "rate", None) or 0.0
        vtbi = getattr(first, "vtbi", None)
        self.inputs: dict[str, float] = dict.fromkeys(FMU_INPUTS, 0.0)
        self.inputs.update(program_rate=rate * 3600.0, vtbi=vtbi or 0.0, mains=1.0)
        self.outputs: dict[str, float] = {}
        self.active: set[str] = set()
        self.rate = 0.0
        self.state = ""
        self.program_base = 0.0  # infused [mL] when the current program was set

    # -- FMI plumbing ---------------------------------------------------------------------
    def _set(self, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            var = self.factory.vars.get(name)
            if var is None or var.causality not in ("input", "parameter"):
                continue
            vr = [var.valueReference]
            if var.type == "Real":
                self.fmu.setReal(vr, [float(value)])
            elif var.type == "Integer":
                self.fmu.setInteger(vr, [int(value)])
            elif var.type == "Boolean":
                self.fmu.setBoolean(vr, [bool(value)])

    def _get(self) -> dict[str, float]:
        out = {}
        for name in FMU_OUTPUTS:
            var = self.factory.vars.get(name)
            if var is None:
                continue
            vr = [var.valueReference]
            if var.type == "Real":
                out[name] = float(self.fmu.getReal(vr)[0])
            elif var.type == "Integer":
                out[name] = float(self.fmu.getInteger(vr)[0])
            elif var.type == "Boolean":
                out[name] = float(bool(self.fmu.getBoolean(vr)[0]))
        return out

    def _sense(self, hw: Hardware) -> None:
        p = hw.pressure("downstream")
        limit = self.config.occlusion_limit
        reservoir = hw.reservoir
        self.inputs.update(time=hw.now, pressure_downstream=p,
                           pressure_upstream=hw.pressure("upstream"), infused=hw.infused,
                           infused_program=hw.infused - self.program_base,
                           reservoir=reservoir if math.isfinite(reservoir) else UNLIMITED,
                           occlusion=float(limit is not None and p >= limit))  # fmt: skip

    def _step(self, hw: Hardware) -> None:
        """Set the inputs, step the FMU from its last time to now, apply its outputs."""
        self._sense(hw)
        self._set(self.inputs)
        now = hw.now
        try:
            status = self.fmu.doStep(currentCommunicationPoint=self.t,
                                     communicationStepSize=max(0.0, now - self.t))  # fmt: skip
        except Exception as exc:
            raise ControllerError(f"controller {self.factory.spec!r}: fmi2DoStep at "
                                  f"{now:g} s failed: {exc}") from None  # fmt: skip
        if status not in (0, None):
            raise ControllerError(f"controller {self.factory.spec!r}: fmi2DoStep status {status}")
        self.t = now
        for pulse in ("start", "stop", "silence", "confirm"):
            self.inputs[pulse] = 0.0
        self._apply(hw, self._get())

    def _apply(self, hw: Hardware, out: Mapping[str, float]) -> None:
        rate = max(0.0, out.get("motor_rate", 0.0)) / 3600.0
        if rate != self.rate:
            self.rate = rate
            hw.set_rate(rate)
            self._arm_vtbi(hw)
        code = int(out.get("state", -1))
        if 0 <= code < len(STATE_CODES) and STATE_CODES[code] != self.state:
            self.state = STATE_CODES[code]
            hw.set_state(self.state)
        for name, (kind, default) in FMU_OUTPUTS.items():
            if kind is None or name not in out:
                continue
            value = out[name]
            if value and kind not in self.active:
                self.active.add(kind)
                var = self.factory.vars[name]
                prio = PRIORITY_CODES.get(int(value), default) if var.type == "Integer" else default
                hw.alarm(kind, prio or "high", f"FMU output {name}")
            elif not value and kind in self.active:
                self.active.discard(kind)
                hw.log("alarm_cleared", alarm=kind)

    def _arm_vtbi(self, hw: Hardware) -> None:
        end = self.program_base + self.inputs.get("vtbi", 0.0)
        if end > self.program_base and hw.infused < end:
            hw.watch_volume("fmi_vtbi", end)

    # -- the controller interface ---------------------------------------------------------
    def on_start(self, hw: Hardware) -> None:
        self.t = hw.now
        self.fmu.setupExperiment(startTime=self.t)
        self.fmu.enterInitializationMode()
        self._sense(hw)
        self._set(self.inputs)
        self.fmu.exitInitializationMode()
        self._apply(hw, self._get())
        if self.config.occlusion_limit is not None:
            hw.watch_pressure("fmi_occlusion", self.config.occlusion_limit)
        self._arm_vtbi(hw)
        hw.set_timer("fmi_step", self.t + self.factory.step)

    def on_timer(self, hw: Hardware, name: str) -> None:
        if name == "fmi_step":
            hw.set_timer("fmi_step", hw.now + self.factory.step)
        self._step(hw)  # "fmi_occlusion" fires once; it is watched again at the next start

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        if event.kind == "air":
            limit = self.config.air_limit
            if limit is None or event.value >= limit:
                self.inputs["air"] = 1.0
        elif event.kind in ("air_cumulative", "door", "mains", "battery"):
            self.inputs[event.kind] = float(event.value)
        self._step(hw)

    def on_input(self, hw: Hardware, event: OperatorInput) -> None:
        if event.kind in ("start", "stop", "silence", "confirm"):
            self.inputs[event.kind] = 1.0
            if event.kind == "start":
                self.inputs["air"] = 0.0
                if self.config.occlusion_limit is not None:
                    hw.watch_pressure("fmi_occlusion", self.config.occlusion_limit)
        elif event.kind == "titrate":
            self.inputs["program_rate"] = float(event.details["rate"]) * 3600.0
        elif event.kind == "program" and event.details.get("program"):
            first = event.details["program"][0]
            self.inputs["program_rate"] = (getattr(first, "rate", None) or 0.0) * 3600.0
            self.inputs["vtbi"] = getattr(first, "vtbi", None) or 0.0
            self.program_base = hw.infused
        self._step(hw)


def _free(fmu: Any, free: bool) -> None:
    try:
        fmu.terminate()
        if free:
            fmu.freeInstance()
    except Exception:
        pass
    # a pythonfmu FMU is not freed: freeing its instance (Python objects) from a garbage
    # collection in the same interpreter corrupts the heap; it is released with the process


def controller_factory(spec: str) -> FmuFactory:
    """The factory behind an ``fmu:`` controller spec (what
    :func:`pumpsim.pump.controller.load_controller` returns for that scheme)."""
    return FmuFactory(spec)
