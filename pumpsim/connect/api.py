"""REST + WebSocket API of the live emulator (``pumpsim serve``), with FastAPI.

Every route is ``async def`` (no thread pool between a request and the
simulation); the simulation advances in the same event loop, so a command is
applied between two pacing steps, at the sim time the session has reached.

==========================================  =============================================
``GET /``                                   the pump face page (``pumpsim/web``)
``GET /sessions`` / ``POST /sessions``      list / start sessions
``GET /sessions/{id}``                      status: sim time, speed, pacing lag, pumps
``DELETE /sessions/{id}``                   end a session
``POST /sessions/{id}/commands``            one input: a scenario event without ``at``
``POST /sessions/{id}/advance``             lock-step: ``{"by": "10 min"}`` or ``{"to": "end"}``
``POST /sessions/{id}/pace``                ``{"speed": 60, "paused": false}``
``GET /sessions/{id}/scenario``             the session as a scenario file (YAML)
``GET /sessions/{id}/files/{name}``         ``timeseries.csv``, ``events.jsonl``, ``summary.json``
``WS  /sessions/{id}/stream``               metrics, events, alarms; commands in
==========================================  =============================================

Security: the server binds 127.0.0.1 unless told otherwise; with ``token`` every
request for sessions needs ``Authorization: Bearer <token>`` (or ``?token=``, which the
page passes on to its API calls and WebSocket); the static page, its assets, ``/docs``
and ``/openapi.json`` are served without it. Limits: number of sessions, request and
message size, commands per second per session, a bounded queue per WebSocket client
(a slow client is dropped, the simulation never waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from pumpsim.connect.session import (
    MAX_SPEED,
    MIN_SPEED,
    CommandError,
    Session,
    SessionStateError,
)
from pumpsim.errors import PumpsimError
from pumpsim.units import parse

__all__ = ["create_app", "Limits"]

FILES = ("timeseries.csv", "events.jsonl", "summary.json")
MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson", "json": "application/json"}


@dataclass(frozen=True)
class Limits:
    """What one server accepts."""

    max_sessions: int = 16
    max_body_bytes: int = 64 * 1024  # a request body or a WebSocket message
    commands_per_s: float = 50.0  # per session, sustained
    command_burst: int = 100
    queue_messages: int = 512  # per WebSocket client, then it is dropped
    max_inputs: int = 10_000  # per session (its scenario file grows with each)


class SessionCreate(BaseModel):
    """A new session: a scenario (default: the server's), a seed, and how time moves."""

    model_config = {"extra": "forbid"}
    scenario: dict[str, Any] | None = Field(
        default=None, description="a scenario mapping, as in a scenario file")
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    speed: float | None = Field(default=None, ge=MIN_SPEED, le=MAX_SPEED,
                                description="sim s per wall s (default: the server's)")
    lockstep: bool = Field(default=False, description="time moves only on 'advance'")
    paused: bool = False


class Pace(BaseModel):
    model_config = {"extra": "forbid"}
    speed: float | None = Field(default=None, ge=MIN_SPEED, le=MAX_SPEED)
    paused: bool | None = None
    lockstep: bool | None = None


class Advance(BaseModel):
    """Lock-step: move sim time ``by`` a time, or ``to`` a time or ``"end"``."""

    model_config = {"extra": "forbid"}
    by: str | float | None = Field(default=None, examples=["10 min"])
    to: str | float | None = Field(default=None, examples=["2 h", "end"])


_COMMAND_EXAMPLES: Any = {
    "titrate": {"value": {"type": "titrate", "pump": "A", "rate": "5 mL/h"}},
    "start": {"value": {"type": "start", "pump": "A"}},
    "occlusion": {"value": {"type": "occlusion", "pump": "A", "side": "downstream"}},
    "bolus": {"value": {"type": "bolus", "drug": "morphine", "dose": "2 mg", "route": "iv"}},
}


class _Bucket:
    """Token bucket: ``rate`` per second, up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.t = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class Hub:
    """The server's sessions, limits and default scenario."""

    def __init__(self, default: Mapping[str, Any] | None, speed: float, limits: Limits,
                 controller: str | None = None) -> None:  # fmt: skip
        self.default = dict(default) if default is not None else None
        self.speed = speed
        self.limits = limits
        self.controller = controller
        self.sessions: dict[str, Session] = {}
        self.buckets: dict[str, _Bucket] = {}
        self._ids = itertools.count(1)

    def create(self, req: SessionCreate) -> Session:
        if len(self.sessions) >= self.limits.max_sessions:
            raise HTTPException(429, f"at most {self.limits.max_sessions} sessions; "
                                     "delete one first")  # fmt: skip
        sid = str(next(self._ids))
        source = req.scenario if req.scenario is not None else self.default
        speed = None if req.lockstep else (req.speed or self.speed)
        session = Session(source, seed=req.seed, speed=speed, session_id=sid,
                          controller=self.controller)  # fmt: skip
        if req.paused:
            session.set_pace(speed, paused=True)
        self.sessions[sid] = session
        self.buckets[sid] = _Bucket(self.limits.commands_per_s, self.limits.command_burst)
        if speed is not None:
            session.start_pacing()
        return session

    def get(self, sid: str) -> Session:
        session = self.sessions.get(sid)
        if session is None:
            raise HTTPException(404, f"no session {sid!r}; sessions: "
                                     f"{', '.join(self.sessions) or 'none'}")  # fmt: skip
        return session

    def command(self, sid: str, command: Any, origin: str) -> dict[str, Any]:
        session = self.get(sid)
        if not self.buckets[sid].take():
            raise HTTPException(429, f"more than {self.limits.commands_per_s:g} commands/s "
                                     "for this session")  # fmt: skip
        if len(session.inputs) >= self.limits.max_inputs:
            raise HTTPException(409, f"session {sid} has taken {self.limits.max_inputs} "
                                     "inputs, its limit")  # fmt: skip
        entry = session.command(command, origin=origin)
        return {"applied_at_s": entry.time_s, "event": entry.event, "rebuilt": entry.rebuilt,
                "history_changed": entry.history_changed,
                "index": len(session.inputs) - 1}  # fmt: skip

    def close(self) -> None:
        for s in self.sessions.values():
            s.close()
        self.sessions.clear()


def _time(value: str | float, field: str) -> float:
    try:
        return parse(value, "time") if isinstance(value, str) else float(value)
    except (PumpsimError, ValueError) as exc:
        raise CommandError([(field, str(exc))]) from None


def _problems_json(exc: CommandError) -> dict[str, Any]:
    return {"detail": [{"loc": ["body", *(p.split(".") if p else [])], "msg": m,
                        "type": "value_error"} for p, m in exc.problems]}  # fmt: skip


def _swagger_dir() -> Path | None:
    """Swagger UI's files as shipped by the swagger-ui-py package, if installed."""
    try:
        import swagger_ui
    except ImportError:
        return None
    folder = Path(swagger_ui.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def _web_file(name: str) -> bytes:
    return (resources.files("pumpsim") / "web" / name).read_bytes()


def create_app(
    scenario: Mapping[str, Any] | None = None,
    *,
    speed: float = 60.0,
    token: str | None = None,
    limits: Limits | None = None,
    controller: str | None = None,
    first_session: bool = True,
    first_options: Mapping[str, Any] | None = None,
) -> FastAPI:
    """The FastAPI application of ``pumpsim serve``.

    Parameters
    ----------
    scenario : mapping, optional
        Default scenario of new sessions (else a bare syringe pump).
    speed : float
        Default speed of paced sessions (sim s per wall s).
    token : str, optional
        Required on every request when given (``Authorization: Bearer`` or ``?token=``).
    first_session : bool
        Start session "1" (paced at ``speed``) when the server starts, with
        ``first_options`` (fields of :class:`SessionCreate`).
    """
    hub = Hub(scenario, speed, limits or Limits(), controller)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if first_session:
            hub.create(SessionCreate(**(first_options or {})))
        yield
        hub.close()

    app = FastAPI(title="pumpsim live emulator", lifespan=lifespan, docs_url=None,
                  description="Drive simulated infusion pumps live: REST commands are the "
                              "scenario file's own events; a WebSocket streams metrics "
                              "(with IEEE 11073-10101 codes), events and alarms.")  # fmt: skip
    app.state.hub = hub
    # the classroom pages (pumpsim app) are one more part of this server, not a second one
    from pumpsim.connect.classroom import build_router

    app.include_router(build_router())

    def authorised(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        if token is None:
            return True
        given = query.get("token") or headers.get("authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())

    public = ("/", "/docs", "/openapi.json")  # static pages and the schema: no session data

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        path = request.url.path
        open_path = path in public or path.startswith(("/web/", "/docs-assets/"))
        if not open_path and not authorised(request.headers, request.query_params):
            return JSONResponse({"detail": "missing or wrong token"}, status_code=401)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > hub.limits.max_body_bytes:
            return JSONResponse({"detail": f"request body over {hub.limits.max_body_bytes} "
                                           "bytes"}, status_code=413)  # fmt: skip
        return await call_next(request)  # type: ignore[no-any-return]

    @app.exception_handler(CommandError)
    async def _command_error(_r: Request, exc: CommandError) -> JSONResponse:
        return JSONResponse(_problems_json(exc), status_code=422)

    @app.exception_handler(SessionStateError)
    async def _state_error(_r: Request, exc: SessionStateError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(PumpsimError)
    async def _pumpsim_error(_r: Request, exc: PumpsimError) -> JSONResponse:
        lines = getattr(exc, "lines", None)
        detail = lines() if callable(lines) else [str(exc)]
        return JSONResponse({"detail": detail}, status_code=422)

    # -- page ----------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(_web_file("index.html"))

    @app.get("/web/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in ("pumpface.js", "pumpface.css", "LICENSE.txt"):
            raise HTTPException(404, f"no asset {name!r}")
        kind = {"js": "text/javascript", "css": "text/css", "txt": "text/plain"}
        return Response(_web_file(name), media_type=kind[name.rsplit(".", 1)[1]])

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI from the swagger-ui-py package (Apache-2.0), served offline."""
        from fastapi.openapi.docs import get_swagger_ui_html

        if _swagger_dir() is None:
            return HTMLResponse("<p>Interactive docs need the 'swagger-ui-py' package "
                                "(pip install 'pumpsim[live]'); the API schema is at "
                                "<a href='/openapi.json'>/openapi.json</a>.</p>")  # fmt: skip
        q = f"?token={token}" if token else ""
        return get_swagger_ui_html(
            openapi_url=f"/openapi.json{q}", title="pumpsim live emulator - API",
            swagger_js_url=f"/docs-assets/swagger-ui-bundle.js{q}",
            swagger_css_url=f"/docs-assets/swagger-ui.css{q}",
            swagger_favicon_url=f"/docs-assets/favicon-32x32.png{q}")  # fmt: skip

    @app.get("/docs-assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        folder = _swagger_dir()
        kinds = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
                 "favicon-32x32.png": "image/png"}  # fmt: skip
        if folder is None or name not in kinds:
            raise HTTPException(404, f"no docs asset {name!r}")
        return Response((folder / name).read_bytes(), media_type=kinds[name])

    # -- sessions ------------------------------------------------------------------------
    @app.get("/sessions")
    async def list_sessions() -> list[dict[str, Any]]:
        return [s.status() for s in hub.sessions.values()]

    @app.post("/sessions", status_code=201)
    async def create_session(req: SessionCreate) -> dict[str, Any]:
        session = hub.create(req)
        return {**session.status(), "pumps": session.pump_faces()}

    @app.get("/sessions/{sid}")
    async def get_session(sid: str) -> dict[str, Any]:
        session = hub.get(sid)
        return {**session.status(), "pumps": session.pump_faces()}

    @app.delete("/sessions/{sid}", status_code=204)
    async def delete_session(sid: str) -> Response:
        hub.get(sid).close()
        del hub.sessions[sid]
        hub.buckets.pop(sid, None)
        return Response(status_code=204)

    @app.post("/sessions/{sid}/commands")
    async def command(
        sid: str, body: dict[str, Any] = Body(..., openapi_examples=_COMMAND_EXAMPLES)  # noqa: B008
    ) -> dict[str, Any]:
        """One input, applied at the session's current sim time: a scenario event without
        ``at`` (same fields and unit strings as in a scenario file). 422 names the field."""
        return hub.command(sid, body, "rest")

    @app.post("/sessions/{sid}/advance")
    async def advance(sid: str, req: Advance) -> dict[str, Any]:
        session = hub.get(sid)
        if (req.by is None) == (req.to is None):
            raise CommandError([("", "give one of 'by' (a time) or 'to' (a time or 'end')")])
        if req.to == "end":
            until = session.duration
        elif req.to is not None:
            until = _time(req.to, "to")
        else:
            until = session.now + _time(req.by, "by")  # type: ignore[arg-type]
        if until < session.now:
            raise CommandError([("to", f"{until:g} s is before the session's time "
                                       f"{session.now:g} s")])  # fmt: skip
        session.advance(until)
        return session.status()

    @app.post("/sessions/{sid}/pace")
    async def pace(sid: str, req: Pace) -> dict[str, Any]:
        session = hub.get(sid)
        if session.finished:
            raise SessionStateError(f"session {sid} has finished")
        if req.lockstep:
            session.set_pace(None)
        else:
            speed = req.speed or session.speed or hub.speed
            session.set_pace(speed, req.paused if req.paused is not None else session.paused)
            session.start_pacing()
        return session.status()

    @app.get("/sessions/{sid}/scenario", response_class=PlainTextResponse)
    async def scenario_file(sid: str) -> PlainTextResponse:
        """The session as a scenario file: ``pumpsim run`` of it with the session's seed
        writes the session's timeseries.csv and events.jsonl byte for byte."""
        return PlainTextResponse(hub.get(sid).scenario_file(), media_type="application/yaml")

    @app.get("/sessions/{sid}/files/{name}")
    async def result_file(sid: str, name: str) -> Response:
        if name not in FILES:
            raise HTTPException(404, f"no file {name!r}; files: {', '.join(FILES)}")
        data = hub.get(sid).files()[name]
        return Response(data, media_type=MEDIA[name.rsplit(".", 1)[1]])

    @app.websocket("/sessions/{sid}/stream")
    async def stream(ws: WebSocket, sid: str) -> None:
        if not authorised(ws.headers, ws.query_params):
            await ws.close(code=1008, reason="missing or wrong token")
            return
        session = hub.sessions.get(sid)
        if session is None:
            await ws.close(code=1008, reason=f"no session {sid!r}")
            return
        await ws.accept()
        sub = session.subscribe(hub.limits.queue_messages)

        async def send() -> None:
            while True:
                text = await sub.queue.get()
                if text is None:  # dropped (too slow) or the session closed
                    reason = "too slow: queue full" if sub.dropped else "session closed"
                    await ws.close(code=1013 if sub.dropped else 1000, reason=reason)
                    return
                await ws.send_text(text)
                sub.delivered += 1

        async def receive() -> None:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                reply: dict[str, Any]
                if text is None:
                    reply = {"type": "error", "status": 400, "detail": "send JSON text frames"}
                elif len(text) > hub.limits.max_body_bytes:
                    reply = {"type": "error", "status": 413, "detail": "message too large"}
                else:
                    reply = _ws_command(text)
                sub.offer(json.dumps(reply))

        def _ws_command(text: str) -> dict[str, Any]:
            try:
                msg = json.loads(text)
            except ValueError as exc:
                return {"type": "error", "status": 400, "detail": f"malformed JSON: {exc}"}
            if not isinstance(msg, dict) or not isinstance(msg.get("command"), dict):
                return {"type": "error", "status": 422,
                        "detail": 'send {"command": {"type": ..., ...}}'}  # fmt: skip
            try:
                return {"type": "reply", **hub.command(sid, msg["command"], "websocket")}
            except CommandError as exc:
                return {"type": "error", "status": 422, **_problems_json(exc)}
            except SessionStateError as exc:
                return {"type": "error", "status": 409, "detail": str(exc)}
            except HTTPException as exc:
                return {"type": "error", "status": exc.status_code, "detail": exc.detail}

        tasks = [asyncio.create_task(send()), asyncio.create_task(receive())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            session.unsubscribe(sub)
            with contextlib.suppress(Exception):
                await ws.close()

    return app
