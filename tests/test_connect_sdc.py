"""The IEEE 11073 SDC provider met by sdc11073's own consumer, in one process, over
loopback, without discovery (the consumer is built from the provider's address).

Expected values and where they come from:

* MDC codes: IHE PCD Technical Framework Vol 3 Rev 8.0 §7.1 "Device: Infusion Pump"
  and the IPEC supplement (docs/references.md [IHEPCD-TF3] [IHEPCD-IPEC]), written
  here as literal numbers, not read from pumpsim's code table;
* the hard limit: pumpsim's example drug library (pumpsim/data/druglib.yaml),
  morphine 1 mg/mL on a medical-surgical ward: continuous upper hard limit 10 mg/h,
  i.e. 10 mL/h;
* the occlusion alarm's priority: pumpsim's alarm table (occlusion: high, after
  GIP 1.10.3), which BICEPS writes ``Hi``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("sdc11073", reason="the SDC provider needs the 'sdc' extra: "
                                       "pip install 'pumpsim[sdc]'")  # fmt: skip

from pumpsim.connect.sdc import EPOCH, SdcPump  # noqa: E402
from pumpsim.connect.session import Session  # noqa: E402
from pumpsim.errors import PumpsimError  # noqa: E402

SCENARIO = {
    "name": "SDC test bed",
    "duration": "4 h",
    "output": {"interval": "1 min"},
    "drug_library": "builtin",
    "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
    "pumps": [{
        "id": "A", "kind": "syringe", "syringe": "50 mL", "drug": "morphine",
        "concentration": "1 mg/mL", "route": "iv", "care_area": "med_surg",
        "settings": {"occlusion_limit": "300 mmHg"},
        "program": [{"mode": "continuous", "rate": "2 mL/h", "vtbi": "20 mL"}],
    }],
}  # fmt: skip
TIMEOUT = 10.0  # wall seconds for any one operation or notification


class Bed:
    """A lock-step session on an event loop in its own thread (as ``pumpsim serve`` runs
    it), its pump as an SDC provider, and sdc11073's consumer connected to it."""

    def __init__(self) -> None:
        from sdc11073.consumer.consumerimpl import SdcConsumer
        from sdc11073.definitions_sdc import SdcV1Definitions
        from sdc11073.mdib.consumermdib import ConsumerMdib

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.session: Session = self.on_loop(lambda: Session(SCENARIO, seed=1))
        self.pump = SdcPump(self.session, "A", self.loop)
        self.pump.start()
        self.on_loop(self.pump.follow)
        self.consumer = SdcConsumer(self.pump.address, sdc_definitions=SdcV1Definitions,
                                    ssl_context_container=None)  # fmt: skip
        self.consumer.start_all()
        self.mdib = ConsumerMdib(self.consumer)
        self.mdib.init_mdib()

    def on_loop(self, fn: Callable[[], Any]) -> Any:
        async def call() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(TIMEOUT)

    def face(self) -> dict[str, Any]:
        return self.on_loop(self.session.pump_faces)[0]

    def state(self, handle: str) -> Any:
        return self.mdib.entities.by_handle(handle).state

    def close(self) -> None:
        try:
            self.consumer.stop_all()
        finally:
            self.pump.stop()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(TIMEOUT)


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def bed():
    b = Bed()
    try:
        yield b
    finally:
        b.close()


def test_mdib_has_the_infusion_pump_codes(bed):
    code = {h: int(bed.mdib.entities.by_handle(h).descriptor.Type.Code)
            for h in ("mds", "vmd", "chan", "rate", "vtbi", "infused", "state",
                      "ac.occlusion", "ac.door_open", "ac.reservoir_empty",
                      "ac.near_empty", "ac.air_in_line")}  # fmt: skip
    assert code == {"mds": 69985, "vmd": 69986, "chan": 126978,  # MDS/VMD/delivery channel
                    "rate": 157784, "vtbi": 157884, "infused": 157993, "state": 184508,
                    "ac.occlusion": 196940, "ac.door_open": 196842,
                    "ac.reservoir_empty": 196634,  # MDC_EVT_EMPTY
                    # no verified air-in-line or near-empty code: MDC_EVT_ALARM
                    "ac.near_empty": 196616, "ac.air_in_line": 196616}  # fmt: skip
    unit = bed.mdib.entities.by_handle("rate").descriptor.Unit.Code
    assert int(unit) == 265266  # MDC_DIM_MILLI_L_PER_HR
    assert int(bed.mdib.entities.by_handle("vtbi").descriptor.Unit.Code) == 263762  # mL
    priority = {k: bed.mdib.entities.by_handle(f"ac.{k}").descriptor.Priority
                for k in ("occlusion", "near_empty", "vtbi_complete")}  # fmt: skip
    assert priority == {"occlusion": "Hi", "near_empty": "Lo", "vtbi_complete": "Me"}
    # the programmed 2 mL/h as the scenario says, at sim time 0
    wait_for(lambda: bed.state("rate").MetricValue is not None, "the first metrics")
    assert float(bed.state("rate").MetricValue.Value) == pytest.approx(2.0)
    assert bed.state("state").MetricValue.Value == "running"


def test_set_rate_goes_through_the_keypad_path(bed):
    bed.on_loop(lambda: bed.session.advance(60.0))
    result = bed.consumer.set_service_client.set_numeric_value("op.rate", 4).result(TIMEOUT)
    assert result.InvocationInfo.InvocationState == "Fin"
    assert bed.face()["rate_mL_h"] == pytest.approx(4.0)
    last = bed.session.inputs[-1]
    assert (last.origin, last.event["type"], last.event["rate"]) == ("sdc", "titrate", "4 mL/h")
    wait_for(lambda: float(bed.state("rate").MetricValue.Value) == 4.0, "rate 4 on the consumer")
    # determination time is sim time (60 s) from the epoch, not wall time
    assert bed.state("rate").MetricValue.DeterminationTime == pytest.approx(EPOCH + 60.0)


def test_hard_limit_is_refused_over_sdc(bed):
    before = bed.face()["rate_mL_h"]
    result = bed.consumer.set_service_client.set_numeric_value("op.rate", 15).result(TIMEOUT)
    assert result.InvocationInfo.InvocationState == "Fail"
    assert "hard upper limit" in str(result.InvocationInfo.InvocationErrorMessage)
    assert bed.face()["rate_mL_h"] == pytest.approx(before)
    # a command the schema refuses (a negative rate) fails too, naming the field
    result = bed.consumer.set_service_client.set_numeric_value("op.rate", -1).result(TIMEOUT)
    assert result.InvocationInfo.InvocationState == "Fail"


def test_activate_stop_and_start(bed):
    stop = bed.consumer.set_service_client.activate("op.stop").result(TIMEOUT)
    assert stop.InvocationInfo.InvocationState == "Fin"
    assert (bed.face()["state"], bed.face()["rate_mL_h"]) == ("paused", 0.0)
    wait_for(lambda: bed.state("state").MetricValue.Value == "paused", "paused on the consumer")
    again = bed.consumer.set_service_client.activate("op.stop").result(TIMEOUT)
    assert again.InvocationInfo.InvocationState == "Fail"  # input_ignored: already paused
    start = bed.consumer.set_service_client.activate("op.start").result(TIMEOUT)
    assert start.InvocationInfo.InvocationState == "Fin"
    assert bed.face()["state"] == "running"
    assert bed.face()["rate_mL_h"] == pytest.approx(4.0)


def test_set_vtbi_programs_the_pump(bed):
    result = bed.consumer.set_service_client.set_numeric_value("op.vtbi", 10).result(TIMEOUT)
    assert result.InvocationInfo.InvocationState == "Fin"
    assert bed.session.inputs[-1].event["program"] == [
        {"mode": "continuous", "rate": "4.0 mL/h", "vtbi": "10 mL"}]
    assert bed.face()["vtbi_mL"] == pytest.approx(10.0)


def test_occlusion_raises_the_alert_condition(bed):
    bed.on_loop(lambda: bed.session.command({"type": "occlusion", "pump": "A"}))
    # 300 mmHg on a 50 mL syringe and line (~5 uL/mmHg) at 4 mL/h: well within an hour
    bed.on_loop(lambda: bed.session.advance(bed.session.now + 3600.0))
    alarms = [r for r in bed.session.records if r.kind == "alarm"]
    assert [a.details["alarm"] for a in alarms] == ["occlusion"]
    wait_for(lambda: bed.state("ac.occlusion").Presence is True, "occlusion presence")
    cond = bed.state("ac.occlusion")
    assert cond.ActualPriority == "Hi"
    assert cond.DeterminationTime == pytest.approx(EPOCH + alarms[0].time_s)
    assert bed.state("as.occlusion").Presence == "On"
    assert bed.state("asy").PresentTechnicalAlarmConditions == ["ac.occlusion"]
    assert bed.state("ac.door_open").Presence is False


def test_unknown_pump_is_refused():
    session = Session(SCENARIO)
    with pytest.raises(PumpsimError, match="no pump 'Z'"):
        SdcPump(session, "Z", asyncio.new_event_loop())


def test_serve_options(tmp_path):
    """--sdc options are parsed and checked before anything starts."""
    import argparse

    from pumpsim.connect.serve import _attach_sdc, add_serve_parser

    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers())
    args = parser.parse_args(["serve", "--sdc", "--sdc-discovery", "--sdc-tls-dir",
                              str(tmp_path), "--sdc-tls-password", "pw"])  # fmt: skip
    assert (args.sdc, args.sdc_discovery, args.sdc_tls_dir) == (True, True, str(tmp_path))
    with pytest.raises(PumpsimError, match="missing userkey.pem, usercert.pem, cacert.pem"):
        _attach_sdc(object(), args)
    with pytest.raises(PumpsimError, match="need --sdc"):
        _attach_sdc(object(), parser.parse_args(["serve", "--sdc-discovery"]))
    far = parser.parse_args(["serve", "--sdc", "--host", "0.0.0.0", "--token", "t"])
    with pytest.raises(PumpsimError, match="needs --sdc-tls-dir"):
        _attach_sdc(object(), far)


def _certificates(folder) -> None:
    """A throw-away CA and one certificate it signed (openssl's command line)."""
    import subprocess

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True,
                       timeout=60)  # fmt: skip

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "cakey.pem", "-out",
        "cacert.pem", "-days", "1", "-subj", "/CN=pumpsim test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "userkey.pem", "-out", "user.csr",
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", "user.csr", "-CA", "cacert.pem", "-CAkey", "cakey.pem",
        "-CAcreateserial", "-out", "usercert.pem", "-days", "1")


def test_tls_with_mutual_certificates(tmp_path):
    import shutil
    import socket
    import ssl
    from urllib.parse import urlsplit

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command line to make test certificates")
    from sdc11073.certloader import mk_ssl_contexts_from_folder
    from sdc11073.consumer.consumerimpl import SdcConsumer
    from sdc11073.definitions_sdc import SdcV1Definitions

    from pumpsim.connect.sdc import SdcOptions

    _certificates(tmp_path)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    pump = SdcPump(Session(SCENARIO), "A", loop, options=SdcOptions(tls_dir=str(tmp_path)))
    pump.start()
    consumer = None
    try:
        assert pump.address.startswith("https://127.0.0.1:")
        # a client without a certificate is turned away during the handshake
        url = urlsplit(pump.address)
        bare = ssl.create_default_context(cafile=str(tmp_path / "cacert.pem"))
        bare.check_hostname = False
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with socket.create_connection((url.hostname, url.port), timeout=TIMEOUT) as raw:
                with bare.wrap_socket(raw) as tls:
                    tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    if not tls.recv(1):
                        raise ConnectionError("closed")
        consumer = SdcConsumer(pump.address, sdc_definitions=SdcV1Definitions,
                               ssl_context_container=mk_ssl_contexts_from_folder(tmp_path))
        consumer.start_all()
        result = consumer.set_service_client.activate("op.stop").result(TIMEOUT)
        assert result.InvocationInfo.InvocationState == "Fin"
    finally:
        if consumer is not None:
            consumer.stop_all()
        pump.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)


def test_alarm_records_in_order_and_unknown_kinds():
    """Alarm records as the session streams them, written straight into the provider's
    MDIB (no network): silence pauses the signal, clearing ends the condition, and an
    alarm kind outside pumpsim's table (a user's controller may raise one) lands on the
    generic condition with high priority, as the alarm table treats unknown kinds."""
    pump = SdcPump(Session(SCENARIO), "A", asyncio.new_event_loop())

    def record(kind: str, alarm: str, t: float, priority: str | None = None) -> dict:
        details = {"alarm": alarm, **({"priority": priority} if priority else {})}
        return {"type": "alarm", "source": "pump.A", "kind": kind, "sim_time_s": t,
                "details": details}  # fmt: skip

    def state(handle: str) -> Any:
        return pump.mdib.entities.by_handle(handle).state

    pump.write([record("alarm", "near_empty", 10.0, "low")], None)
    assert (state("ac.near_empty").Presence, state("ac.near_empty").ActualPriority) == (True, "Lo")
    pump.write([record("alarm_silenced", "near_empty", 20.0)], None)
    assert (state("as.near_empty").Presence, state("as.near_empty").ActivationState) == (
        "On", "Psd")
    pump.write([record("alarm", "my_alarm", 25.0, "high"),
                record("alarm_cleared", "near_empty", 30.0)], None)  # fmt: skip
    assert state("ac.near_empty").Presence is False
    assert state("as.near_empty").Presence == "Off"
    assert state("ac.near_empty").DeterminationTime == pytest.approx(EPOCH + 30.0)
    assert (state("ac.other_alarm").Presence, state("ac.other_alarm").ActualPriority) == (
        True, "Hi")
    assert state("asy").PresentTechnicalAlarmConditions == ["ac.other_alarm"]


def test_serve_makes_each_pump_of_the_first_session_a_provider(capsys):
    """``pumpsim serve --sdc``'s wiring: the app's lifespan starts one provider per pump,
    commands reach the session through the server's hub (origin ``sdc``), and shutdown
    stops them."""
    import re

    pytest.importorskip("fastapi", reason="pumpsim serve needs the 'live' extra")
    pytest.importorskip("httpx", reason="pumpsim serve needs the 'live' extra")
    from fastapi.testclient import TestClient
    from sdc11073.consumer.consumerimpl import SdcConsumer
    from sdc11073.definitions_sdc import SdcV1Definitions

    from pumpsim.connect.api import create_app
    from pumpsim.connect.sdc import SdcOptions, attach

    two = {**SCENARIO, "pumps": [*SCENARIO["pumps"], {
        "id": "B", "kind": "syringe", "syringe": "50 mL", "drug": "fluid", "route": "iv",
        "program": [{"mode": "continuous", "rate": "10 mL/h"}]}]}  # fmt: skip
    app = create_app(two, first_options={"lockstep": True})
    attach(app, SdcOptions())
    with TestClient(app) as client:
        found = re.findall(r"SDC provider of pump (\w+): (http://127\.0\.0\.1:\d+/\w+)",
                           capsys.readouterr().out)  # fmt: skip
        assert [pump for pump, _ in found] == ["A", "B"]
        consumer = SdcConsumer(found[1][1], sdc_definitions=SdcV1Definitions,
                               ssl_context_container=None)  # fmt: skip
        consumer.start_all()
        try:
            result = consumer.set_service_client.set_numeric_value("op.rate", 12).result(TIMEOUT)
        finally:
            consumer.stop_all()
        assert result.InvocationInfo.InvocationState == "Fin"
        faces = {p["id"]: p for p in client.get("/sessions/1").json()["pumps"]}
        assert (faces["A"]["rate_mL_h"], faces["B"]["rate_mL_h"]) == (2.0, 12.0)
        scenario = client.get("/sessions/1/scenario").text
        assert "rate: 12 mL/h" in scenario
