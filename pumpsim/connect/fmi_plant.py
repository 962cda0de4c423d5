"""The pythonfmu slave inside an FMU built by ``pumpsim fmu export`` (:mod:`pumpsim.connect.fmi`).

This file is copied into the FMU and runs on the host's Python, which must have
pumpsim (and pythonfmu) installed. The scenario is the FMU resource ``scenario.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pythonfmu import Fmi2Causality, Fmi2Slave, Fmi2Variability, Real


class PumpsimPlant(Fmi2Slave):
    """A scenario's pump mechanism, line and patient, its motor driven from ``motor_rate``."""

    author = "pumpsim"
    description = "pumpsim plant: pump mechanism, line and patient; input motor_rate [mL/h]"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.motor_rate = 0.0
        self.flow = 0.0
        self.infused = 0.0
        self.pressure = 0.0
        self.reservoir = 0.0
        self.plasma = 0.0
        self._plant: Any = None
        self._stop_time: float | None = None
        self.register_variable(Real("motor_rate", causality=Fmi2Causality.input,
                                    variability=Fmi2Variability.continuous,
                                    description="commanded motor rate [mL/h]"))  # fmt: skip
        for name, text in (("flow", "delivered flow at the catheter tip [mL/h]"),
                           ("infused", "volume the mechanism delivered [mL]"),
                           ("pressure", "downstream line pressure [mmHg]"),
                           ("reservoir", "volume left in the syringe or container [mL]"),
                           ("plasma", "plasma concentration of the pump's drug (its "
                                      "plasma unit, see the FMU's scenario)")):  # fmt: skip
            self.register_variable(Real(name, causality=Fmi2Causality.output,
                                        variability=Fmi2Variability.continuous,
                                        description=text))  # fmt: skip

    def _scenario(self) -> dict[str, Any]:
        path = Path(self.resources or ".") / "scenario.json"
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def setup_experiment(self, start_time: float, stop_time: float | None,
                         tolerance: float | None) -> None:  # fmt: skip
        self._stop_time = stop_time

    def exit_initialization_mode(self) -> None:
        from pumpsim.connect.fmi import Plant

        self._plant = Plant(self._scenario(), until=self._stop_time)
        self._plant.start(self.motor_rate)  # the input's value at the start time
        self._publish(self._plant.outputs())

    def _publish(self, out: dict[str, float]) -> None:
        for name, value in out.items():
            setattr(self, name, value)

    def do_step(self, current_time: float, step_size: float) -> bool:
        plant = self._plant
        if plant is None:
            return False
        plant.set_rate(self.motor_rate)
        ok = plant.advance(current_time + step_size)
        self._publish(plant.outputs())
        return ok
