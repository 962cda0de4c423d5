"""Controllers in another process or language, reached through the lock-step protocol.

:class:`ExternalController` implements the Python controller interface
(:class:`pumpsim.pump.controller.Controller`) and forwards each callback over
:mod:`pumpsim.connect.protocol`; the engine cannot tell it from a Python
controller. :class:`ExternalFactory` is the controller factory behind a spec:

- ``exec:./my_firmware arg...`` starts that command (split as a shell would,
  without a shell) and speaks on its stdin/stdout; its stderr is kept and shown
  in any error;
- ``tcp://127.0.0.1:PORT`` connects to a controller already listening there.

One process or connection serves every pump of every run the factory is used
for (``pumpsim verify`` starts the firmware once for the whole suite). Every read
has a deadline (:data:`DEFAULT_TIMEOUT`, or ``PUMPSIM_CONTROLLER_TIMEOUT`` [s]; the
first answer, ``hello``, at least :data:`STARTUP_TIMEOUT`): a
controller that hangs ends the run with an error naming it, never a hang. The
child is always reaped: on :meth:`ExternalFactory.close`, when the factory is
garbage-collected, and at interpreter exit.
"""

from __future__ import annotations

import math
import os
import select
import shlex
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable
from typing import IO, Any, NoReturn
from urllib.parse import urlsplit

from pumpsim.connect.protocol import (
    PROTOCOL_VERSION,
    ProtocolError,
    check_command,
    config_to_json,
    decode,
    encode,
    input_to_json,
    sensor_to_json,
)
from pumpsim.pump.controller import (
    ControllerError,
    Hardware,
    OperatorInput,
    PumpConfig,
    SensorEvent,
)

__all__ = [
    "ExternalController",
    "ExternalFactory",
    "ExternalControllerError",
    "controller_factory",
    "parse_spec",
    "DEFAULT_TIMEOUT",
]

#: seconds to wait for any one answer of the controller
DEFAULT_TIMEOUT = 10.0
#: seconds a starting controller has to answer ``hello`` (loading a runtime can be slow)
STARTUP_TIMEOUT = 30.0
#: longest line accepted from a controller [bytes]
MAX_LINE = 16 * 1024 * 1024
_STDERR_TAIL = 600


class ExternalControllerError(ControllerError):
    """An external controller that failed, hung, died or broke the protocol."""


def _timeout_from_env() -> float:
    raw = os.environ.get("PUMPSIM_CONTROLLER_TIMEOUT")
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or not math.isfinite(value):
        raise ExternalControllerError(
            f"PUMPSIM_CONTROLLER_TIMEOUT={raw!r}: a positive number of seconds"
        )
    return value


class _Link:
    """A byte line link with a deadline on every read and write (pipe or socket)."""

    def __init__(self, rfd: int, wfd: int, read: Callable[[int], bytes],
                 write: Callable[[memoryview], int], timeout: float) -> None:  # fmt: skip
        self.rfd, self.wfd = rfd, wfd
        self._read, self._write = read, write
        self.timeout = timeout
        self._buf = bytearray()

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout
        while view:
            try:
                n = self._write(view)
            except (BlockingIOError, InterruptedError):
                n = 0
            view = view[n:]
            if view:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([], [self.wfd], [], left)[1]:
                    raise TimeoutError(f"the controller read nothing for {self.timeout:g} s")

    def recv(self) -> bytes:
        start = 0
        deadline = time.monotonic() + self.timeout
        while True:
            end = self._buf.find(b"\n", start)
            if end >= 0:
                line = bytes(self._buf[: end + 1])
                del self._buf[: end + 1]
                return line
            if len(self._buf) > MAX_LINE:
                raise ProtocolError(f"a line longer than {MAX_LINE} bytes")
            start = len(self._buf)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                raise TimeoutError(f"no answer within {self.timeout:g} s")
            try:
                chunk = self._read(65536)
            except (BlockingIOError, InterruptedError):
                continue
            if not chunk:
                raise EOFError("the controller closed its output")
            self._buf += chunk


def parse_spec(spec: str) -> tuple[str, Any]:
    """``("exec", argv)`` or ``("tcp", (host, port))`` for a controller spec; raises
    :class:`ExternalControllerError` (one line: the spec and what to write)."""
    if spec.startswith("exec:"):
        try:
            argv = shlex.split(spec[len("exec:") :])
        except ValueError as exc:
            raise ExternalControllerError(f"controller {spec!r}: {exc}") from None
        if not argv:
            raise ExternalControllerError(f"controller {spec!r}: write exec:COMMAND [ARGS...]")
        return "exec", argv
    url = urlsplit(spec)
    try:
        host, port = url.hostname, url.port
    except ValueError:
        host, port = None, None
    if url.scheme != "tcp" or not host or port is None or url.path not in ("", "/"):
        raise ExternalControllerError(f"controller {spec!r}: write exec:COMMAND [ARGS...] or "
                                      "tcp://HOST:PORT, e.g. tcp://127.0.0.1:7000")  # fmt: skip
    return "tcp", (host, port)


class _Connection:
    """The live process or socket behind a factory; closed once."""

    def __init__(self, spec: str, timeout: float) -> None:
        self.spec = spec
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.stderr: IO[bytes] | None = None
        self.closed = False
        self.name = "?"
        kind, target = parse_spec(spec)
        if kind == "exec":
            self.link = self._start(target, timeout)
        else:
            self.link = self._connect(target, timeout)

    def _start(self, argv: list[str], timeout: float) -> _Link:
        self.stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self.stderr, bufsize=0)  # fmt: skip
        except OSError as exc:
            self.stderr.close()
            raise ExternalControllerError(f"controller {self.spec!r}: cannot start {argv[0]}: "
                                          f"{exc.strerror or exc}") from None  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        rfd, wfd = self.proc.stdout.fileno(), self.proc.stdin.fileno()
        os.set_blocking(wfd, False)
        return _Link(rfd, wfd, lambda n: os.read(rfd, n), lambda b: os.write(wfd, b), timeout)

    def _connect(self, address: tuple[str, int], timeout: float) -> _Link:
        try:
            sock = socket.create_connection(address, timeout=timeout)
        except OSError as exc:
            raise ExternalControllerError(f"controller {self.spec!r}: cannot connect: "
                                          f"{exc.strerror or exc}") from None  # fmt: skip
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self.sock = sock
        fd = sock.fileno()
        return _Link(fd, fd, sock.recv, sock.send, timeout)

    def stderr_tail(self) -> str:
        if self.stderr is None:
            return ""
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - _STDERR_TAIL))
            text = self.stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        return " | ".join(line for line in text.splitlines() if line.strip())

    def close(self, grace: float = 2.0) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.link.send(encode({"type": "bye"}))
        except (OSError, TimeoutError, ValueError):
            pass
        if self.sock is not None:
            self.sock.close()
        if self.proc is not None:
            _reap(self.proc, grace)
        if self.stderr is not None:
            self.stderr.close()


def _reap(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Close the child's stdin, give it ``grace`` [s] to exit, else kill it; always wait."""
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ExternalFactory:
    """Builds :class:`ExternalController` proxies that share one process or connection.

    Parameters
    ----------
    spec : str
        ``exec:COMMAND [ARGS...]`` or ``tcp://HOST:PORT``.
    timeout : float, optional
        Seconds to wait for any answer (default ``PUMPSIM_CONTROLLER_TIMEOUT``, else
        :data:`DEFAULT_TIMEOUT`).
    """

    def __init__(self, spec: str, timeout: float | None = None) -> None:
        parse_spec(spec)  # a bad spec fails here, before anything starts
        self.spec = spec
        self.timeout = timeout if timeout is not None else _timeout_from_env()
        self._conn: _Connection | None = None
        self._ids = 0
        #: messages sent and answered so far (``call``, ``hw``, ``new``, ``hello``)
        self.exchanges = 0
        self._finalizer: weakref.finalize | None = None

    # the connection opens on first use, so a factory that is never called starts nothing
    def _connection(self) -> _Connection:
        if self._conn is not None:
            if self._conn.closed:
                raise ExternalControllerError(f"controller {self.spec!r}: connection closed "
                                              "(by close() or an earlier error)")  # fmt: skip
            return self._conn
        conn = _Connection(self.spec, self.timeout)
        self._conn = conn
        self._finalizer = weakref.finalize(self, conn.close)
        conn.link.timeout = max(self.timeout, STARTUP_TIMEOUT)
        hello = self.exchange({"type": "hello", "protocol": PROTOCOL_VERSION,
                               "pumpsim": _version()}, ("hello",))  # fmt: skip
        conn.link.timeout = self.timeout
        if hello.get("protocol") != PROTOCOL_VERSION:
            self.fail(f"speaks protocol {hello.get('protocol')!r}; this pumpsim speaks "
                      f"{PROTOCOL_VERSION}")  # fmt: skip
        conn.name = str(hello.get("name", "?"))
        return conn

    def __call__(self, config: PumpConfig) -> ExternalController:
        conn = self._connection()
        self._ids += 1
        answer = self.exchange({"type": "new", "id": self._ids,
                                "config": config_to_json(config)}, ("done", "error"))  # fmt: skip
        if answer["type"] == "error":
            self.fail(f"refused pump {config.pump_id}: {answer.get('message', '')}")
        if answer.get("cmds"):
            self.fail(f"sent commands while being built (pump {config.pump_id}); a controller "
                      "acts from its callbacks")  # fmt: skip
        return ExternalController(self, self._ids, conn.name)

    def exchange(self, message: dict[str, Any], expected: tuple[str, ...]) -> dict[str, Any]:
        """Send ``message`` and read the answer (one of ``expected`` types)."""
        return self.send_and_read(encode(message), expected)

    def send_and_read(self, data: bytes, expected: tuple[str, ...]) -> dict[str, Any]:
        conn = self._conn
        assert conn is not None
        self.exchanges += 1
        try:
            conn.link.send(data)
            return decode(conn.link.recv(), expected)
        except TimeoutError as exc:
            self.fail(str(exc), hung=True)
        except (EOFError, OSError, ProtocolError) as exc:
            self.fail(str(exc))

    def fail(self, why: str, hung: bool = False) -> NoReturn:
        """Close the connection (a ``hung`` child is killed at once) and raise one line:
        the controller, what went wrong, its exit status and the end of its stderr."""
        conn = self._conn
        extra = ""
        if conn is not None:
            proc = conn.proc
            code = proc.poll() if proc is not None else None
            if proc is not None and code is None:
                try:  # it may be on its way out: let it finish writing stderr
                    code = proc.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    code = None
            tail = conn.stderr_tail()
            conn.close(grace=0.0 if hung else 2.0)
            if code is not None:
                extra += f"; exit status {code}"
            if tail:
                extra += f"; stderr: {tail}"
        raise ExternalControllerError(f"controller {self.spec!r}: {why}{extra}")

    def close(self) -> None:
        """Say ``bye``, close the connection and reap the child (idempotent)."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> ExternalFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ExternalFactory({self.spec!r})"


def _version() -> str:
    from pumpsim._version import __version__

    return __version__


def snapshot(hw: Hardware) -> dict[str, Any]:
    """The ``hw`` readings a controller may query (an unlimited reservoir as None)."""
    reservoir = hw.reservoir
    return {
        "now": hw.now,
        "infused": hw.infused,
        "reservoir": reservoir if math.isfinite(reservoir) else None,
        "rate": hw.rate,
        "pressure_downstream": hw.pressure("downstream"),
        "pressure_upstream": hw.pressure("upstream"),
    }


def apply(hw: Hardware, cmds: Any) -> None:
    """Apply a controller's commands to ``hw`` in order (:data:`protocol.COMMANDS`)."""
    if not isinstance(cmds, list):
        raise ProtocolError("cmds must be a list of commands")
    for cmd in cmds:
        name, args = check_command(cmd)
        if name == "set_rate":
            if args[0] < 0 or not math.isfinite(args[0]):
                raise ProtocolError(f"command set_rate: rate must be >= 0 mL/s, got {args[0]}")
            hw.set_rate(args[0])
        elif name == "stop":
            hw.stop(complete_stroke=args[0])
        elif name == "log":
            hw.log(args[0], **args[1])
        else:
            getattr(hw, name)(*args)


class ExternalController:
    """The Python face of a controller that runs elsewhere (one pump's instance).

    Each callback sends a ``call`` with a Hardware snapshot and applies the
    commands that come back, answering ``sync`` requests with fresh readings,
    until ``done``. ``state`` is the last state the controller showed (what the
    engine reads back after a power loss).
    """

    def __init__(self, factory: ExternalFactory, ident: int, name: str = "?") -> None:
        self.factory = factory
        self.id = ident
        self.name = name
        self.state = "idle"

    def _call(self, hw: Hardware, message: dict[str, Any]) -> None:
        factory = self.factory
        message["hw"] = snapshot(hw)
        answer = factory.exchange(message, ("done", "sync", "error"))
        while True:
            kind = answer["type"]
            if kind == "error":
                factory.fail(f"error in {message['cb']}: {answer.get('message', '')}")
            try:
                cmds = answer.get("cmds", [])
                apply(hw, cmds)
            except ProtocolError as exc:
                factory.fail(f"in {message['cb']}: {exc}")
            for cmd in cmds:
                if cmd[0] == "set_state":
                    self.state = cmd[1]
            if kind == "done":
                return
            answer = factory.exchange({"type": "hw", "hw": snapshot(hw)},
                                      ("done", "sync", "error"))  # fmt: skip

    def on_start(self, hw: Hardware) -> None:
        self._call(hw, {"type": "call", "id": self.id, "cb": "start"})

    def on_timer(self, hw: Hardware, name: str) -> None:
        self._call(hw, {"type": "call", "id": self.id, "cb": "timer", "name": name})

    def on_sensor(self, hw: Hardware, event: SensorEvent) -> None:
        self._call(hw, {"type": "call", "id": self.id, "cb": "sensor",
                        "event": sensor_to_json(event)})  # fmt: skip

    def on_input(self, hw: Hardware, event: OperatorInput) -> None:
        self._call(hw, {"type": "call", "id": self.id, "cb": "input",
                        "event": input_to_json(event)})  # fmt: skip


def controller_factory(spec: str) -> ExternalFactory:
    """The factory behind an ``exec:`` or ``tcp://`` controller spec (what
    :func:`pumpsim.pump.controller.load_controller` returns for those schemes)."""
    return ExternalFactory(spec)
