"""HL7 v2 per IHE PCD: PCD-01/04/10 from a run, PCD-03 orders in, MLLP with ACKs and retries.

Rules checked (docs/references.md [IHEPCD-TF2], [IHEPCD-TF3]): PCD-01 ORU^R01
validates strictly with hl7apy (HL7 v2.6); PCD-04 ORU^R40 and PCD-10 ORU^R42 are
checked against the IHE profile rules by hand, since base-HL7 validators
reject those IHE structures (no ORU_R40 in base HL7): MSH-21 profile, OBR-4
MDC_EVT_ALARM, the alert identity then facets on a fifth OBX-4 level, priority
PH/PM/PL. MLLP runs against listeners on 127.0.0.1, port 0.
"""

from __future__ import annotations

import asyncio
import collections

import pytest

hl7 = pytest.importorskip("hl7", reason="the hl7 extra is not installed")

import pumpsim  # noqa: E402
from pumpsim.cli import main  # noqa: E402
from pumpsim.connect.hl7 import (  # noqa: E402
    PROFILE_ACM,
    PROFILE_DEC,
    OrderError,
    ack,
    messages_from_result,
    order_from_rgv,
    read_messages,
)
from pumpsim.connect.mllp import DeliveryError, MllpSender, serve_orders  # noqa: E402

SCENARIO = "scenarios/occlusion_syringe.yaml"  # start, occlusion alarm, stop


@pytest.fixture(scope="module")
def stream() -> list[str]:
    return messages_from_result(pumpsim.simulate(SCENARIO, seed=0), every_s=300.0)


def _fields(message: str, segment: str) -> list[list[str]]:
    return [s.split("|") for s in message.split("\r") if s.startswith(segment + "|")]


def test_stream_has_each_kind_in_time_order(stream) -> None:
    kinds = collections.Counter(m.split("\r")[0].split("|")[8] for m in stream)
    # 4 h at 5-min reports: 49 PCD-01; one occlusion alarm; infusion start and stop
    assert kinds == {"ORU^R01^ORU_R01": 49, "ORU^R40^ORU_R40": 1, "ORU^R42^ORU_R42": 2}
    times = [m.split("\r")[0].split("|")[6] for m in stream]
    assert times == sorted(times)
    again = messages_from_result(pumpsim.simulate(SCENARIO, seed=0), every_s=300.0)
    assert again == stream  # same run, same bytes


def test_pcd01_validates_strictly_with_hl7apy(stream) -> None:
    parser = pytest.importorskip("hl7apy.parser")
    from hl7apy.consts import VALIDATION_LEVEL

    for m in [s for s in stream if "ORU^R01" in s][:5]:
        msg = parser.parse_message(m, validation_level=VALIDATION_LEVEL.STRICT)
        assert msg.validate()
        assert msg.msh.msh_21.to_er7() == PROFILE_DEC
    first = next(s for s in stream if "ORU^R01" in s)
    obx = _fields(first, "OBX")
    # containment tree: MDS, VMD, channel (containers: empty OBX-2, status X), then metrics
    assert [o[3].split("^")[0] for o in obx[:3]] == ["69985", "69986", "126978"]
    assert all(o[2] == "" and o[11] == "X" for o in obx[:3])
    assert {o[3].split("^")[0] for o in obx[3:]} >= {"157784", "157884", "157993", "184508"}
    assert all(o[4].startswith("1.1.1.") for o in obx[3:])
    assert all(o[18].endswith("^EUI-64") for o in obx)


def test_pcd04_follows_the_ihe_acm_rules(stream) -> None:
    alarm = next(s for s in stream if "ORU^R40" in s)
    msh = alarm.split("\r")[0].split("|")
    assert msh[20] == PROFILE_ACM
    assert _fields(alarm, "OBR")[0][4] == "196616^MDC_EVT_ALARM^MDC"
    obx = _fields(alarm, "OBX")
    assert obx[0][3].startswith("196940^MDC_EVT_FLUID_LINE_OCCL")  # the alert's identity
    facets = {o[3].split("^")[1]: o[5] for o in obx[1:]}
    assert all(len(o[4].split(".")) == 5 for o in obx)  # fifth sub-id level
    assert facets["MDC_ATTR_EVENT_PHASE"] == "start"
    assert facets["MDC_ATTR_ALARM_STATE"] == "active"
    assert facets["MDC_ATTR_ALARM_PRIORITY"] == "PH"  # occlusion is a high-priority alarm
    assert facets["MDC_ATTR_ALERT_TYPE"] == "SP"
    events = [s for s in stream if "ORU^R42" in s]
    conds = [next(o[5] for o in _fields(e, "OBX") if "EVT_COND" in o[3]) for e in events]
    assert conds[0].startswith("197288^MDC_EVT_PUMP_DELIV_START")
    assert conds[1].startswith("stop^")


def test_cli_writes_the_stream(tmp_path, capsys) -> None:
    out = tmp_path / "messages.hl7"
    argv = ["run", SCENARIO, "--out", str(tmp_path / "run"), "--no-plots", "--seed", "0",
            "--hl7-out", str(out), "--hl7-every", "5 min"]  # fmt: skip
    assert main(argv) == 0
    assert "HL7 messages" in capsys.readouterr().out
    assert read_messages(out.read_bytes()) == messages_from_result(
        pumpsim.simulate(SCENARIO, seed=0), every_s=300.0)  # fmt: skip
    assert main([*argv[:-2], "--hl7-every", "-1 min", "--force"]) == 1
    assert "--hl7-every" in capsys.readouterr().err


def _rgv(rate: str = "5", unit: str = "265266^MDC_DIM_MILLI_L_PER_HR^MDC", vtbi: str = "20",
         pump: str = "A", kind: str = "RGV^O15^RGV_O15") -> str:  # fmt: skip
    rxg = ["RXG", "1", "", "^^^20260101000000+0000", "^morphine^99PUMPSIM", vtbi, "",
           "263762^MDC_DIM_MILLI_L^MDC", "", "", "", "", "", "", "", rate, unit]  # fmt: skip
    return "\r".join([
        "MSH|^~\\&|EMR|HOSP|PUMPSIM|PUMPSIM|20260101000000+0000||" + kind + "|ORD-7|P|2.6|||AL|"
        "NE||UNICODE UTF-8|||IHE_PCD_PIV_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.3.1^ISO",
        "PID|||12345^^^HOSP^MR||Doe^Jane", "ORC|RE|ORD-7^EMR", "|".join(rxg),
        "RXR|C38276^INTRAVENOUS^NCI",
        "|".join(["OBX", "1", "", "69986^MDC_DEV_PUMP_INFUS_VMD^MDC", *[""] * 14,
                  f"{pump}^EUI-64" if pump else ""])])  # fmt: skip


def test_pcd03_order_is_held_not_started() -> None:
    order = order_from_rgv(_rgv())
    assert (order.order_id, order.pump_id, order.rate, order.vtbi) == ("ORD-7", "A", "5 mL/h",
                                                                       "20 mL")  # fmt: skip
    cmd = order.program_command()  # what the operator's confirmation sends
    assert cmd == {"type": "program", "pump": "A",
                   "program": [{"mode": "continuous", "rate": "5 mL/h", "vtbi": "20 mL"}]}
    for bad, field in ((_rgv(rate=""), "RXG-15"), (_rgv(unit="mg/h"), "RXG-16"),
                       (_rgv(rate="-5"), "RXG-15"), (_rgv(pump=""), "OBX-18"),
                       (_rgv(kind="ORU^R01^ORU_R01"), "MSH-9"), ("not hl7", "message")):
        with pytest.raises(OrderError, match=field):
            order_from_rgv(bad)
    reply = ack(_rgv(), "CA")
    assert "|ACK^O15^ACK|" in reply and "MSA|CA|ORD-7" in reply


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_mllp_accept_error_and_retry_never_lose_a_message(stream) -> None:
    received: list[str] = []
    plan = collections.deque(["drop", "drop", "AA", "AE", "AA", "AA"])

    async def scenario() -> tuple[object, object]:
        from hl7.mllp import start_hl7_server

        async def client(reader, writer) -> None:
            while True:
                try:
                    msg = await reader.readmessage()
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                step = plan.popleft() if plan else "AA"
                if step == "drop":  # no ACK: close the connection
                    writer.close()
                    return
                received.append(str(msg).split("\r")[0].split("|")[9])
                writer.writemessage(hl7.parse(ack(str(msg), step)))
                await writer.drain()

        server = await start_hl7_server(client, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sender = MllpSender("127.0.0.1", port, ack_timeout=2.0, retries=4, backoff=0.01)
        report = await sender.send_all(stream[:4])
        server.close()
        await server.wait_closed()
        return report, sender

    report, sender = _run(scenario())
    ids = [m.split("\r")[0].split("|")[9] for m in stream[:4]]
    assert received == ids  # each once, in order, after two dropped attempts
    assert report.delivered == 4 and report.attempts == 6
    assert [e[0] for e in report.errors] == [ids[1]]  # the AE is recorded, not resent
    assert not sender.outbox


def test_mllp_unreachable_keeps_the_message() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there

    async def scenario() -> MllpSender:
        sender = MllpSender("127.0.0.1", port, retries=2, backoff=0.01, connect_timeout=1.0)
        with pytest.raises(DeliveryError, match="kept in the outbox"):
            await sender.send("MSH|^~\\&|A|B|||20260101000000+0000||ORU^R01|X1|P|2.6")
        return sender

    sender = _run(scenario())
    assert len(sender.outbox) == 1


def test_order_listener_answers_ca_and_ce() -> None:
    held = []

    async def scenario() -> list[str]:
        from hl7.mllp import open_hl7_connection

        server = await serve_orders(held.append, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await open_hl7_connection("127.0.0.1", port)
        codes = []
        for text in (_rgv(), _rgv(unit="mg/h")):
            writer.writemessage(hl7.parse(text))
            await writer.drain()
            reply = await asyncio.wait_for(reader.readmessage(), 5)
            codes.append(str(reply.segment("MSA")[1]))
        writer.close()
        server.close()
        await server.wait_closed()
        return codes

    assert _run(scenario()) == ["CA", "CE"]
    assert [o.order_id for o in held] == ["ORD-7"]  # only the good order is held
