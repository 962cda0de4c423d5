"""A manifold at run time: several pumps' lines joining one common line.

The common line is a rigid tube in plug flow (:class:`pumpsim.pump.line.PlugFlowTube`).
Its inflow is the sum of the member lines' tip flows, mixed by flow
(:func:`pumpsim.pump.line.mix`); a change of the mixture reaches the patient
after the common dead volume divided by the *total* flow — a carrier shortens
the delay of a drug (docs/references.md [Lovich2005] [Lovich2013]). The next front
reaching the tip is computed and scheduled; nothing polls.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import simpy

from pumpsim.engine.delivery import Outlet
from pumpsim.engine.recorder import EventLog, Signal
from pumpsim.pump.line import AIR, Composition, PlugFlowTube, liquid_fraction, mix, same_composition

__all__ = ["ManifoldRuntime"]


class ManifoldRuntime:
    """The common line ``manifold_id``: members push in, the tip feeds ``outlet``.

    Parameters
    ----------
    env : simpy.Environment
    manifold_id : str
    dead_volume : float
        Volume of the common line [mL].
    prime : mapping
        Composition it is filled with at the start.
    outlet : Outlet
    log : EventLog
    """

    def __init__(
        self,
        env: simpy.Environment,
        manifold_id: str,
        dead_volume: float,
        prime: Composition,
        outlet: Outlet,
        log: EventLog,
    ) -> None:
        self.env = env
        self.id = manifold_id
        self.source = f"line.{manifold_id}"
        self.tube = PlugFlowTube(dead_volume, prime)
        self.outlet = outlet
        self._log = log
        self._inputs: dict[str, tuple[float, dict[str, float]]] = {}
        self._t = 0.0
        self._q = 0.0
        self._inflow: Composition = dict(prime)
        self._delivered: dict[str, float] = {}  # amount of every key out of the tip
        self._liquid = 0.0  # liquid volume out of the tip [mL]
        self._tip_air = 0.0
        self._sent: tuple[float, Composition] | None = None
        self._token = 0
        self.flow = Signal(0.0)
        self.delivered_signal = Signal(0.0)

    @property
    def delivered(self) -> float:
        """Liquid volume that reached the patient [mL] (settled)."""
        return self._liquid

    def content(self, key: str) -> float:
        """Amount of ``key`` in the common line plus what it delivered (settled)."""
        return self.tube.content(key) + self._delivered.get(key, 0.0)

    # -- Outlet ------------------------------------------------------------------
    def receive(self, source: str, flow: float, comp: Composition) -> None:
        self._settle()
        self._inputs[source] = (flow, dict(comp))
        self._recompute()

    def receive_bolus(self, source: str, volume: float, comp: Composition) -> None:
        self._settle()
        for v, c in self.tube.push(volume, comp):
            self._deliver(v, c)
            self.outlet.receive_bolus(self.source, v, c)
        self._recompute()

    # -- state -----------------------------------------------------------------------
    def _deliver(self, volume: float, comp: Composition) -> None:
        for k, v in comp.items():
            self._delivered[k] = self._delivered.get(k, 0.0) + volume * v
        self._liquid += volume * liquid_fraction(comp)
        self._tip_air += volume * comp.get(AIR, 0.0)

    def _settle(self) -> None:
        now = float(self.env.now)
        volume = self._q * (now - self._t)
        if volume > 0:
            for v, c in self.tube.push(volume, self._inflow):
                self._deliver(v, c)
        self._t = now

    def _recompute(self) -> None:
        self._q = sum(f for f, _ in self._inputs.values())
        if self._q > 0:
            self._inflow = mix(self._inputs.values())
        tip = self.tube.outlet if self.tube.volume > 0 else self._inflow
        if self._tip_air > 1e-12 and tip.get(AIR, 0.0) <= 0:
            self._log.write(self.env.now, self.source, "air_to_patient", volume_mL=self._tip_air)
            self._tip_air = 0.0
        t = float(self.env.now)
        liquid = self._q * liquid_fraction(tip)
        self.flow.set(t, liquid)
        self.delivered_signal.set(t, self.delivered, liquid)
        sent = self._sent
        if sent is None or sent[0] != self._q or not same_composition(sent[1], tip):
            self._sent = (self._q, dict(tip))
            self.outlet.receive(self.source, self._q, tip)
        self._token += 1
        if self._q > 0:
            delay = self.tube.volume_to_change(self.tube.volume, self._inflow) / self._q
            if math.isfinite(delay):
                event = self.env.timeout(delay)
                event.callbacks.append(functools.partial(self._front, self._token))

    def _front(self, token: int, _event: Any = None) -> None:
        if token == self._token:
            self._settle()
            self._recompute()

    def finish(self) -> None:
        """Bring the tallies to the current time (end of the run)."""
        self._settle()
        self._recompute()

    def columns(self, grid: np.ndarray) -> dict[str, np.ndarray]:
        """``line.<id>.flow[mL/h]`` and ``line.<id>.delivered[mL]`` on ``grid``."""
        p = self.source
        return {
            f"{p}.flow[mL/h]": self.flow.evaluate(grid) * 3600.0,
            f"{p}.delivered[mL]": self.delivered_signal.evaluate(grid),
        }
