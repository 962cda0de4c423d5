"""Speed: a controller FMU (``--controller fmu:``) vs the same logic in process.

One ideal pump at 60 mL/h for 2 h (fluid, no PK), run three ways:

- ``reference``: pumpsim's reference controller in process (event driven, no timer);
- ``python-1s``: the small controller of ``tests/fmi_controller_slave.py`` written as a
  plain Python controller that runs its logic on a 1 s timer, as the FMU proxy does
  (same number of engine events, no FMI);
- ``fmu-1s``: that small controller built as an FMU with pythonfmu and imported with
  ``fmu:...?step=1`` (FMPy, co-simulation: set inputs, fmi2DoStep, get outputs).

Prints the median wall time of ``--repeat`` runs, the ratio to ``reference`` and the
FMI overhead per controller step ((fmu − python-1s) / steps). The FMU here is Python
inside the FMU (pythonfmu): a compiled FMU (Simulink, OpenModelica) pays the FMPy/ctypes
side of the cost but not the Python slave's. Build time of the FMU is not included::

    python benchmarks/fmi.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pumpsim

DURATION_S = 7200.0
SCENARIO = {"name": "bench fmi", "duration": "2 h", "output": {"interval": "1 min"},
            "pumps": [{"id": "A", "kind": "ideal", "drug": "fluid",
                       "program": [{"rate": "60 mL/h", "vtbi": "500 mL"}]}]}  # fmt: skip


class PythonOnTimer:
    """The small controller's logic in process, run on a 1 s timer."""

    def __init__(self, config):  # type: ignore[no-untyped-def]
        self.rate = config.program[0].rate
        self.vtbi = config.program[0].vtbi

    def on_start(self, hw):  # type: ignore[no-untyped-def]
        hw.set_rate(self.rate)
        hw.set_state("running")
        hw.set_timer("step", hw.now + 1.0)

    def on_timer(self, hw, name):  # type: ignore[no-untyped-def]
        hw.set_timer("step", hw.now + 1.0)
        if self.vtbi and hw.infused >= self.vtbi and hw.rate > 0:
            hw.set_rate(0.0)
            hw.set_state("complete")
        _ = hw.pressure("downstream"), hw.pressure("upstream"), hw.reservoir

    def on_sensor(self, hw, event):  # type: ignore[no-untyped-def]
        pass

    def on_input(self, hw, event):  # type: ignore[no-untyped-def]
        pass


def _time(controller, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        pumpsim.simulate(SCENARIO, controller=controller)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from pythonfmu.builder import FmuBuilder

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "small_controller.py"
        shutil.copyfile(Path(__file__).parents[1] / "tests" / "fmi_controller_slave.py", script)
        fmu = FmuBuilder.build_FMU(script, dest=tmp)
        steps = int(DURATION_S)  # one step a second, plus a few at callbacks
        rows = [("reference", _time("reference", args.repeat)),
                ("python-1s", _time(PythonOnTimer, args.repeat)),
                ("fmu-1s", _time(f"fmu:{fmu}?step=1", args.repeat))]  # fmt: skip
    base = rows[0][1]
    print(f"{'controller':<12} {'wall [s]':>9} {'x reference':>12}")
    for name, t in rows:
        print(f"{name:<12} {t:9.3f} {t / base:12.1f}")
    per_step = (rows[2][1] - rows[1][1]) / steps
    timer = (rows[1][1] - rows[0][1]) / steps
    print(f"{steps} controller steps; FMI overhead per step: {per_step * 1e6:.0f} us "
          f"(the 1 s timer itself: {timer * 1e6:.0f} us per step)")  # fmt: skip


if __name__ == "__main__":
    main()
