"""IEEE 11073 SDC provider: each pump of a live session as an SDC participant (sdc11073).

``pip install "pumpsim[sdc]"`` (sdc11073 pinned at 3.0.0, imported only here and only
when a provider is built). One :class:`SdcPump` per pump of a
:class:`~pumpsim.connect.session.Session`:

* **MDIB** (BICEPS, IEEE 11073-10207), built in code from the one code table
  (:mod:`pumpsim.connect.codes`): MDS MDC_DEV_PUMP_INFUS_MDS (69985) → VMD
  MDC_DEV_PUMP_INFUS_VMD (69986) → channel MDC_DEV_PUMP_INFUS_CHAN_DELIVERY
  (126978) with the metrics whose table row has an ``sdc`` handle: rate
  (157784, mL/h), VTBI (157884, mL), volume infused (157993, mL) and the pump
  state (184508, an enumerated string). An alert system holds one alert condition
  and one audible alert signal per alarm of pumpsim's alarm table; the condition's
  type is the alarm's MDC event code (occlusion 196940, door 196842, reservoir
  empty and near empty 196634; air in line and every alarm without a verified
  code: MDC_EVT_ALARM 196616, with the pumpsim alarm name as its concept
  description) and its priority the table's (high/medium/low → Hi/Me/Lo).
* **Operations**: SetValue on rate and VTBI, Activate ``start`` and ``stop``. An
  operation becomes the session's operator command — ``titrate``, ``program``,
  ``start``, ``stop`` — through :meth:`Session.command`, the path keypad input
  takes, so the scenario schema, the pump's controller and its drug-library
  (DERS) checks all apply. The invocation fails (``Fail``, with the reason as
  its error message) when the schema refuses the command or the controller
  refuses it (a hard limit: ``titrate_refused``/``program_refused``), waits for
  a soft-limit override (``override_required``: confirm at the pump) or ignores it
  (``input_ignored``). SetValue VTBI programs a continuous step at the pump's
  programmed rate with that VTBI (volume from now).
* **Updates** come from the session's stream (:meth:`Session.subscribe`): alarm
  records in order (condition presence, actual priority; signal on, paused when
  silenced) and the latest metrics, each stamped with the sim time as
  determination time (``EPOCH`` + sim seconds, as the HL7 adapter does).

Operation and metric types without a verified MDC code use the private coding
system :data:`PRIVATE_CODING` (``start``, ``stop``, ``set-rate``, ``set-vtbi``).
sdc11073's own caveat applies: it is "not intended for use in medical products".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from pumpsim.connect.codes import SIGNALS, UNIT_CODES, code_for_alarm
from pumpsim.errors import PumpsimError

__all__ = ["SdcPump", "SdcOptions", "mdib_xml", "attach", "PRIVATE_CODING", "EPOCH",
           "PRIORITIES", "ALERT_KINDS"]  # fmt: skip

#: sim time 0 as a Unix timestamp (the HL7 adapter's default epoch, 2026-01-01 UTC)
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
#: coding system of pumpsim's own codes, where no MDC code is verified
PRIVATE_CODING = "urn:pumpsim:codes"
#: pumpsim alarm priority -> BICEPS AlertConditionPriority
PRIORITIES = {"high": "Hi", "medium": "Me", "low": "Lo"}
#: containers (IHE PCD TF Vol 3 §7.1, docs/references.md [IHEPCD-TF3])
MDS, VMD, CHANNEL = 69985, 69986, 126978
#: controller records that mean the command did not take effect
REFUSALS = ("input_ignored", "override_required")
#: wall seconds an operation waits for the session's event loop
COMMAND_TIMEOUT = 5.0
#: metrics that change continuously (volume infused) are sent at most this often [wall s]
METRIC_PERIOD = 0.5
_LOG = logging.getLogger("pumpsim.connect.sdc")
_BICEPS_NS = "http://standards.ieee.org/downloads/11073/11073-10207-2017"


def _alarm_table() -> dict[str, str]:
    """pumpsim's alarm kinds and their priorities (the default alarm table)."""
    from pumpsim.pump.alarms import default_alarm_table

    return {kind: spec.priority for kind, spec in default_alarm_table().alarms.items()}


#: the alert conditions every pump's MDIB carries: pumpsim alarm kind -> priority
ALERT_KINDS: dict[str, str] = {}


#: the condition of any alarm kind the table does not know (a user's controller may raise
#: its own; the alarm table gives those high priority)
OTHER = "other_alarm"


def _kinds() -> dict[str, str]:
    if not ALERT_KINDS:
        ALERT_KINDS.update(_alarm_table())
        ALERT_KINDS.setdefault(OTHER, "high")
    return ALERT_KINDS


def _coded(code: int | str, text: str, coding: str | None = None) -> str:
    system = f" CodingSystem={quoteattr(coding)}" if coding else ""
    return (f'<pm:Type Code="{code}"{system}><pm:ConceptDescription Lang="en">'
            f"{escape(text)}</pm:ConceptDescription></pm:Type>")  # fmt: skip


def _unit(unit: str) -> str:
    row = UNIT_CODES[unit]
    return (f'<pm:Unit Code="{row.mdc}"><pm:ConceptDescription Lang="en">{escape(row.term or "")}'
            "</pm:ConceptDescription></pm:Unit>")  # fmt: skip


def _metrics() -> Iterator[tuple[str, str, int, str, str]]:
    """(handle, signal, MDC code, term, unit) of each metric the MDIB carries."""
    for signal, row in SIGNALS.items():
        if row.sdc is not None and row.mdc is not None:
            unit = signal[signal.index("[") + 1:-1] if "[" in signal else "1"
            yield row.sdc, signal, row.mdc, row.term or "", unit


def mdib_xml(pump_id: str, drug: str = "") -> bytes:
    """The BICEPS MDIB (a GetMdibResponse document) of one pump."""
    from pumpsim.pump.reference import STATES

    metrics = []
    for handle, _signal, code, term, unit in _metrics():
        if handle == "state":
            allowed = "".join(f"<pm:AllowedValue><pm:Value>{s}</pm:Value></pm:AllowedValue>"
                              for s in STATES)  # fmt: skip
            metrics.append(
                f'<pm:Metric xsi:type="pm:EnumStringMetricDescriptor" Handle="{handle}" '
                f'MetricCategory="Set" MetricAvailability="Intr">{_coded(code, term)}'
                f"{_unit(unit)}{allowed}</pm:Metric>")  # fmt: skip
        else:
            category, availability = (("Clc", "Cont") if handle == "infused"
                                      else ("Set", "Intr"))  # fmt: skip
            metrics.append(
                f'<pm:Metric xsi:type="pm:NumericMetricDescriptor" Handle="{handle}" '
                f'MetricCategory="{category}" MetricAvailability="{availability}" '
                f'Resolution="0.001">{_coded(code, term)}{_unit(unit)}</pm:Metric>')  # fmt: skip
    conditions, signals = [], []
    for kind, priority in _kinds().items():
        row = code_for_alarm(kind)
        conditions.append(
            f'<pm:AlertCondition Handle="ac.{kind}" Kind="Tec" Priority="{PRIORITIES[priority]}">'
            f'{_coded(row.mdc or 196616, f"{kind} ({row.term})")}'
            f"<pm:Source>chan</pm:Source></pm:AlertCondition>")  # fmt: skip
        signals.append(f'<pm:AlertSignal Handle="as.{kind}" ConditionSignaled="ac.{kind}" '
                       'Manifestation="Aud" Latching="false"/>')  # fmt: skip
    ops = [("op.rate", "SetValueOperationDescriptor", "rate", "set-rate"),
           ("op.vtbi", "SetValueOperationDescriptor", "vtbi", "set-vtbi"),
           ("op.start", "ActivateOperationDescriptor", "chan", "start"),
           ("op.stop", "ActivateOperationDescriptor", "chan", "stop")]  # fmt: skip
    sco = "".join(
        f'<pm:Operation xsi:type="pm:{kind}" Handle="{handle}" OperationTarget="{target}" '
        f'Retriggerable="true">{_coded(code, code, PRIVATE_CODING)}</pm:Operation>'
        for handle, kind, target, code in ops)  # fmt: skip
    name = f"pumpsim pump {pump_id}" + (f" ({drug})" if drug else "")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<msg:GetMdibResponse xmlns:msg="{_BICEPS_NS}/message" '
        f'xmlns:pm="{_BICEPS_NS}/participant" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" SequenceId="urn:uuid:'
        f'{uuid.uuid5(uuid.NAMESPACE_URL, "pumpsim:" + pump_id)}">'
        '<msg:Mdib SequenceId="urn:uuid:00000000-0000-0000-0000-000000000000"><pm:MdDescription>'
        f'<pm:Mds Handle="mds">{_coded(MDS, "MDC_DEV_PUMP_INFUS_MDS " + name)}'
        f'<pm:Sco Handle="sco">{sco}</pm:Sco>'
        f'<pm:Vmd Handle="vmd">{_coded(VMD, "MDC_DEV_PUMP_INFUS_VMD")}'
        f'<pm:AlertSystem Handle="asy">{"".join(conditions)}{"".join(signals)}</pm:AlertSystem>'
        f'<pm:Channel Handle="chan">{_coded(CHANNEL, "MDC_DEV_PUMP_INFUS_CHAN_DELIVERY")}'
        f'{"".join(metrics)}</pm:Channel></pm:Vmd></pm:Mds>'
        "</pm:MdDescription></msg:Mdib></msg:GetMdibResponse>"
    ).encode()


@dataclass(frozen=True)
class SdcOptions:
    """How the providers are reached: address, discovery and TLS."""

    host: str = "127.0.0.1"
    discovery: bool = False  # WS-Discovery (multicast, TTL 0) on ``host``
    tls_dir: str | None = None  # folder with userkey.pem, usercert.pem, cacert.pem
    tls_password: str | None = None


class _DirectAddress:
    """Stands in for WS-Discovery: the provider is reached at its address only."""

    def __init__(self, address: str) -> None:
        self.active_address = address

    def publish_service(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    def clear_service(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _Refused(Exception):
    """An operation the session or the pump refused (its message is the reason)."""


class _QuietRefusals(logging.Filter):
    """sdc11073 logs a failing operation with its stack trace: not for a refusal."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, _Refused)


def _quiet() -> None:
    for name in ("sdc.device.op_worker", "sdc.device.op_reg"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _QuietRefusals) for f in logger.filters):
            logger.addFilter(_QuietRefusals())


def _sdc_import_error(exc: ImportError) -> PumpsimError:
    return PumpsimError(f"the SDC provider needs the 'sdc' extra: pip install 'pumpsim[sdc]' "
                        f"({exc.name} is missing)")  # fmt: skip


class SdcPump:
    """One pump of a live session as an SDC provider.

    Parameters
    ----------
    session : Session
        The live session (its methods are called on ``loop`` only).
    pump_id : str
    loop : asyncio event loop
        The loop that runs the session (pacing, REST, WebSocket).
    submit : callable, optional
        Applies one command (default ``session.command(cmd, origin="sdc")``); ``pumpsim
        serve`` passes its hub's, which adds the server's rate limits.
    options : SdcOptions
    discovery : object, optional
        A started WS-Discovery instance shared by several providers.
    """

    def __init__(self, session: Any, pump_id: str, loop: asyncio.AbstractEventLoop, *,
                 submit: Callable[[dict[str, Any]], Any] | None = None,
                 options: SdcOptions | None = None, discovery: Any = None) -> None:  # fmt: skip
        try:
            from sdc11073.definitions_sdc import SdcV1Definitions
            from sdc11073.httpserver.httprequesthandler import DispatchingRequestHandler
            from sdc11073.mdib.providermdib import ProviderMdib
            from sdc11073.provider import SdcProvider
            from sdc11073.provider.providerimpl import RoleProviderComponents
            from sdc11073.xml_types.dpws_types import ThisDeviceType, ThisModelType
        except ImportError as exc:
            raise _sdc_import_error(exc) from None
        # measured: SetValue 94 -> 10 ms with Nagle off
        DispatchingRequestHandler.disable_nagle_algorithm = True
        _quiet()
        self.session = session
        self.pump_id = pump_id
        self.source = f"pump.{pump_id}"
        self.loop = loop
        self.options = options or SdcOptions()
        self._submit = submit or (lambda cmd: session.command(cmd, origin="sdc"))
        pump = next((p for p in session.scenario.pumps if p.id == pump_id), None)
        if pump is None:
            raise PumpsimError(f"no pump {pump_id!r} in session {session.id}")
        self.mdib: Any = ProviderMdib.from_string(mdib_xml(pump_id, pump.drug),
                                             protocol_definition=SdcV1Definitions)  # fmt: skip
        ssl = None
        if self.options.tls_dir:
            from sdc11073.certloader import mk_ssl_contexts_from_folder

            ssl = mk_ssl_contexts_from_folder(self.options.tls_dir,
                                              ssl_passwd=self.options.tls_password)  # fmt: skip
        self._handlers: dict[str, Callable[[Any], dict[str, Any]]] = {
            "op.rate": lambda v: {"type": "titrate", "pump": pump_id, "rate": f"{v} mL/h"},
            "op.vtbi": self._vtbi_command,
            "op.start": lambda _v: {"type": "start", "pump": pump_id},
            "op.stop": lambda _v: {"type": "stop", "pump": pump_id},
        }
        self._discovery = discovery
        self.provider: Any = SdcProvider(
            discovery if discovery is not None else _DirectAddress(self.options.host),
            ThisModelType(manufacturer="pumpsim", model_name="simulated infusion pump",
                          manufacturer_url="https://pypi.org/project/pumpsim/"),
            ThisDeviceType(friendly_name=f"pumpsim pump {pump_id}", serial_number=pump_id),
            self.mdib,
            epr=uuid.uuid5(uuid.NAMESPACE_URL, f"pumpsim:{session.id}:{pump_id}"),
            ssl_context_container=ssl,
            role_provider_components=RoleProviderComponents(
                role_provider_class=_product_class(self)),
        )  # fmt: skip
        self._sub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._present: set[str] = set()
        self._last: dict[str, Any] = {}
        self._last_write = 0.0
        self.updates = 0  # metric transactions written

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the provider's HTTP server (blocks ~0.1 s; call it from a worker thread
        in a running server) and follow the session (from the loop's thread)."""
        self.provider.start_all(start_rtsample_loop=False)
        if self._discovery is not None:
            self.provider.publish()

    def follow(self) -> None:
        """Subscribe to the session's stream (call on the loop's thread)."""
        self._sub = self.session.subscribe(maxsize=4096)
        self._task = self.loop.create_task(self._follow())

    def stop(self) -> None:
        """Stop following and stop the provider (blocks ~1 s)."""
        with contextlib.suppress(RuntimeError):  # the loop may have closed already
            if self._task is not None:
                self.loop.call_soon_threadsafe(self._task.cancel)
            if self._sub is not None:
                self.loop.call_soon_threadsafe(self.session.unsubscribe, self._sub)
        self.provider.stop_all()

    @property
    def address(self) -> str:
        """The provider's transport address (``http://127.0.0.1:PORT/UUID``)."""
        return str(self.provider.get_xaddrs()[0])

    # -- operations (sdc11073's threads) -------------------------------------------------
    def _vtbi_command(self, vtbi: Any) -> dict[str, Any]:
        rate = self._programmed_rate()
        return {"type": "program", "pump": self.pump_id,
                "program": [{"mode": "continuous", "rate": f"{rate!r} mL/h",
                             "vtbi": f"{vtbi} mL"}]}  # fmt: skip

    def _programmed_rate(self) -> float:
        """The rate the pump is programmed at [mL/h]: its last program step or titration."""
        for rec in reversed(self.session.records):
            if rec.source == self.source and rec.kind == "titrated":
                return float(rec.details["new_mL_h"])
            if rec.source == self.source and rec.kind == "program_step":
                return float(rec.details.get("rate_mL_h") or 0.0)
        return 0.0

    def execute(self, handle: str, argument: Any) -> str | None:
        """Apply operation ``handle`` with ``argument`` on the session's loop; the reason
        it did not take effect, or None. Called from sdc11073's operation thread."""
        build = self._handlers[handle]
        if isinstance(argument, Decimal):
            argument = format(argument, "f")
        future = asyncio.run_coroutine_threadsafe(self._apply(build, argument), self.loop)
        return future.result(timeout=COMMAND_TIMEOUT)

    async def _apply(self, build: Callable[[Any], dict[str, Any]], argument: Any) -> str | None:
        from pumpsim.connect.session import CommandError, SessionStateError

        command: dict[str, Any] = {}
        try:
            command = build(argument)
            records = self.session.records
            n = len(records)
            self._submit(command)
        except (CommandError, SessionStateError) as exc:
            return f"{command.get('type', '')}: {exc}"
        except Exception as exc:  # noqa: BLE001 - the server's limits (HTTP 429/409)
            return f"refused: {getattr(exc, 'detail', exc)}"
        if self.session.records is not records:  # the run was rebuilt: nothing refused
            return None
        for rec in records[n:]:
            if rec.source == self.source and (rec.kind.endswith("_refused")
                                              or rec.kind in REFUSALS):  # fmt: skip
                reason = rec.details.get("reason", "")
                return f"{rec.kind}: {reason}" if reason else rec.kind
        return None

    # -- updates -------------------------------------------------------------------------
    async def _follow(self) -> None:
        while True:
            sub = self._sub
            texts = [await sub.queue.get()]
            while not sub.queue.empty():
                texts.append(sub.queue.get_nowait())
            alarms, metrics = [], None
            for text in texts:
                if text is None:
                    continue
                msg = json.loads(text)
                if msg.get("type") == "alarm" and msg.get("source") == self.source:
                    alarms.append(msg)
                elif msg.get("type") == "metrics":
                    metrics = msg
            if alarms or metrics is not None:
                try:
                    await asyncio.to_thread(self.write, alarms, metrics)
                except Exception:  # an update that fails must not end the stream
                    _LOG.exception("SDC provider of pump %s: update failed", self.pump_id)
            if None in texts:
                if not sub.dropped:
                    return  # the session closed
                self._sub = self.session.subscribe(maxsize=4096)  # fell behind: start afresh

    def write(self, alarms: list[dict[str, Any]], metrics: dict[str, Any] | None) -> None:
        """Write alarm records (in order) and the metrics into the MDIB (notifications go
        to subscribed consumers)."""
        for msg in alarms:
            self._write_alarm(msg)
        if metrics is not None:
            self._write_metrics(metrics)

    def _write_alarm(self, msg: dict[str, Any]) -> None:
        from sdc11073.xml_types.pm_types import (
            AlertActivation,
            AlertConditionPriority,
            AlertSignalPresence,
        )

        kind = str(msg["details"].get("alarm", ""))
        if kind not in _kinds():
            kind = OTHER
        when = EPOCH + float(msg["sim_time_s"])
        cond = self.mdib.entities.by_handle(f"ac.{kind}")
        signal = self.mdib.entities.by_handle(f"as.{kind}")
        system = self.mdib.entities.by_handle("asy")
        event = msg["kind"]
        if event == "alarm":
            cond.state.Presence = True
            priority = PRIORITIES.get(str(msg["details"].get("priority")))
            cond.state.ActualPriority = (AlertConditionPriority(priority) if priority
                                         else cond.descriptor.Priority)  # fmt: skip
            signal.state.Presence = AlertSignalPresence.ON
            signal.state.ActivationState = AlertActivation.ON
            self._present.add(cond.handle)
        elif event == "alarm_cleared":
            cond.state.Presence = False
            signal.state.Presence = AlertSignalPresence.OFF
            signal.state.ActivationState = AlertActivation.ON
            self._present.discard(cond.handle)
        elif event == "alarm_silenced":
            signal.state.ActivationState = AlertActivation.PAUSED
        elif event == "alarm_reactivated":
            signal.state.ActivationState = AlertActivation.ON
        cond.state.DeterminationTime = when
        system.state.PresentTechnicalAlarmConditions = sorted(self._present)
        system.state.LastSelfCheck = when
        with self.mdib.alert_state_transaction(set_determination_time=False) as mgr:
            mgr.write_entities([cond, signal, system])

    def _write_metrics(self, metrics: dict[str, Any]) -> None:
        face = next((p for p in metrics.get("pumps", []) if p.get("id") == self.pump_id), None)
        if face is None:
            return
        values = {"rate": face.get("rate_mL_h"), "vtbi": face.get("vtbi_mL"),
                  "infused": face.get("infused_mL"), "state": face.get("state")}  # fmt: skip
        now = time.monotonic()
        changed = {h: v for h, v in values.items() if v is not None and v != self._last.get(h)}
        discrete = any(h != "infused" for h in changed)
        if not changed or (not discrete and now - self._last_write < METRIC_PERIOD):
            return
        when = EPOCH + float(metrics["sim_time_s"])
        entities = []
        for handle, value in changed.items():
            entity = self.mdib.entities.by_handle(handle)
            if entity.state.MetricValue is None:
                entity.state.mk_metric_value()
            mv = entity.state.MetricValue
            mv.Value = str(value) if handle == "state" else Decimal(f"{float(value):.6g}")
            mv.DeterminationTime = when
            entities.append(entity)
        with self.mdib.metric_state_transaction(set_determination_time=False) as mgr:
            mgr.write_entities(entities)
        self._last.update(changed)
        self._last_write = now
        self.updates += 1


def _product_class(pump: SdcPump) -> Callable[..., Any]:
    """A product (sdc11073's role-provider slot) that maps the MDIB's operation handles
    to :meth:`SdcPump.execute`; the wheel ships no role providers of its own."""
    from sdc11073.provider.baseproduct import BaseProduct
    from sdc11073.provider.operations import ExecuteParameters, ExecuteResult
    from sdc11073.xml_types.msg_types import InvocationState

    def handler(params: ExecuteParameters) -> ExecuteResult:
        op = params.operation_instance
        argument = getattr(params.operation_request, "argument", None)
        reason = pump.execute(op.handle, argument)
        if reason is not None:
            raise _Refused(reason)
        return ExecuteResult(InvocationState.FINISHED, pump.mdib.mdib_version_group,
                             op.descriptor_container.OperationTarget)  # fmt: skip

    class PumpProduct(BaseProduct):
        def make_operation_instance(self, descriptor: Any, cls_getter: Any) -> Any:
            if descriptor.Handle not in pump._handlers:
                return None
            return cls_getter(descriptor.NODETYPE)(descriptor.Handle, descriptor.OperationTarget,
                                                   handler)  # fmt: skip

    return PumpProduct


# -- pumpsim serve --sdc -----------------------------------------------------------------
def attach(app: Any, options: SdcOptions, session_id: str = "1") -> None:
    """Make each pump of the server's first session an SDC provider while ``app`` runs
    (wraps its lifespan; :func:`pumpsim.connect.serve.serve` calls this for ``--sdc``)."""
    try:
        import sdc11073  # noqa: F401
    except ImportError as exc:
        raise _sdc_import_error(exc) from None
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(the_app: Any) -> Any:
        async with inner(the_app) as state:
            pumps = await start_pumps(the_app.state.hub, options, session_id)
            try:
                yield state
            finally:
                await asyncio.to_thread(stop_pumps, pumps)

    app.router.lifespan_context = lifespan


async def start_pumps(hub: Any, options: SdcOptions, session_id: str = "1") -> list[Any]:
    """One started :class:`SdcPump` per pump of ``hub``'s session (printed with its
    address); the discovery instance, if any, comes last in the list."""
    session = hub.get(session_id)
    loop = asyncio.get_running_loop()
    discovery = None
    if options.discovery:
        from sdc11073.wsdiscovery import WSDiscovery

        discovery = WSDiscovery(options.host, multicast_ttl=0)
        await asyncio.to_thread(discovery.start)
    pumps: list[Any] = []
    for pump in session.scenario.pumps:
        sdc = SdcPump(session, pump.id, loop, options=options, discovery=discovery,
                      submit=lambda cmd: hub.command(session_id, cmd, "sdc"))  # fmt: skip
        await asyncio.to_thread(sdc.start)
        sdc.follow()
        pumps.append(sdc)
        print(f"pumpsim serve: SDC provider of pump {pump.id}: {sdc.address}", flush=True)
    if discovery is not None:
        pumps.append(discovery)
    return pumps


def stop_pumps(pumps: list[Any]) -> None:
    """Stop what :func:`start_pumps` started (from a worker thread)."""
    for item in pumps:
        if isinstance(item, SdcPump):
            item.stop()
        else:
            item.stop()  # the WS-Discovery instance
