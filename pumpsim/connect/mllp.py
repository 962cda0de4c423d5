"""MLLP transport for pumpsim's HL7 messages: a sender that never loses a message, a listener.

:class:`MllpSender` sends each message over one TCP connection (python-hl7's
asyncio MLLP streams) and waits for its acknowledgement:

* ``AA``/``CA`` — accepted: the message is delivered;
* ``AE``/``CE`` — the receiver took the message but reports an application
  error: delivered, recorded in :attr:`MllpSender.errors`, not resent (the
  same message would fail the same way);
* ``AR``/``CR``, no acknowledgement within ``ack_timeout``, a refused or
  broken connection — resent after an exponential back-off (``backoff`` ×
  2^k, at most ``max_backoff``), reconnecting as needed, up to ``retries``
  times. A message still undelivered stays first in :attr:`MllpSender.outbox`
  and :class:`DeliveryError` is raised: nothing is dropped and the order of
  messages is kept.

:func:`serve_orders` listens for PCD-03 orders and answers each with
ACK^O15 (``CA`` when it is held as a pending order, ``CE`` with the reason
otherwise). Both bind or connect where told; pumpsim's defaults are loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DeliveryError", "MllpSender", "SendReport", "serve_orders"]

ACCEPT = {"AA", "CA"}
ERROR = {"AE", "CE"}


class DeliveryError(ConnectionError):
    """A message could not be delivered after every retry (it stays in the outbox)."""


@dataclass
class SendReport:
    """What happened to the messages handed to :meth:`MllpSender.send_all`."""

    delivered: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (control id, ERR text)
    attempts: int = 0
    seconds: float = 0.0


def _control_id(message: str) -> str:
    msh = message.split("\r", 1)[0].split("|")
    return msh[9] if len(msh) > 9 else ""


def _ack_code(reply: Any) -> str:
    for seg in str(reply).split("\r"):
        if seg.startswith("MSA|"):
            return seg.split("|")[1]
    return ""


class MllpSender:
    """Send HL7 messages over MLLP to ``host:port`` with acknowledgement and retries."""

    def __init__(self, host: str, port: int, ack_timeout: float = 5.0, retries: int = 5,
                 backoff: float = 0.2, max_backoff: float = 5.0,
                 connect_timeout: float = 5.0) -> None:  # fmt: skip
        if not 0 < port < 65536:
            raise ValueError(f"port: must be 1-65535, got {port}")
        self.host, self.port = host, port
        self.ack_timeout, self.retries = ack_timeout, retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.connect_timeout = connect_timeout
        self.outbox: deque[str] = deque()
        self.errors: list[tuple[str, str]] = []
        self._reader: Any = None
        self._writer: Any = None

    async def _connect(self) -> None:
        from hl7.mllp import open_hl7_connection

        self._reader, self._writer = await asyncio.wait_for(
            open_hl7_connection(self.host, self.port, encoding="utf-8"), self.connect_timeout)
        sock = self._writer.get_extra_info("socket")
        if sock is not None:  # no Nagle stall between a message and its ACK
            import socket

            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def close(self) -> None:
        """Close the connection (messages still in the outbox stay there)."""
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self._reader = self._writer = None

    async def _send_once(self, message: str) -> tuple[str, str]:
        import hl7

        if self._writer is None:
            await self._connect()
        self._writer.writemessage(hl7.parse(message))
        await self._writer.drain()
        reply = await asyncio.wait_for(self._reader.readmessage(), self.ack_timeout)
        return _ack_code(reply), str(reply)

    async def send(self, message: str) -> int:
        """Queue ``message`` and deliver the outbox in order; return the attempts it took.

        Raises :class:`DeliveryError` when the first message of the outbox cannot be
        delivered after ``retries`` resends.
        """
        self.outbox.append(message)
        return await self.flush()

    async def flush(self) -> int:
        """Deliver every queued message in order; return the number of attempts made."""
        attempts = 0
        while self.outbox:
            msg = self.outbox[0]
            for k in range(self.retries + 1):
                attempts += 1
                try:
                    code, reply = await self._send_once(msg)
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                        ConnectionError) as exc:  # fmt: skip
                    await self.close()
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if code in ACCEPT:
                        break
                    if code in ERROR:
                        err = next((s for s in reply.split("\r") if s.startswith("ERR")), "")
                        self.errors.append((_control_id(msg), err or code))
                        break
                    last = f"acknowledged {code or 'without MSA'}"
                if k < self.retries:
                    await asyncio.sleep(min(self.max_backoff, self.backoff * 2**k))
            else:
                raise DeliveryError(
                    f"message {_control_id(msg)!r} to {self.host}:{self.port} not delivered "
                    f"after {self.retries + 1} attempts ({last}); {len(self.outbox)} message(s) "
                    "kept in the outbox")  # fmt: skip
            self.outbox.popleft()
        return attempts

    async def send_all(self, messages: Iterable[str]) -> SendReport:
        """Send a whole stream in order and report what happened."""
        t0 = time.perf_counter()
        report = SendReport()
        before = len(self.errors)
        try:
            for m in messages:
                report.attempts += await self.send(m)
                report.delivered += 1
        finally:
            await self.close()
        report.errors = self.errors[before:]
        report.seconds = time.perf_counter() - t0
        return report


async def serve_orders(
    on_order: Callable[[Any], Awaitable[None] | None],
    host: str = "127.0.0.1",
    port: int = 0,
) -> asyncio.AbstractServer:
    """Listen for PCD-03 RGV^O15 orders; hold each via ``on_order(PendingOrder)``.

    Every message gets an ACK^O15 on the same connection: ``CA`` once
    ``on_order`` returned, ``CE`` with the reason when the message is not an
    order pumpsim can hold (it is never started). Returns the asyncio server
    (``server.sockets[0].getsockname()`` gives the port; close it when done).
    """
    import hl7
    from hl7.mllp import start_hl7_server

    from pumpsim.connect.hl7 import OrderError, ack, order_from_rgv

    async def client(reader: Any, writer: Any) -> None:
        try:
            while not writer.is_closing():
                try:
                    msg = await reader.readmessage()
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                text = str(msg)
                try:
                    order = order_from_rgv(text)
                except OrderError as exc:
                    reply = ack(text, "CE", str(exc))
                else:
                    result = on_order(order)
                    if asyncio.iscoroutine(result):
                        await result
                    reply = ack(text, "CA")
                writer.writemessage(hl7.parse(reply))
                await writer.drain()
        finally:
            writer.close()

    return await start_hl7_server(client, host, port, encoding="utf-8")
