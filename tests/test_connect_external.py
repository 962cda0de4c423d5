"""Controllers in another process: the lock-step protocol, the proxy, the Python host, a C firmware.

The reference controller served by ``python -m pumpsim.connect.host`` must be
indistinguishable from the same controller in process: identical result files
(byte for byte) and identical verdicts. The expected values here are the
in-process runs of the same scenarios, an independent path through the engine
(no protocol). The C example's verdicts follow from what it implements, listed at
the top of ``examples/controller_c/pump_firmware.c``.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from pumpsim.cli import main
from pumpsim.connect.external import ExternalControllerError, ExternalFactory
from pumpsim.connect.protocol import (
    ProtocolError,
    check_command,
    config_from_json,
    config_to_json,
    decode,
    encode,
    input_from_json,
    input_to_json,
)
from pumpsim.engine import simulate
from pumpsim.pump.controller import OperatorInput, load_controller
from pumpsim.pump.program import IntermittentStep, PcaStep, Step
from pumpsim.verify import verify

HOST = f"exec:{shlex.quote(sys.executable)} -m pumpsim.connect.host reference"
CONFORMANCE = ROOT / "pumpsim" / "data" / "conformance"


@pytest.fixture(scope="module")
def hosted():
    """The reference controller behind the protocol, one child process for the module."""
    with ExternalFactory(HOST) as factory:
        yield factory


def _files(result, out: Path) -> tuple[bytes, bytes]:
    result.save(out, plots=False)
    return (out / "timeseries.csv").read_bytes(), (out / "events.jsonl").read_bytes()


# -- the protocol's messages -------------------------------------------------------------
def test_config_round_trips_through_json_exactly() -> None:
    from pumpsim.engine.simulation import Simulation
    from pumpsim.scenario import load_scenario

    seen = []
    for name in ("ders_limits.yaml", "pca_lockout_limit.yaml", "reservoir_opca.yaml"):
        sim = Simulation(load_scenario(CONFORMANCE / name), controller=lambda c: seen.append(c)
                         or load_controller("reference")(c))  # fmt: skip
        del sim
    seen.append(dataclasses.replace(seen[0], reservoir=math.inf))  # an unlimited source: null
    assert any(c.ders is not None for c in seen) and any(c.program[0].mode == "pca" for c in seen)
    for config in seen:
        wire = json.loads(encode({"config": config_to_json(config)}))["config"]
        assert config_from_json(wire) == config  # dataclass equality, field by field


def test_program_input_round_trips() -> None:
    steps = [Step(0.0, 1 / 3600, 20.0), PcaStep(None, 0.0, demand=1.0, lockout=600.0),
             IntermittentStep(3600.0, 0.01, dose_volume=5.0, every=7200.0, count=None)]
    event = OperatorInput("program", {"program": steps})
    back = input_from_json(json.loads(encode(input_to_json(event))))
    assert back == event and [type(s) for s in back.details["program"]] == [type(s) for s in steps]


@pytest.mark.parametrize(
    ("cmd", "why"),
    [(["fly", 1], "name one of"), (["set_rate"], "takes 1"), (["set_rate", "1"], "number"),
     (["set_rate", True], "number"), (["stop", 1], "bool"), ("set_rate", "a command is")],
)
def test_bad_commands_are_refused_with_a_reason(cmd, why) -> None:
    with pytest.raises(ProtocolError, match=why):
        check_command(cmd)


def test_optional_arguments_take_the_python_defaults() -> None:
    assert check_command(["stop"]) == ("stop", [False])
    assert check_command(["watch_pressure", "occ", 300]) == (
        "watch_pressure", ["occ", 300, "downstream"])
    assert check_command(["log", "x"]) == ("log", ["x", {}])
    with pytest.raises(ProtocolError, match="expected a message of type done"):
        decode(b'{"type": "hw"}\n', ("done",))


# -- the reference controller behind the protocol ---------------------------------------
@pytest.mark.parametrize(
    "scenario",
    ["scenarios/occlusion_syringe.yaml", "scenarios/pca_morphine_lockout.yaml",
     "scenarios/power_loss_battery.yaml", "pumpsim/data/conformance/air_volumetric.yaml",
     "pumpsim/data/conformance/stroke_stop_volumetric.yaml"],
)
def test_run_through_the_protocol_is_byte_identical(scenario, hosted, tmp_path) -> None:
    """Syringe occlusion, PCA with lockout, power loss on battery, air in a volumetric line,
    stops that complete the stroke (back-off and ``sync`` reads on the way)."""
    path = ROOT / scenario
    inproc = _files(simulate(path, seed=3), tmp_path / "in")
    external = _files(simulate(path, seed=3, controller=hosted), tmp_path / "ext")
    assert external[0] == inproc[0]
    assert external[1] == inproc[1]


def test_verify_through_the_protocol_gives_the_same_verdicts(hosted, tmp_path) -> None:
    names = ["pca_lockout_limit.yaml", "ders_limits.yaml", "free_flow_volumetric.yaml"]
    for name in names:
        shutil.copy(CONFORMANCE / name, tmp_path / name)
    (tmp_path / "suite.yaml").write_text(
        "scenarios:\n" + "".join(f"  - file: {n}\n" for n in names), "utf-8")
    inproc = verify(None, folder=tmp_path).to_dict()["requirements"]
    external = verify(hosted, folder=tmp_path).to_dict()["requirements"]
    assert external == inproc
    assert {r["status"] for r in inproc.values()} >= {"pass"}


def test_cli_run_with_a_tcp_controller_already_running(tmp_path, capsys) -> None:
    """``pumpsim run --controller tcp://127.0.0.1:PORT``: the spec goes through
    ``load_controller``; PCA with a basal and clinician boluses, byte-identical files."""
    proc = subprocess.Popen([sys.executable, "-m", "pumpsim.connect.host", "--tcp", "0",
                             "--once", "reference"], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().split()  # "listening on tcp://127.0.0.1:PORT"
        assert first[:2] == ["listening", "on"] and first[2].startswith("tcp://127.0.0.1:")
        path = ROOT / "scenarios" / "pca_basal_clinician.yaml"
        args = ["run", str(path), "--quiet", "--no-plots", "--out"]
        assert main([*args, str(tmp_path / "ext"), "--controller", first[2]]) == 0
        gc.collect()  # the CLI's factory says bye when it goes (at exit for the command)
        assert proc.wait(timeout=20) == 0  # --once: gone after the engine's bye
        assert main([*args, str(tmp_path / "in")]) == 0
        for name in ("timeseries.csv", "events.jsonl"):
            assert (tmp_path / "ext" / name).read_bytes() == (tmp_path / "in" / name).read_bytes()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_what_a_hosted_controller_prints_does_not_break_the_protocol(tmp_path) -> None:
    """stdio mode: the protocol owns the real stdout; a controller's print goes to stderr."""
    chatty = tmp_path / "chatty.py"
    chatty.write_text(
        "from pumpsim.pump.reference import ReferenceController\n"
        "class Chatty(ReferenceController):\n"
        "    def on_timer(self, hw, name):\n"
        "        print('timer', name, hw.now)\n"
        "        super().on_timer(hw, name)\n", "utf-8")
    path = ROOT / "scenarios" / "occlusion_syringe.yaml"
    spec = f"exec:{shlex.quote(sys.executable)} -m pumpsim.connect.host {chatty}:Chatty"
    with ExternalFactory(spec) as factory:
        external = _files(simulate(path, controller=factory), tmp_path / "ext")
    assert external == _files(simulate(path), tmp_path / "in")


# -- failures: clear, one line, never a hang, child reaped -----------------------------
def _python(code: str) -> str:
    return f"exec:{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def test_a_hung_controller_times_out_naming_it() -> None:
    code = ("import sys, time; sys.stdin.readline(); "
            "print('{\"type\": \"hello\", \"protocol\": 1}', flush=True); "
            "sys.stdin.readline(); time.sleep(60)")  # answers hello, then hangs
    spec = _python(code)
    factory = ExternalFactory(spec, timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(ExternalControllerError, match=r"controller 'exec:.*no answer within 0.5 s"):
        simulate(CONFORMANCE / "occlusion_syringe.yaml", controller=factory)
    assert time.monotonic() - t0 < 5  # the timeout, then a kill (no grace for a hung child)
    conn = factory._conn
    assert conn is not None and conn.proc is not None and conn.proc.returncode is not None


def test_a_crashing_controller_shows_its_stderr_and_exit_status() -> None:
    spec = _python("import sys; sys.stdin.readline(); print('firmware panic: bad rom', "
                   "file=sys.stderr); sys.exit(3)")
    with pytest.raises(ExternalControllerError, match="exit status 3; stderr: firmware panic"):
        simulate(CONFORMANCE / "occlusion_syringe.yaml", controller=spec)


def test_a_controller_error_and_a_bad_command_stop_the_run() -> None:
    hello = ("import sys, json\nsys.stdin.readline()\n"
             'print(json.dumps({"type": "hello", "protocol": 1}), flush=True)\n')
    answer = hello + (
        "for line in sys.stdin:\n"
        "    m = json.loads(line)\n"
        "    if m['type'] == 'bye': break\n"
        "    cmds = [['set_rate', -1]] if m['type'] == 'call' else []\n"
        "    print(json.dumps({'type': 'done', 'cmds': cmds}), flush=True)\n"
    )
    with pytest.raises(ExternalControllerError, match=r"in start: command set_rate: rate must be"):
        simulate(CONFORMANCE / "occlusion_syringe.yaml", controller=_python(answer))
    old = hello.replace('"protocol": 1', '"protocol": 0')
    with pytest.raises(ExternalControllerError, match="speaks protocol 0"):
        simulate(CONFORMANCE / "occlusion_syringe.yaml", controller=_python(old))


def test_bad_specs_and_unreachable_controllers() -> None:
    with pytest.raises(ExternalControllerError, match="cannot start"):
        simulate(CONFORMANCE / "occlusion_syringe.yaml", controller="exec:/nonexistent/firmware")
    with pytest.raises(ExternalControllerError, match="write exec:COMMAND .* or tcp://HOST:PORT"):
        load_controller("tcp://127.0.0.1")  # no port: refused when loaded, nothing started
    with pytest.raises(ExternalControllerError, match="write exec:COMMAND"):
        load_controller("exec:   ")
    with pytest.raises(ExternalControllerError, match="cannot connect"):
        simulate(CONFORMANCE / "occlusion_syringe.yaml", controller="tcp://127.0.0.1:9")


def test_pump_layer_does_not_import_connect() -> None:
    """Only a name in ``CONTROLLER_SCHEMES`` points at the adapter; no module imports it."""
    for path in (ROOT / "pumpsim").glob("*/*.py"):
        if path.parent.name in ("pump", "engine", "pk", "patient"):
            text = path.read_text("utf-8")
            assert "import pumpsim.connect" not in text and "from pumpsim.connect" not in text


# -- a firmware written in C -------------------------------------------------------------
#: verdicts of examples/controller_c over the whole suite, and why (see its header comment)
C_VERDICTS = {
    # continuous program, VTBI end to KVO at min(KVO, rate); exact rate on every pump kind
    "GIP 1.1.8": "pass", "GIP 1.2.1": "pass",
    # one continuous step only: a multi-step program's later steps and a secondary are not
    # run, so time remaining, the VTBI ends and delivery-as-programmed fail there
    "GIP 1.5.2": "fail", "PS-DEL.1": "fail", "PS-DEL.2": "fail",
    # a titration takes effect at once; the door stops the motor; a silence keeps alarms
    "PS-DEL.3": "pass", "PS-DOOR": "pass", "PS-SIL.1": "pass",
    # single bubbles only (no rolling air window), no upstream pressure check
    "PS-AIR.2": "fail", "PS-OCC.U": "fail",
    # 1 mL left: low warning; 0.5 mL left: high alarm and stop; the engine arbitrates
    "OPCA R6.8.0(9)": "pass", "CRISYS 60-64": "pass",
    # high-priority alarms stop the motor at once; normal stops complete the stroke
    "GIP 1.6.2": "pass", "GIP 1.6.1": "pass",
    # air above the pump's limit, occlusion at the pump's limit (the motor stops, nothing
    # pushes the line further), battery at 15 and 5 min
    "GIP 1.9.1": "pass", "GIP 1.10.3": "pass", "GIP 1.10.7": "pass", "GIP 5.1.4": "pass",
    # no flow-sensor checks: free flow and under-infusion go unnoticed
    "GIP 1.2.2": "fail", "CRISYS 16/19": "fail", "GIP 1.2.3": "fail",
    # no silence time-out, no repeated-alarm escalation, no drug library
    "GIP 3.2.1": "fail", "OPCA R6.5.0(18)": "fail", "GIP 6.1.3": "fail",
    # PCA programs are refused, so no bolus is ever given to judge
    "GIP 1.4.3": "not exercised", "GIP 1.4.4": "not exercised", "GIP 1.4.11": "not exercised",
    "OPCA R5.2.0(3)": "not exercised", "OPCA R5.2.0(5)": "not exercised",
    "PS-PCA.1": "not exercised",
}  # fmt: skip


@pytest.fixture(scope="module")
def c_firmware(tmp_path_factory) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (gcc) on this machine: the C example cannot be built")
    exe = tmp_path_factory.mktemp("firmware") / "pump_firmware"
    src = ROOT / "examples" / "controller_c" / "pump_firmware.c"
    subprocess.run([cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(exe), str(src)],
                   check=True)  # fmt: skip
    return exe


def test_c_firmware_verdicts(c_firmware, tmp_path, capsys) -> None:
    out = tmp_path / "report"
    code = main(["verify", "--quiet", "--out", str(out), "--controller", f"exec:{c_firmware}"])
    assert code == 1  # some requirements fail, on purpose
    got = json.loads((out / "report.json").read_text("utf-8"))["requirements"]
    assert {rid: r["status"] for rid, r in got.items()} == C_VERDICTS
    assert "FAIL GIP 6.1.3" in capsys.readouterr().err
