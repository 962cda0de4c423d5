"""FMI 2.0 co-simulation (pumpsim.connect.fmi): the exported plant under FMPy, and a
controller FMU imported with ``--controller fmu:`` and judged by ``pumpsim verify``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

fmpy = pytest.importorskip("fmpy", reason="the fmi extra (FMPy) is not installed")
pytest.importorskip("pythonfmu", reason="the fmi extra (pythonfmu) is not installed")

import pumpsim  # noqa: E402
from pumpsim.connect.fmi import RateFollower, export_plant  # noqa: E402
from pumpsim.verify import verify  # noqa: E402

HERE = Path(__file__).parent

PLANT = """\
name: FMI plant
duration: 10 min
output: {interval: 1 s}
patient: {age: 40 y, weight: 70 kg, height: 170 cm, sex: male}
pumps:
  - id: A
    kind: volumetric
    drug: propofol
    pk_model: schnider1998
    concentration: 10 mg/mL
    route: iv
    container: 100 mL
    program:
      - {rate: 20 mL/h}
"""
COLUMNS = {"flow": "pump.A.flow[mL/h]", "infused": "pump.A.infused[mL]",
           "pressure": "pump.A.pressure[mmHg]", "reservoir": "pump.A.reservoir[mL]",
           "plasma": "patient.propofol.plasma[ug/mL]"}  # fmt: skip


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("plant")
    scenario = folder / "plant.yaml"
    scenario.write_text(PLANT)
    return scenario, export_plant(scenario, folder / "plant.fmu")


def _fmu_run(fmu: Path, rows: list[tuple[float, float]], step: float) -> np.ndarray:
    inp = np.array(rows, dtype=[("time", float), ("motor_rate", float)])
    return fmpy.simulate_fmu(str(fmu), fmi_type="CoSimulation", stop_time=300.0,
                             output_interval=step, input=inp)  # fmt: skip


def test_plant_constant_rate_matches_the_batch_run(plant: tuple[Path, Path]) -> None:
    scenario, fmu = plant
    res = _fmu_run(fmu, [(0.0, 20.0)], step=1.0)
    ref = pumpsim.simulate(scenario, controller=lambda c: RateFollower(c, rate=20 / 3600))
    ts = ref.timeseries.loc[res["time"]]
    # a constant input is exactly piecewise constant, so the co-simulation step adds no
    # error: the FMU runs the same engine advanced in steps, which the engine guarantees
    # gives the run one step gives; what is left is float rounding (1e-9 relative)
    for name, col in COLUMNS.items():
        np.testing.assert_allclose(res[name], ts[col].to_numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)  # fmt: skip
    # and it is not trivial: 20 mL/h for 300 s, drug in plasma
    assert res["infused"][-1] == pytest.approx(20 * 300 / 3600, rel=1e-6)
    assert res["plasma"][-1] > 0.1


def test_plant_ramp_within_the_step_error(plant: tuple[Path, Path]) -> None:
    """A ramp input: FMPy interpolates it, the plant holds each communication point's
    value over the step (zero-order hold), so the infused volume lags the exact integral
    of the ramp by slope x step x t / 2 (closed form), which shrinks with the step."""
    _, fmu = plant
    step, slope = 2.0, 40.0 / 300.0  # 20 -> 60 mL/h over 300 s
    res = _fmu_run(fmu, [(0.0, 20.0), (300.0, 60.0)], step=step)
    t = res["time"]
    exact = (20.0 * t + slope * t**2 / 2) / 3600.0  # integral of the ramp [mL]
    lag = slope * step * t / 2 / 3600.0
    np.testing.assert_allclose(res["infused"], exact - lag, rtol=1e-9, atol=1e-12)
    res1 = _fmu_run(fmu, [(0.0, 20.0), (300.0, 60.0)], step=step / 2)
    assert abs(res1["infused"][-1] - exact[-1]) == pytest.approx(lag[-1] / 2, rel=1e-6)


@pytest.fixture(scope="module")
def controller_fmu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pythonfmu.builder import FmuBuilder

    folder = tmp_path_factory.mktemp("ctl")
    script = folder / "small_controller.py"
    shutil.copyfile(HERE / "fmi_controller_slave.py", script)
    return Path(FmuBuilder.build_FMU(script, dest=folder))


def test_controller_fmu_runs_a_scenario(controller_fmu: Path) -> None:
    """VTBI stop through the volume watch: delivered volume equals the VTBI."""
    sc = {"name": "vtbi", "duration": "30 min", "output": {"interval": "10 s"},
          "pumps": [{"id": "A", "kind": "ideal", "drug": "fluid",
                     "program": [{"rate": "60 mL/h", "vtbi": "10 mL"}]}]}  # fmt: skip
    res = pumpsim.simulate(sc, controller=f"fmu:{controller_fmu}?step=5")
    # 10 mL at 60 mL/h ends at 600 s exactly; the proxy's volume watch steps the FMU then
    assert res.summary["pumps"]["A"]["volume_infused_mL"] == pytest.approx(10.0, abs=1e-9)
    alarms = [e for e in res.events if e.kind == "alarm"]
    assert [(a.details["alarm"], a.details["priority"]) for a in alarms] == [
        ("vtbi_complete", "medium")]
    assert alarms[0].time_s == pytest.approx(600.0, abs=1e-6)


def test_verify_judges_a_controller_fmu(controller_fmu: Path, tmp_path: Path) -> None:
    only = ["occlusion_syringe.yaml", "continuous_kvo_titration.yaml"]
    report = verify(f"fmu:{controller_fmu}", only=only)
    assert not report.crashed and not report.errors
    # what the small controller does, verify judges kept: the occlusion alarm at the
    # limit stops the motor (the proxy's pressure watch steps the FMU at the limit), the
    # titration reaches hw.set_rate at once, silence leaves the infusion alone
    for rid in ("GIP 1.6.2", "GIP 1.10.3", "GIP 1.10.7", "PS-DEL.2", "PS-DEL.3", "PS-SIL.1"):
        assert report.status(rid)[0] == "pass", rid
    # what it does not do, verify finds: no time-remaining record (the mapping has no
    # output for it) and no re-activation of a silenced alarm (the small FMU has none)
    assert set(report.failed) == {"GIP 1.5.2", "GIP 3.2.1"}
    # the reference controller in process keeps all of them in the same scenarios
    assert not verify(None, only=only).failed


def test_bad_specs(tmp_path: Path) -> None:
    from pumpsim.pump.controller import ControllerError, load_controller

    with pytest.raises(ControllerError, match="no such file"):
        load_controller(f"fmu:{tmp_path}/missing.fmu")
    bad = tmp_path / "x.fmu"
    bad.write_text("not a zip")
    with pytest.raises(ControllerError, match="not an FMU"):
        load_controller(f"fmu:{bad}")
    with pytest.raises(ControllerError, match="step"):
        load_controller(f"fmu:{bad}?step=-1")




def test_export_bad_input_writes_nothing(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from pumpsim.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text(PLANT.replace("kind: volumetric", "kind: magic"))
    out = tmp_path / "plant.fmu"
    assert main(["fmu", "export", str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: pumps[0].kind" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    none = tmp_path / "none.yaml"
    none.write_text("name: x\nduration: 1 min\npumps: []\n")
    assert main(["fmu", "export", str(none), "--out", str(out)]) == 1
    assert not out.exists()
