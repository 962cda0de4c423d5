"""Live emulator over its REST/WebSocket API, in process (FastAPI's TestClient).

Expected values come from the scenario schema's own rules (field paths, allowed
values) and from batch runs of the same scenario (``pumpsim run``): a session is
the same Simulation, so its files must equal the batch run's byte for byte.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from pumpsim.cli import main  # noqa: E402
from pumpsim.connect.api import Limits, create_app  # noqa: E402
from pumpsim.connect.codes import code_for_alarm  # noqa: E402
from pumpsim.connect.session import Session  # noqa: E402

#: two pumps so that every command kind has something to act on
SCENARIO = {
    "name": "live test bed",
    "duration": "30 min",
    "output": {"interval": "30 s"},
    "patient": {"age": "45 y", "weight": "70 kg", "height": "170 cm", "sex": "female",
                "vitals": {}},
    "pumps": [
        {"id": "A", "kind": "syringe", "syringe": "50 mL", "drug": "morphine",
         "pk_model": "lotsch2002", "concentration": "1 mg/mL", "route": "iv",
         "settings": {"occlusion_limit": "300 mmHg", "bolus_rate": "60 mL/h"},
         "program": [{"mode": "pca", "basal": "1 mL/h", "demand_dose": "1 mg",
                      "lockout": "6 min"}]},
        {"id": "B", "kind": "syringe", "syringe": "50 mL", "drug": "fluid",
         "route": "iv", "program": [{"mode": "continuous", "rate": "10 mL/h"}]},
    ],
    # scripted events at the very sim times of inputs below: a batch run handles the
    # scripted one first, and so must the session
    "events": [{"at": "5 min", "type": "titrate", "pump": "B", "rate": "11 mL/h"},
               {"at": "1000 s", "type": "pca_press", "pump": "A"}],
}

#: (sim time to advance to [s], command): every kind of scenario input, some at the same
#: instant (several inputs at one sim time must keep their order in the replay)
COMMANDS = [
    (60.0, {"type": "pca_press", "pump": "A"}),
    (60.0, {"type": "titrate", "pump": "B", "rate": "12 mL/h"}),
    (120.0, {"type": "stop", "pump": "B"}),
    (150.5, {"type": "start", "pump": "B"}),
    (180.0, {"type": "clinician_bolus", "pump": "A", "dose": "0.5 mg"}),
    (240.0, {"type": "program", "pump": "B",
             "program": [{"mode": "continuous", "rate": "8 mL/h", "vtbi": "20 mL"}]}),
    (300.0, {"type": "occlusion", "pump": "A", "side": "downstream"}),
    (600.0, {"type": "silence", "pump": "A"}),
    (620.0, {"type": "clear_occlusion", "pump": "A"}),
    (640.0, {"type": "confirm", "pump": "A"}),
    (660.0, {"type": "start", "pump": "A"}),
    (700.0, {"type": "air", "pump": "B", "volume": "300 uL"}),
    (760.0, {"type": "start", "pump": "B"}),
    (800.0, {"type": "door_open", "pump": "B"}),
    (820.0, {"type": "door_close", "pump": "B"}),
    (840.0, {"type": "start", "pump": "B"}),
    (900.0, {"type": "mains_lost", "pump": "B"}),
    (960.0, {"type": "mains_restored", "pump": "B"}),
    (1000.0, {"type": "disconnection", "pump": "B"}),
    (1030.0, {"type": "reconnection", "pump": "B"}),
    (1100.0, {"type": "bolus", "drug": "morphine", "dose": "2 mg", "route": "iv",
              "pk_model": "lotsch2002"}),
    (1150.0, {"type": "bolus", "drug": "propofol", "dose": "1 mg/kg", "route": "iv"}),
    (1200.0, {"type": "adverse_reaction", "reaction": "anaphylaxis", "severity": "mild"}),
    (1300.0, {"type": "pca_demand", "pump": "A", "rate": "6/h", "until": "28 min"}),
    (1400.0, {"type": "infiltration", "pump": "A"}),
    (1500.0, {"type": "free_flow", "pump": "B", "head": "40 mmHg"}),
    (1600.0, {"type": "silence", "pump": "B"}),
]


@pytest.fixture()
def client():
    app = create_app(first_session=False, limits=Limits(commands_per_s=1000, command_burst=1000))
    with TestClient(app) as c:
        yield c


def _lockstep(client: TestClient, scenario=SCENARIO, seed: int = 7) -> str:
    r = client.post("/sessions", json={"scenario": scenario, "seed": seed, "lockstep": True})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _drive(client: TestClient, sid: str) -> list[dict]:
    # a watcher that reads every metric along the way: reading must not change the run
    watcher = client.app.state.hub.sessions[sid].subscribe(maxsize=1_000_000)
    replies = []
    for at, cmd in COMMANDS:
        r = client.post(f"/sessions/{sid}/advance", json={"to": at})
        assert r.status_code == 200, r.text
        r = client.post(f"/sessions/{sid}/commands", json=cmd)
        assert r.status_code == 200, (cmd, r.text)
        assert r.json()["applied_at_s"] == at
        replies.append(r.json())
    r = client.post(f"/sessions/{sid}/advance", json={"to": "end"})
    assert r.json()["finished"] is True
    assert not watcher.dropped and watcher.queue.qsize() > 100
    return replies


def test_every_command_kind_replays_byte_for_byte(client, tmp_path):
    sid = _lockstep(client)
    replies = _drive(client, sid)
    # structural inputs (a new drug, an infiltration depot, stochastic demand) rebuild the run
    rebuilt = {c["type"] for (_, c), r in zip(COMMANDS, replies, strict=True) if r["rebuilt"]}
    assert {"pca_demand", "infiltration"} <= rebuilt
    assert not any(r["history_changed"] for r in replies)  # the rebuilt runs replay the past
    scenario = client.get(f"/sessions/{sid}/scenario")
    assert scenario.status_code == 200
    path = tmp_path / "session.yaml"
    path.write_text(scenario.text)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--seed", "7"]) == 0
    for name in ("timeseries.csv", "events.jsonl"):
        live = client.get(f"/sessions/{sid}/files/{name}").content
        assert live == (tmp_path / "out" / name).read_bytes(), name
    events = [json.loads(line) for line in
              client.get(f"/sessions/{sid}/files/events.jsonl").text.splitlines()]
    kinds = {(e["source"], e["kind"]) for e in events}
    inputs = {e["details"]["input"] for e in events if e["kind"] == "input"}
    assert {"pca_press", "titrate", "stop", "start", "clinician_bolus", "program", "silence",
            "confirm"} <= inputs
    for expected in [("pump.A", "occlusion"), ("pump.B", "air_entered"),
                     ("pump.B", "door"), ("manual", "bolus"), ("pump.A", "infiltration"),
                     ("pump.B", "disconnection"), ("pump.B", "reconnection")]:
        assert expected in kinds, expected


def test_lockstep_is_deterministic():
    """Same commands at the same sim times twice: the same stream, message for message."""
    streams = []
    for _ in range(2):
        session = Session(SCENARIO, seed=3)
        sub = session.subscribe(maxsize=100_000)
        for at, cmd in COMMANDS[:14]:
            session.advance(at)
            session.command(cmd)
        session.advance(900.0)
        messages = []
        while not sub.queue.empty():
            m = json.loads(sub.queue.get_nowait())
            m.pop("wall_time", None)  # wall-clock stamps differ; everything else must not
            messages.append(m)
        streams.append(messages)
    assert len(streams[0]) > 20
    assert streams[0] == streams[1]
    kinds = {m["type"] for m in streams[0]}
    assert {"metrics", "event", "alarm", "input", "status"} <= kinds
    metrics = next(m for m in streams[0] if m["type"] == "metrics")
    codes = {x["name"]: x["mdc"] for x in metrics["metrics"]}
    # IEEE 11073-10101 codes, IHE PCD TF Vol 3 Rev 8.0 §7.1 (docs/references.md [IHEPCD-TF3])
    assert codes["pump.A.rate[mL/h]"] == 157784
    assert codes["pump.A.vtbi[mL]"] is None or codes["pump.A.vtbi[mL]"] == 157884
    assert codes["pump.B.vtbi[mL]"] == 157884
    assert codes["pump.A.infused[mL]"] == 157993
    assert codes["pump.A.state"] == 184508
    door = next(m for m in streams[0] if m["type"] == "alarm" and m["kind"] == "alarm"
                and m["details"]["alarm"] == "door_open")
    assert door["mdc"] == 196842 and door["details"]["priority"] == "high"
    assert code_for_alarm("occlusion").mdc == 196940


@pytest.mark.parametrize(("command", "status", "field"), [
    ({"type": "titrate", "pump": "A", "rate": "5 kg"}, 422, "rate"),
    ({"type": "occlusion", "pump": "Z"}, 422, "pump"),
    ({"type": "teleport", "pump": "A"}, 422, "type"),
    ({"type": "start", "pump": "A", "colour": "red"}, 422, "colour"),
    ({"type": "start", "pump": "A", "at": "1 h"}, 422, "at"),
    ({"type": "occlusion", "pump": "A", "severity": 3}, 422, "severity"),
])
def test_bad_commands_are_refused_with_the_field_and_nothing_applied(client, command, status,
                                                                     field):
    sid = _lockstep(client)
    client.post(f"/sessions/{sid}/advance", json={"to": "1 min"})
    before = client.get(f"/sessions/{sid}/scenario").text
    r = client.post(f"/sessions/{sid}/commands", json=command)
    assert r.status_code == status, r.text
    assert r.json()["detail"][0]["loc"][:2] == ["body", field]
    assert client.get(f"/sessions/{sid}/scenario").text == before
    assert client.get(f"/sessions/{sid}").json()["inputs"] == 0


def test_refusals_keep_the_server_running(client):
    sid = _lockstep(client)
    r = client.post(f"/sessions/{sid}/commands", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert client.post("/sessions/99/commands", json={"type": "start"}).status_code == 404
    assert client.post(f"/sessions/{sid}/pace", json={"speed": 5000}).status_code == 422
    big = {"type": "start", "pump": "A", "pad": "x" * 70_000}
    assert client.post(f"/sessions/{sid}/commands", json=big).status_code == 413
    assert client.get(f"/sessions/{sid}/files/events.jsonl").status_code == 409  # not finished
    client.post(f"/sessions/{sid}/advance", json={"to": "end"})
    r = client.post(f"/sessions/{sid}/commands", json={"type": "start", "pump": "A"})
    assert r.status_code == 409 and "finished" in r.json()["detail"]
    assert client.get("/sessions").status_code == 200


def test_limits_on_sessions_and_command_rate():
    app = create_app(first_session=False,
                     limits=Limits(max_sessions=2, commands_per_s=1.0, command_burst=3))
    with TestClient(app) as c:
        sid = c.post("/sessions", json={"lockstep": True}).json()["id"]
        c.post("/sessions", json={"lockstep": True})
        assert c.post("/sessions", json={"lockstep": True}).status_code == 429
        codes = [c.post(f"/sessions/{sid}/commands", json={"type": "silence", "pump": "A"})
                 .status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:]


def test_token_is_required_when_set():
    with TestClient(create_app(first_session=False, token="s3cret")) as c:
        assert c.get("/sessions").status_code == 401
        assert c.get("/sessions", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/sessions", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/sessions?token=s3cret").status_code == 200
        # the static page and its script carry no session data: they load without the token
        assert c.get("/").status_code == 200
        assert c.get("/web/pumpface.js").status_code == 200
        assert c.post("/sessions", json={}).status_code == 401


def test_websocket_commands_and_slow_client_dropped(client):
    sid = _lockstep(client)
    with client.websocket_connect(f"/sessions/{sid}/stream") as ws:
        ws.send_text("{oops")
        ws.send_json({"command": {"type": "titrate", "pump": "A", "rate": "2 kg"}})
        ws.send_json({"command": {"type": "silence", "pump": "A"}})
        seen = []
        while len([m for m in seen if m["type"] in ("error", "reply")]) < 3:
            seen.append(ws.receive_json())
        answers = [m for m in seen if m["type"] in ("error", "reply")]
        assert answers[0]["status"] == 400 and "malformed JSON" in answers[0]["detail"]
        assert answers[1]["status"] == 422 and answers[1]["detail"][0]["loc"] == ["body", "rate"]
        assert answers[2]["type"] == "reply"
    # a subscriber that never reads is dropped once its queue is full; time still moves
    session = client.app.state.hub.sessions[sid]
    sub = session.subscribe(maxsize=4)
    for t in (60, 120, 180, 240):
        session.advance(t)
    assert sub.dropped and session.now == 240.0
    assert sub not in session._subscribers


def test_pages_and_docs_work_offline(client):
    page = client.get("/")
    assert page.status_code == 200 and "pumpface.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    js = client.get("/web/pumpface.js").text
    assert "https://" not in js and "http://" not in js
    docs = client.get("/docs")
    assert docs.status_code == 200
    if "swagger-ui-bundle.js" in docs.text:
        assert "cdn.jsdelivr" not in docs.text
        assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/sessions/{sid}/commands" in schema["paths"]
