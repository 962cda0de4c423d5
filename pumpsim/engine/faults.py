"""Bedside faults at run time: the catheter site, the door, mains and battery, free flow.

:class:`CatheterSite` is the patient end of a line (a pump's own line or a
manifold's common line). It passes drug amount rates to the patient by its
route, and two faults change where they go:

* **infiltration** — the IV site fails and the line delivers into tissue. The
  same source then feeds the depot of a tissue route ``tissue_<site>``,
  absorbed like the drug's ``sc`` route when its model has one, else first
  order with t½ :data:`TISSUE_HALF_LIFE` [illustrative], or as the event's
  ``absorption`` says. The pump runs on and nothing alarms (pumps do not
  sense infiltration; the small rise in line pressure is far below any limit).
* **disconnection** — the line comes apart at the patient: nothing reaches the
  patient, the pump runs on and everything leaving the tip is counted as
  lost (per pump ``vol:<id>`` [mL], per drug [amount]). Most pumps do NOT
  detect a disconnection: only a fall in downstream pressure could show it,
  and the reference controller has no low-pressure alarm (neither has this
  line model a pressure change on disconnection), so no alarm is raised.

:class:`Faults` applies the scenario's fault events to the pumps:

* **door** — ``SensorEvent("door", 1 | 0)`` to the controller (the reference
  raises a high-priority ``door_open`` alarm and stops; it resumes on an
  operator ``start`` once the door is closed).
* **power** — on ``mains_lost`` the pump runs on its battery; the battery
  holds ``settings.battery`` of run time when full (default
  :data:`DEFAULT_BATTERY` [illustrative]) and drains linearly in time, at the
  same rate whatever the motor does (the electronics dominate the load; a
  simple documented law, not a measured curve). The battery is not recharged
  within a run. The controller is told ``SensorEvent("battery", minutes_left)``
  when mains is lost and exactly when the time left crosses
  :data:`BATTERY_THRESHOLDS` (15 min: low, GIP 5.1.4; 5 min: depleted,
  GIP 5.1.6), each also logged as a ``battery`` record with ``minutes_left``
  (what the requirement oracle reads). At 0 min the pump powers off: the motor
  stops whatever its controller wanted and the firmware hears nothing until
  mains returns (``SensorEvent("mains", 1)``).
* **free flow** — the set flows by gravity at ``(head − back pressure)/R``
  (:func:`pumpsim.pump.line.free_flow_rate`), whatever the motor does. A pump
  whose ``settings.flow_sensor`` is on (a drop sensor,
  :mod:`pumpsim.engine.flowsensor`) reports ``SensorEvent("flow", q)`` [mL/s]
  whenever the flow changes; without it, nothing tells the firmware.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pumpsim.engine.delivery import PatientOutlet
from pumpsim.pk.model import Absorption, Citation, Pathway
from pumpsim.pump.controller import SensorEvent
from pumpsim.pump.line import DEFAULT_SET_RESISTANCE, Composition, drug_amounts, free_flow_rate

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.pumps import PumpRuntime
    from pumpsim.engine.simulation import Simulation

__all__ = [
    "CatheterSite",
    "Faults",
    "tissue_absorption",
    "tissue_routes",
    "TISSUE_HALF_LIFE",
    "DEFAULT_BATTERY",
    "BATTERY_THRESHOLDS",
]

#: first-order absorption half-life from infiltrated tissue when the drug has no sc route [min]
TISSUE_HALF_LIFE = 30.0  # [illustrative]
#: run time on a full battery when the pump's settings give none [s]
DEFAULT_BATTERY = 120 * 60.0  # [illustrative]
#: minutes left at which the battery is reported: low (GIP 5.1.4), depleted (GIP 5.1.6)
BATTERY_THRESHOLDS = (15.0, 5.0)


def tissue_absorption(model_routes: dict[str, Absorption], override: Any = None) -> Absorption:
    """How a drug infiltrated into tissue is absorbed: ``override`` (an event's
    ``absorption``: ``half_life`` [s], ``bioavailability``), else the model's ``sc``
    route, else first order with t½ :data:`TISSUE_HALF_LIFE` and F = 1."""
    if override is not None:
        ka = math.log(2.0) / (override.half_life / 60.0)
        given = Citation("user", "tissue absorption given in the scenario")
        return Absorption((Pathway(override.bioavailability, ka),), citation=given)
    if "sc" in model_routes:
        return model_routes["sc"]
    return Absorption((Pathway(1.0, math.log(2.0) / TISSUE_HALF_LIFE),),
                      citation=Citation("pumpsim", "infiltration: first-order tissue absorption, "
                                        "t1/2 30 min [illustrative]"))  # fmt: skip


def _site_of(scenario: Any, pump_id: str) -> tuple[str, list[Any]]:
    """(site name, the pumps delivering through it): a manifold's members share its site."""
    pump = next(p for p in scenario.pumps if p.id == pump_id)
    joined = pump.line.manifold
    if joined and any(m.id == joined for m in scenario.manifolds):
        return joined, [p for p in scenario.pumps if p.line.manifold == joined]
    return pump_id, [pump]


def tissue_routes(scenario: Any, models: dict[str, str | None]) -> dict[str, dict[str, Absorption]]:
    """Drug -> {``tissue_<site>``: Absorption} for every infiltration event (built before
    the patient, so the tissue depots exist)."""
    from pumpsim.pk.registry import get_drug, get_model

    out: dict[str, dict[str, Absorption]] = {}
    for ev in scenario.events:
        if ev.type != "infiltration":
            continue
        site, members = _site_of(scenario, ev.pump)
        for pump in members:
            if get_drug(pump.drug).default_model is None:
                continue  # plain fluid: no PK
            spec = get_model(pump.drug, models.get(pump.drug))
            out.setdefault(pump.drug, {})[f"tissue_{site}"] = tissue_absorption(
                dict(spec.routes), ev.absorption
            )
    return out


class CatheterSite(PatientOutlet):
    """The patient end of a line: route, infiltration, disconnection, losses.

    Parameters
    ----------
    env : simpy.Environment
    patient : PatientPK
    route : str
        The route the line was placed for (iv, sc, ...).
    name : str
        The pump's or manifold's id (the tissue route is ``tissue_<name>``).
    """

    def __init__(self, env: Any, patient: Any, route: str, name: str) -> None:
        self.env = env
        self.patient = patient
        self.name = name
        self.placed = route
        self.route = route
        self.connected = True
        self.lost: dict[str, float] = {}  # key (vol:<pump>, drug) -> amount lost [mL or amount]
        self._flows: dict[str, tuple[float, Composition]] = {}
        self._t = 0.0
        super().__init__(self._set_rate, self._bolus_now)

    def _set_rate(self, source: str, drug: str, rate: float) -> None:
        self.patient.set_rate(source, drug, self.route, rate)

    def _bolus_now(self, drug: str, amount: float) -> None:
        self.patient.bolus(drug, self.route, amount)

    def _settle(self) -> None:
        now = float(self.env.now)
        if not self.connected:
            for flow, comp in self._flows.values():
                for k, v in comp.items():
                    self.lost[k] = self.lost.get(k, 0.0) + flow * v * (now - self._t)
        self._t = now

    def receive(self, source: str, flow: float, comp: Composition) -> None:
        self._settle()
        self._flows[source] = (flow, dict(comp))
        if self.connected:
            super().receive(source, flow, comp)

    def receive_bolus(self, source: str, volume: float, comp: Composition) -> None:
        if self.connected:
            super().receive_bolus(source, volume, comp)
            return
        for k, v in comp.items():
            self.lost[k] = self.lost.get(k, 0.0) + volume * v

    def disconnect(self) -> bool:
        """The line comes apart: the patient gets nothing from it from now on."""
        if not self.connected:
            return False
        self._settle()
        for source in list(self._flows):
            super().receive(source, 0.0, {})
        self.connected = False
        return True

    def reconnect(self) -> bool:
        if self.connected:
            return False
        self._settle()
        self.connected = True
        for source, (flow, comp) in self._flows.items():
            super().receive(source, flow, comp)
        return True

    def infiltrate(self) -> bool:
        """The site fails: every drug of this line now goes to ``tissue_<name>``."""
        if self.route != self.placed:
            return False
        self._settle()
        self.route = f"tissue_{self.name}"
        for source, rates in self._last.items():  # same source, new route
            for drug, rate in sorted(rates.items()):
                self.patient.set_rate(source, drug, self.route, rate)
        return True

    def finish(self) -> None:
        self._settle()

    def lost_drugs(self) -> dict[str, float]:
        return drug_amounts(self.lost, 1.0)


class _Unpowered:
    """The firmware of a pump with no power: hears nothing, does nothing."""

    def on_start(self, hw: Any) -> None: ...
    def on_timer(self, hw: Any, name: str) -> None: ...
    def on_sensor(self, hw: Any, event: SensorEvent) -> None: ...
    def on_input(self, hw: Any, event: Any) -> None: ...


class _Battery:
    def __init__(self, capacity: float) -> None:
        self.left = capacity  # run time left [s]
        self.since: float | None = None  # on battery since [s]
        self.token = 0
        self.firmware: Any = None  # the controller while powered off


class Faults:
    """Applies the fault events of a scenario to a :class:`Simulation`'s pumps and sites."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.env = sim.env
        self.batteries: dict[str, _Battery] = {}

    def site(self, pump_id: str) -> CatheterSite:
        site, _ = _site_of(self.sim.scenario, pump_id)
        outlet = self.sim.manifolds[site].outlet if site in self.sim.manifolds else (
            self.sim.pumps[pump_id].outlet)  # fmt: skip
        assert isinstance(outlet, CatheterSite)
        return outlet

    def apply(self, ev: Any) -> None:
        """Apply one fault event now."""
        rt = self.sim.pumps[ev.pump]
        kind = ev.type
        if kind == "infiltration":
            site = self.site(ev.pump)
            if site.infiltrate():
                rt.log("infiltration", site=site.name, route=site.route)
        elif kind in ("disconnection", "reconnection"):
            site = self.site(ev.pump)
            if site.disconnect() if kind == "disconnection" else site.reconnect():
                rt.log(kind, site=site.name)
        elif kind in ("door_open", "door_close"):
            is_open = kind == "door_open"
            rt.log("door", open=is_open)
            rt.controller.on_sensor(rt, SensorEvent("door", 1.0 if is_open else 0.0))
        elif kind == "mains_lost":
            self._mains_lost(rt)
        elif kind == "mains_restored":
            self._mains_restored(rt)
        elif kind == "free_flow":
            resistance = rt.line.resistance or DEFAULT_SET_RESISTANCE
            rate = free_flow_rate(ev.head, resistance, rt.line.back_pressure)
            rt.free_flow(rate)  # a flow sensor, if any, reports it (engine.flowsensor)

    # -- power -------------------------------------------------------------------
    def _battery(self, rt: PumpRuntime) -> _Battery:
        if rt.id not in self.batteries:
            pump = next(p for p in self.sim.scenario.pumps if p.id == rt.id)
            capacity = pump.settings.battery
            self.batteries[rt.id] = _Battery(capacity if capacity is not None else DEFAULT_BATTERY)
        return self.batteries[rt.id]

    def _report(self, rt: PumpRuntime, minutes: float) -> None:
        rt.log("battery", minutes_left=minutes)
        rt.controller.on_sensor(rt, SensorEvent("battery", minutes))

    def _mains_lost(self, rt: PumpRuntime) -> None:
        b = self._battery(rt)
        if b.since is not None:
            return
        b.since = rt.now
        b.token += 1
        rt.log("power", mains=False, minutes_left=b.left / 60.0)
        rt.controller.on_sensor(rt, SensorEvent("mains", 0.0))
        if b.left <= 0:
            self._power_off(rt, b, b.token)
            return
        self._report(rt, b.left / 60.0)
        for minutes in BATTERY_THRESHOLDS:
            if b.left > minutes * 60.0:
                self._at(b.left - minutes * 60.0, self._crossed, rt, b, b.token, minutes)
        self._at(b.left, self._power_off, rt, b, b.token)

    def _crossed(self, rt: PumpRuntime, b: _Battery, token: int, minutes: float) -> None:
        if token == b.token:
            self._report(rt, minutes)

    def _power_off(self, rt: PumpRuntime, b: _Battery, token: int) -> None:
        if token != b.token or b.firmware is not None:
            return
        b.firmware = rt.controller
        rt.controller = _Unpowered()
        rt.set_rate(0.0)
        rt.log("power_off", cause="battery empty")
        rt.set_state("off")

    def _mains_restored(self, rt: PumpRuntime) -> None:
        b = self._battery(rt)
        if b.since is None:
            return
        b.left = max(0.0, b.left - (rt.now - b.since))
        b.since = None
        b.token += 1
        rt.log("power", mains=True, minutes_left=b.left / 60.0)
        if b.firmware is not None:
            rt.controller, b.firmware = b.firmware, None
            rt.log("power_on")
            rt.set_state(str(getattr(rt.controller, "state", "idle")))  # what it shows again
        rt.controller.on_sensor(rt, SensorEvent("mains", 1.0))

    def _at(self, delay: float, action: Any, *args: Any) -> None:
        event = self.env.timeout(max(0.0, delay))
        event.callbacks.append(lambda _ev: action(*args))

    def finish(self) -> None:
        for site in self.sites():
            site.finish()

    def sites(self) -> list[CatheterSite]:
        out = [o for o in (*(r.outlet for r in self.sim.pumps.values()),
                           *(m.outlet for m in self.sim.manifolds.values()))
               if isinstance(o, CatheterSite)]  # fmt: skip
        return list(dict.fromkeys(out))
