"""Serve a Python controller over the lock-step protocol (stdin/stdout or TCP).

::

    python -m pumpsim.connect.host reference                   # stdin/stdout
    python -m pumpsim.connect.host --tcp 7000 mypkg.mod:MyCtl  # tcp://127.0.0.1:7000

``CONTROLLER`` is anything ``--controller`` takes for a Python controller
(``package.module:Class``, ``file.py:Class`` or a built-in short name). With it,
``pumpsim verify --controller "exec:python -m pumpsim.connect.host reference"``
runs pumpsim's reference firmware behind the protocol, with the same verdicts and
byte-identical result files as in process: the :class:`HostHardware` handed to the
controller answers reads from the ``hw`` snapshot and, when a read follows a
command that may change it (``set_rate``, ``stop``), asks the engine for fresh
readings (``sync``) instead of guessing.

In stdio mode the protocol owns the process's real stdout; anything the controller
prints goes to stderr. In TCP mode every connection is an engine with its own
controllers, served in its own thread; the first line on stdout says where it
listens (``--tcp 0`` picks a free port).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import socketserver
import sys
from collections.abc import Callable
from typing import IO, Any

from pumpsim.connect.protocol import (
    PROTOCOL_VERSION,
    ProtocolError,
    config_from_json,
    encode,
    input_from_json,
    sensor_from_json,
)
from pumpsim.errors import PumpsimError
from pumpsim.pump.controller import Controller, ControllerFactory, load_controller

__all__ = ["HostHardware", "serve", "main"]


class HostHardware:
    """The :class:`~pumpsim.pump.controller.Hardware` a hosted controller drives.

    Commands are collected and sent with the callback's ``done``; ``now`` and, until
    the controller commands the motor, every reading come from the call's snapshot.
    ``rate`` after ``set_rate``/``stop`` is what was commanded (the engine keeps it as
    given); other readings after a motor command are fetched with a ``sync``.
    """

    def __init__(self, exchange: Callable[[list[Any]], dict[str, Any]]) -> None:
        self._exchange = exchange
        self._hw: dict[str, Any] = {}
        self._rate: float = 0.0
        self.cmds: list[Any] = []
        self._stale = False

    def begin(self, hw: dict[str, Any]) -> None:
        self._hw, self._rate, self.cmds, self._stale = hw, hw["rate"], [], False

    def _fresh(self, name: str) -> Any:
        if self._stale:
            self._hw = self._exchange(self.cmds)
            self.cmds, self._stale = [], False
        return self._hw[name]

    @property
    def now(self) -> float:
        return self._hw["now"]  # type: ignore[no-any-return]

    @property
    def infused(self) -> float:
        return self._fresh("infused")  # type: ignore[no-any-return]

    @property
    def reservoir(self) -> float:
        value = self._fresh("reservoir")
        return float("inf") if value is None else value  # type: ignore[no-any-return]

    @property
    def rate(self) -> float:
        return self._rate

    def pressure(self, side: str = "downstream") -> float:
        # as the engine: any side but "upstream" is the downstream sensor
        key = "pressure_upstream" if side == "upstream" else "pressure_downstream"
        return self._fresh(key)  # type: ignore[no-any-return]

    def set_rate(self, rate: float) -> None:
        self.cmds.append(["set_rate", rate])
        self._rate, self._stale = rate, True

    def stop(self, complete_stroke: bool = False) -> None:
        self.cmds.append(["stop", bool(complete_stroke)])
        self._rate, self._stale = 0.0, True

    def set_timer(self, name: str, at: float) -> None:
        self.cmds.append(["set_timer", name, at])

    def watch_volume(self, name: str, infused: float) -> None:
        self.cmds.append(["watch_volume", name, infused])

    def cancel(self, name: str) -> None:
        self.cmds.append(["cancel", name])

    def watch_pressure(self, name: str, limit: float, side: str = "downstream") -> None:
        self.cmds.append(["watch_pressure", name, limit, side])

    def set_state(self, state: str) -> None:
        self.cmds.append(["set_state", state])

    def alarm(self, kind: str, priority: str, message: str = "") -> None:
        self.cmds.append(["alarm", kind, priority, message])

    def log(self, kind: str, /, **details: Any) -> None:
        self.cmds.append(["log", kind, details])


def serve(factory: ControllerFactory, rfile: IO[bytes], wfile: IO[bytes], name: str) -> None:
    """Answer one engine on ``rfile``/``wfile`` until ``bye`` or end of input."""
    controllers: dict[int, Controller] = {}

    def send(message: dict[str, Any]) -> None:
        wfile.write(encode(message))
        wfile.flush()

    def read() -> dict[str, Any] | None:
        line = rfile.readline()
        if not line:
            return None
        msg = json.loads(line)
        if not isinstance(msg, dict):
            raise ProtocolError(f"not a message object: {line[:80]!r}")
        return msg

    def sync(cmds: list[Any]) -> dict[str, Any]:
        send({"type": "sync", "cmds": cmds})
        answer = read()
        if answer is None or answer.get("type") != "hw":
            raise ProtocolError(f"expected hw after sync, got {answer!r}")
        return answer["hw"]  # type: ignore[no-any-return]

    hw = HostHardware(sync)
    while (msg := read()) is not None:
        kind = msg.get("type")
        if kind == "bye":
            return
        try:
            if kind == "hello":
                send({"type": "hello", "protocol": PROTOCOL_VERSION, "name": name})
                continue
            if kind == "new":
                controllers[msg["id"]] = factory(config_from_json(msg["config"]))
                send({"type": "done", "cmds": []})
                continue
            if kind != "call":
                raise ProtocolError(f"unknown message type {kind!r}")
            ctl = controllers[msg["id"]]
            hw.begin(msg["hw"])
            _dispatch(ctl, hw, msg)
            send({"type": "done", "cmds": hw.cmds})
        except Exception as exc:  # the engine reports it, with this controller's name
            send({"type": "error", "message": f"{type(exc).__name__}: {exc}"})


def _dispatch(ctl: Controller, hw: HostHardware, msg: dict[str, Any]) -> None:
    cb = msg["cb"]
    if cb == "start":
        ctl.on_start(hw)
    elif cb == "timer":
        ctl.on_timer(hw, msg["name"])
    elif cb == "sensor":
        ctl.on_sensor(hw, sensor_from_json(msg["event"]))
    elif cb == "input":
        ctl.on_input(hw, input_from_json(msg["event"]))
    else:
        raise ProtocolError(f"unknown callback {cb!r}")


def _serve_stdio(factory: ControllerFactory, name: str) -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the controller prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr
    serve(factory, sys.stdin.buffer, out, name)
    out.close()


def _serve_tcp(factory: ControllerFactory, name: str, host: str, port: int, once: bool) -> None:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            serve(factory, self.rfile, self.wfile, name)  # type: ignore[arg-type]

    base = socketserver.TCPServer if once else socketserver.ThreadingTCPServer
    server_cls = type("HostServer", (base,), {"allow_reuse_address": True,
                                              "daemon_threads": True})  # fmt: skip
    with server_cls((host, port), Handler) as server:
        bound_host, bound_port = server.socket.getsockname()[:2]
        print(f"listening on tcp://{bound_host}:{bound_port}", flush=True)
        if once:
            server.handle_request()
        else:
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pumpsim.connect.host",
        description="Serve a Python pumpsim controller over the lock-step protocol "
                    "(stdin/stdout, or TCP with --tcp).",
    )  # fmt: skip
    parser.add_argument("controller", help="package.module:Class, file.py:Class or a short name")
    parser.add_argument("--tcp", type=int, default=None, metavar="PORT",
                        help="listen on TCP instead of stdin/stdout (0: a free port)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on with --tcp (default 127.0.0.1)")
    parser.add_argument("--once", action="store_true",
                        help="with --tcp: serve one connection, then exit")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        factory = load_controller(args.controller)
    except PumpsimError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    name = f"pumpsim.connect.host {args.controller}"
    if args.tcp is None:
        _serve_stdio(factory, name)
        return 0
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: anyone who reaches it can drive this "
              "controller (no authentication)", file=sys.stderr)  # fmt: skip
    _serve_tcp(factory, name, args.host, args.tcp, args.once)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
