"""HL7 v2 messages per the IHE Patient Care Device profiles, from runs and live sessions.

Outbound (pump to EMR and alarm managers), HL7 v2.6 ER7, one message per
``\\r``-separated segment list:

* **PCD-01 ORU^R01** (Device Enterprise Communication): periodic device data;
  OBX rows follow the containment tree MDS (69985) → VMD (69986) → delivery
  channel (126978) → metric, with dotted OBX-4 sub-ids ``1.1.1.n``, container
  rows with an empty OBX-2 and result status X, the pump's EUI-64 in OBX-18.
* **PCD-04 ORU^R40** (Alert Communication Management): one message per alarm
  phase change (start, end, audio paused); OBR-4 is MDC_EVT_ALARM (196616); the
  first OBX is the alert's identity (its MDC event code), then facet OBX rows on
  a fifth sub-id level: source, event phase, alarm state, inactivation state,
  priority (PH/PM/PL), alert type (SP).
* **PCD-10 ORU^R42** (Infusion Pump Event Communication): infusion start,
  stop, complete and rate change, with the rate, VTBI and volume infused.

Inbound: **PCD-03 RGV^O15** (Pump Implementation of Verbal/Programmed orders):
:func:`order_from_rgv` reads RXG-5 (VTBI), RXG-15/16 (rate and its unit) and
the pump id (OBX-18) into a :class:`PendingOrder`, which a pump holds until an
operator confirms it, as a real pump does (IHE PCD has no remote start).

Codes are those of :mod:`pumpsim.connect.codes` (one table, each row with its
source); the facet attribute codes are MDC_ATTR_ALERT_SOURCE (68480) to
MDC_ATTR_ALERT_TYPE (68485) of the IHE PCD Technical Framework Vol 2
(docs/references.md [IHEPCD-TF2]). Sim time is turned into a timestamp from a
fixed ``epoch`` (default 2026-01-01 00:00:00 UTC), so the same run gives the
same bytes. python-hl7 parses and acknowledges; MLLP transport is in
:mod:`pumpsim.connect.mllp`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pumpsim.connect.codes import EVENT_CODES, SIGNALS, UNIT_CODES, code_for_alarm

__all__ = ["Hl7Settings", "PendingOrder", "ack", "alarm_message", "device_message",
           "infusion_event_message", "messages_from_result", "order_from_rgv",
           "PROFILE_DEC", "PROFILE_ACM", "PROFILE_IPEC"]  # fmt: skip

PROFILE_DEC = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
PROFILE_ACM = "IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4.1^ISO"
PROFILE_IPEC = "IHE_PCD_IPEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.10.1^ISO"

MDS = (69985, "MDC_DEV_PUMP_INFUS_MDS")
VMD = (69986, "MDC_DEV_PUMP_INFUS_VMD")
CHANNEL = (126978, "MDC_DEV_PUMP_INFUS_CHAN_DELIVERY")
ALARM = (196616, "MDC_EVT_ALARM")
#: alert facets, IHE PCD TF Vol 2 (ACM): MDC_ATTR_ALERT_SOURCE 68480 ... ALERT_TYPE 68485
FACETS = {"source": (68480, "MDC_ATTR_ALERT_SOURCE"), "phase": (68481, "MDC_ATTR_EVENT_PHASE"),
          "state": (68482, "MDC_ATTR_ALARM_STATE"),
          "inactivation": (68483, "MDC_ATTR_ALARM_INACTIVATION_STATE"),
          "priority": (68484, "MDC_ATTR_ALARM_PRIORITY"), "type": (68485, "MDC_ATTR_ALERT_TYPE")}
PRIORITY = {"high": "PH", "medium": "PM", "low": "PL", "none": "PN"}
#: infusion events of PCD-10; only delivery start has a verified MDC code (IHE PCD IPEC Rev 1.5)
DELIVERY_START = (197288, "MDC_EVT_PUMP_DELIV_START")
LOCAL_EVENTS = {"stop": "infusion stopped", "complete": "infusion complete (VTBI reached)",
                "rate_change": "rate changed"}
ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def escape(text: Any) -> str:
    """HL7 v2 escape sequences for the delimiters in a free-text value."""
    out = str(text)
    for raw, esc in ESCAPES:
        out = out.replace(raw, esc)
    return out.replace("\r", " ").replace("\n", " ")


@dataclass(frozen=True)
class Hl7Settings:
    """Who sends, about whom, and when sim time 0 is."""

    sending_application: str = "PUMPSIM"
    sending_facility: str = "PUMPSIM"
    patient_id: str = "PUMPSIM-1"
    epoch: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def timestamp(self, time_s: float) -> str:
        """HL7 DTM with seconds and UTC offset, e.g. ``20260101003000+0000``."""
        t = self.epoch + timedelta(seconds=round(float(time_s), 3))
        return t.strftime("%Y%m%d%H%M%S") + "+0000"


def eui64(pump_id: str) -> str:
    """A stable, locally administered EUI-64 for an emulated pump (from its id)."""
    digest = hashlib.sha256(f"pumpsim:{pump_id}".encode()).hexdigest()[:16].upper()
    first = (int(digest[:2], 16) | 0x02) & 0xFE  # locally administered, unicast
    return f"{first:02X}{digest[2:]}"


def _msh(settings: Hl7Settings, pump_id: str, kind: str, control_id: str, time_s: float,
         profile: str) -> str:  # fmt: skip
    app = f"{settings.sending_application}^{eui64(pump_id)}^EUI-64"
    return ("MSH|^~\\&|" + "|".join([app, settings.sending_facility, "", "",
            settings.timestamp(time_s), "", kind, escape(control_id), "P", "2.6", "", "", "NE",
            "AL", "", "UNICODE UTF-8", "", "", profile]))  # fmt: skip



def _pid(settings: Hl7Settings) -> list[str]:
    return [f"PID|||{escape(settings.patient_id)}^^^PUMPSIM^PI||pumpsim^patient", "PV1||I"]


def _code(code: tuple[int, str]) -> str:
    return f"{code[0]}^{code[1]}^MDC"


def _containment(control_id: str, ts: str, dev: str) -> list[str]:
    """OBR with the MDS code, then the container OBX rows MDS, VMD and delivery channel
    (empty OBX-2, result status X), as PCD-01 and PCD-10 both begin."""
    cid = escape(control_id)
    return [f"OBR|1|{cid}^PUMPSIM|{cid}^PUMPSIM|{_code(MDS)}|||{ts}",
            f"OBX|1||{_code(MDS)}|1.0.0.0|||||||X|||{ts}||||{dev}",
            f"OBX|2||{_code(VMD)}|1.1.0.0|||||||X|||{ts}||||{dev}",
            f"OBX|3||{_code(CHANNEL)}|1.1.1.0|||||||X|||{ts}||||{dev}"]  # fmt: skip


def _metric(n: int, sub: int, signal: str, value: str, unit: str, ts: str, dev: str) -> str:
    """A numeric metric OBX on the delivery channel (OBX-4 ``1.1.1.<sub>``), coded by the
    one code table."""
    row, u = SIGNALS[signal], UNIT_CODES[unit]
    return (f"OBX|{n}|NM|{row.mdc}^{row.term}^MDC|1.1.1.{sub}|{value}|"
            f"{u.mdc}^{u.term}^MDC|||||R|||{ts}||||{dev}")  # fmt: skip


@dataclass(frozen=True)
class DeviceData:
    """One pump's reading for PCD-01: rate [mL/h], VTBI [mL] (None: not set), infused [mL]."""

    pump_id: str
    time_s: float
    rate_ml_h: float
    infused_ml: float
    state: str
    vtbi_ml: float | None = None


def device_message(data: DeviceData, settings: Hl7Settings, control_id: str) -> str:
    """PCD-01 ORU^R01: the pump's containment tree and its metrics."""
    ts = settings.timestamp(data.time_s)
    dev = f"{eui64(data.pump_id)}^EUI-64"
    seg = [_msh(settings, data.pump_id, "ORU^R01^ORU_R01", control_id, data.time_s, PROFILE_DEC),
           *_pid(settings),
           *_containment(control_id, ts, dev)]
    metrics: list[tuple[str, str, str]] = [
        ("rate[mL/h]", f"{data.rate_ml_h:.6g}", "mL/h"),
        ("infused[mL]", f"{data.infused_ml:.6g}", "mL"),
    ]
    if data.vtbi_ml is not None:
        metrics.insert(1, ("vtbi[mL]", f"{data.vtbi_ml:.6g}", "mL"))
    seg += [_metric(4 + k, k + 1, signal, value, unit, ts, dev)
            for k, (signal, value, unit) in enumerate(metrics)]
    state = SIGNALS["state"]
    n = 4 + len(metrics)
    seg.append(f"OBX|{n}|ST|{state.mdc}^{state.term}^MDC|1.1.1.{len(metrics) + 1}|"
               f"{escape(data.state)}||||||R|||{ts}||||{dev}")  # fmt: skip
    return "\r".join(seg)


@dataclass(frozen=True)
class AlarmChange:
    """One alarm's phase change for PCD-04 (phase: start, end or audio_paused)."""

    pump_id: str
    time_s: float
    alarm: str
    priority: str
    phase: str
    message: str = ""


def alarm_message(change: AlarmChange, settings: Hl7Settings, control_id: str) -> str:
    """PCD-04 ORU^R40: the alert's identity OBX and its facets on a fifth sub-id level."""
    ts = settings.timestamp(change.time_s)
    dev = f"{eui64(change.pump_id)}^EUI-64"
    code = code_for_alarm(change.alarm)
    state = "inactive" if change.phase == "end" else "active"
    inactivation = "audio-paused" if change.phase == "audio_paused" else "enabled"
    phase = {"start": "start", "end": "end", "audio_paused": "continue"}[change.phase]
    base = "1.1.1.1"
    seg = [_msh(settings, change.pump_id, "ORU^R40^ORU_R40", control_id, change.time_s,
                PROFILE_ACM), *_pid(settings),
           f"OBR|1|{escape(control_id)}^PUMPSIM|{escape(control_id)}^PUMPSIM|{_code(ALARM)}|||{ts}",
           f"OBX|1|ST|{code.mdc}^{code.term}^MDC|{base}.1|{escape(change.message or change.alarm)}"
           f"||||||F|||{ts}||||{dev}"]  # fmt: skip
    facets = [("source", "CWE", f"{_code(CHANNEL)}"), ("phase", "ST", phase),
              ("state", "ST", state), ("inactivation", "ST", inactivation),
              ("priority", "ST", PRIORITY.get(change.priority, "PN")), ("type", "ST", "SP")]
    for i, (name, vt, value) in enumerate(facets, start=2):
        c = FACETS[name]
        seg.append(f"OBX|{i}|{vt}|{_code(c)}|{base}.{i}|{value}||||||F|||{ts}")
    return "\r".join(seg)


@dataclass(frozen=True)
class InfusionEvent:
    """An infusion event for PCD-10: start, stop, complete or rate_change."""

    pump_id: str
    time_s: float
    event: str
    rate_ml_h: float
    infused_ml: float
    vtbi_ml: float | None = None


def infusion_event_message(ev: InfusionEvent, settings: Hl7Settings, control_id: str) -> str:
    """PCD-10 ORU^R42: the event (MDC_ATTR_EVT_COND) with the channel's rate, VTBI, infused."""
    ts = settings.timestamp(ev.time_s)
    dev = f"{eui64(ev.pump_id)}^EUI-64"
    # only delivery start has a verified MDC event code; the others, and the event-condition
    # attribute itself, carry local codes in the HL7 local coding system 99PUMPSIM
    event_code = (f"{_code(DELIVERY_START)}" if ev.event == "start"
                  else f"{escape(ev.event)}^{LOCAL_EVENTS[ev.event]}^99PUMPSIM")  # fmt: skip
    seg = [_msh(settings, ev.pump_id, "ORU^R42^ORU_R42", control_id, ev.time_s, PROFILE_IPEC),
           *_pid(settings),
           *_containment(control_id, ts, dev),
           f"OBX|4|CWE|EVT_COND^MDC_ATTR_EVT_COND (local code)^99PUMPSIM|1.1.1.100|{event_code}"
           f"||||||F|||{ts}||||{dev}"]
    rows = [("rate[mL/h]", ev.rate_ml_h, "mL/h"), ("infused[mL]", ev.infused_ml, "mL")]
    if ev.vtbi_ml is not None:
        rows.append(("vtbi[mL]", ev.vtbi_ml, "mL"))
    seg += [_metric(5 + k, k + 1, signal, f"{value:.6g}", unit, ts, dev)
            for k, (signal, value, unit) in enumerate(rows)]
    return "\r".join(seg)


# ------------------------------------------------------------------ a run as a stream
@dataclass
class _PumpTrack:
    state: str = "idle"
    vtbi: float | None = None
    rate: float = 0.0


def _events(result: Any) -> Iterator[tuple[float, int, str, Any]]:
    """(time, order, kind, payload) of every message a run would have sent, unsorted."""
    tracks: dict[str, _PumpTrack] = {}
    ts = result.timeseries
    order = 0

    def infused_at(pump: str, t: float) -> float:
        col = f"pump.{pump}.infused[mL]"
        if col not in ts:
            return 0.0
        idx = ts.index.searchsorted(t, side="right") - 1
        return float(ts[col].iloc[max(idx, 0)])

    for rec in result.events:
        if not rec.source.startswith("pump."):
            continue
        pump = rec.source.split(".", 1)[1]
        tr = tracks.setdefault(pump, _PumpTrack())
        d = rec.details
        order += 1
        if rec.kind == "program_step":
            tr.vtbi = d.get("vtbi_mL")
            rate = d.get("rate_mL_h")
            if rate is not None and tr.state == "running" and rate != tr.rate:
                yield rec.time_s, order, "event", InfusionEvent(
                    pump, rec.time_s, "rate_change", float(rate), infused_at(pump, rec.time_s),
                    tr.vtbi)  # fmt: skip
            if rate is not None:
                tr.rate = float(rate)
        elif rec.kind == "transition":
            to, frm = d.get("to"), d.get("from")
            tr.state = str(to)
            name = {"running": "start", "complete": "complete"}.get(str(to))
            if name is None and frm in ("running", "kvo") and to in ("paused", "idle", "alarm"):
                name = "stop"
            if name is not None:
                yield rec.time_s, order, "event", InfusionEvent(
                    pump, rec.time_s, name, tr.rate if name == "start" else 0.0,
                    infused_at(pump, rec.time_s), tr.vtbi)  # fmt: skip
        elif rec.kind == "alarm":
            yield rec.time_s, order, "alarm", AlarmChange(
                pump, rec.time_s, str(d.get("alarm")), str(d.get("priority", "high")), "start",
                str(d.get("message", "")))  # fmt: skip
        elif rec.kind in ("alarm_cleared", "alarm_silenced"):
            yield rec.time_s, order, "alarm", AlarmChange(
                pump, rec.time_s, str(d.get("alarm")), str(d.get("priority", "high")),
                "end" if rec.kind == "alarm_cleared" else "audio_paused")  # fmt: skip


def messages_from_result(
    result: Any, settings: Hl7Settings | None = None, every_s: float = 60.0
) -> list[str]:
    """The HL7 message stream a run would have sent, in time order.

    PCD-01 every ``every_s`` [s] for each pump (read from the time series),
    PCD-04 at every alarm phase change and PCD-10 at every infusion event. At
    equal times, events come before the periodic report. Message control ids
    are ``<kind>-<n>`` in sending order, so the stream is reproducible.
    """
    import numpy as np

    settings = settings or Hl7Settings()
    if not every_s > 0:
        raise ValueError("every_s: must be a time > 0 s")
    ts = result.timeseries
    items: list[tuple[float, int, str, Any]] = list(_events(result))
    t = ts.index.to_numpy(dtype=float)
    pumps = sorted({c.split(".")[1] for c in ts.columns if c.startswith("pump.")})
    states = _state_series(result, "state", "state")
    vtbis = _state_series(result, "program_step", "vtbi_mL")
    base = len(items) + 1
    for k, when in enumerate(np.arange(0.0, t[-1] + 1e-9, every_s) if t.size else []):
        i = int(np.searchsorted(t, when, side="right") - 1)
        for j, pump in enumerate(pumps):
            rate = ts.get(f"pump.{pump}.rate[mL/h]", ts.get(f"pump.{pump}.flow[mL/h]"))
            infused = ts.get(f"pump.{pump}.infused[mL]")
            if rate is None or infused is None:
                continue
            items.append((float(when), base + k * len(pumps) + j, "device", DeviceData(
                pump, float(when), float(rate.iloc[i]), float(infused.iloc[i]),
                str(states.get(pump, _always("idle"))(float(when)) or "idle"),
                _vtbi(vtbis.get(pump, _always(None))(float(when))))))  # fmt: skip
    items.sort(key=lambda x: (x[0], x[2] == "device", x[1]))
    out = []
    counters = {"device": 0, "alarm": 0, "event": 0}
    for _t, _o, kind, payload in items:
        counters[kind] += 1
        cid = f"{ {'device': 'DEC', 'alarm': 'ACM', 'event': 'IPEC'}[kind]}-{counters[kind]}"
        build = {"device": device_message, "alarm": alarm_message,
                 "event": infusion_event_message}[kind]  # fmt: skip
        out.append(build(payload, settings, cid))  # type: ignore[operator]
    return out


def _always(value: Any) -> Any:
    return lambda _t: value


def _vtbi(value: Any) -> float | None:
    return None if value in (None, "None") else float(value)


def _state_series(result: Any, kind: str, key: str) -> dict[str, Any]:
    """Per pump: a function time -> ``details[key]`` of the last ``kind`` record by then."""
    import bisect

    changes: dict[str, tuple[list[float], list[Any]]] = {}
    for rec in result.events:
        if rec.kind == kind and rec.source.startswith("pump."):
            times, values = changes.setdefault(rec.source.split(".", 1)[1], ([], []))
            times.append(rec.time_s)
            values.append(rec.details.get(key))

    def reader(times: list[float], values: list[Any]) -> Any:
        def at(t: float) -> Any:
            i = bisect.bisect_right(times, t) - 1
            return values[i] if i >= 0 else None

        return at

    return {p: reader(*tv) for p, tv in changes.items()}


def write_messages(path: Any, messages: Sequence[str]) -> None:
    """Write a message stream: segments end with CR, messages are separated by a newline.

    Written to a temporary name and renamed, so no half-written file is left.
    """
    from pathlib import Path

    final = Path(path)
    tmp = final.with_name(f".{final.name}.part")
    tmp.write_bytes(b"\n".join(m.encode("utf-8") + b"\r" for m in messages) + b"\n")
    tmp.replace(final)


def read_messages(data: bytes | str) -> list[str]:
    """Split a stream written by :func:`write_messages` back into messages."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return [m.rstrip("\r") for m in text.split("\r\n") if m.strip()]


# ------------------------------------------------------------------ inbound orders
@dataclass(frozen=True)
class PendingOrder:
    """An infusion order received as PCD-03, held by the pump until an operator confirms it."""

    order_id: str
    pump_id: str
    rate: str  # with its unit, as the scenario schema reads it: "5 mL/h"
    vtbi: str | None
    drug: str | None
    control_id: str
    raw: str = field(repr=False, default="")

    def program_command(self) -> dict[str, Any]:
        """The operator command that confirms the order: a program with one continuous step."""
        step: dict[str, Any] = {"mode": "continuous", "rate": self.rate}
        if self.vtbi:
            step["vtbi"] = self.vtbi
        return {"type": "program", "pump": self.pump_id, "program": [step]}


_UNITS = {"265266": "mL/h", "MDC_DIM_MILLI_L_PER_HR": "mL/h", "mL/h": "mL/h", "ml/h": "mL/h",
          "263762": "mL", "MDC_DIM_MILLI_L": "mL", "mL": "mL", "ml": "mL"}  # fmt: skip


class OrderError(ValueError):
    """A PCD-03 message pumpsim cannot hold as an order (says which field)."""


def order_from_rgv(text: str) -> PendingOrder:
    """Read a PCD-03 RGV^O15 into a :class:`PendingOrder` (never starts anything).

    Needs MSH-9 RGV^O15, ORC-2 (placer order id), RXG-5 (VTBI) or RXG-15 (rate)
    with RXG-16 (rate unit, mL/h), and the pump's id in an OBX-18 or RXG-?; raises
    :class:`OrderError` naming the field otherwise.
    """
    import hl7

    try:
        msg = hl7.parse(text.replace("\n", "\r"))
    except Exception as exc:  # python-hl7 raises several kinds
        raise OrderError(f"message: not HL7 v2 ER7 ({exc})") from None
    kind = str(msg.segment("MSH")[9])
    if not kind.startswith("RGV^O15"):
        raise OrderError(f"MSH-9: expected RGV^O15, got {kind!r}")
    control_id = str(msg.segment("MSH")[10])
    try:
        orc = msg.segment("ORC")
        rxg = msg.segment("RXG")
    except KeyError as exc:
        raise OrderError(f"{exc.args[0] if exc.args else 'segment'}: segment missing") from None
    order_id = str(orc[2]).split("^")[0] if len(orc) > 2 else ""
    if not order_id:
        raise OrderError("ORC-2: the placer order id is missing")

    def field_of(seg: Any, i: int) -> str:
        return str(seg[i]) if len(seg) > i else ""

    vtbi_val = field_of(rxg, 5)
    vtbi_unit = field_of(rxg, 7).split("^")[0] or "mL"
    rate_val = field_of(rxg, 15)
    rate_unit = field_of(rxg, 16).split("^")[0]
    if not rate_val:
        raise OrderError("RXG-15: the rate is missing")
    if _UNITS.get(rate_unit) != "mL/h":
        raise OrderError(f"RXG-16: rate unit {rate_unit!r} not understood; allowed: "
                         "265266^MDC_DIM_MILLI_L_PER_HR^MDC")  # fmt: skip
    for name, value in (("RXG-15", rate_val), ("RXG-5", vtbi_val)):
        if value:
            try:
                number = float(value)
            except ValueError:
                raise OrderError(f"{name}: {value!r} is not a number") from None
            if not (number > 0 and number < 1e6):
                raise OrderError(f"{name}: must be a number > 0, got {value!r}")
    pump = ""
    for obx in msg.segments("OBX") if "OBX" in str(msg) else []:
        device = field_of(obx, 18).split("^")[0]
        if device:
            pump = device
            break
    if not pump:
        raise OrderError("OBX-18: the pump's id (equipment instance identifier) is missing")
    drug = field_of(rxg, 4).split("^")[1] if "^" in field_of(rxg, 4) else field_of(rxg, 4) or None
    return PendingOrder(order_id, pump, f"{rate_val} mL/h",
                        f"{vtbi_val} {_UNITS.get(vtbi_unit, 'mL')}" if vtbi_val else None,
                        drug, control_id, text)  # fmt: skip


def ack(text: str, code: str = "CA", error: str = "") -> str:
    """The acknowledgement of message ``text`` (CA/CE/CR for orders, AA/AE/AR otherwise)."""
    import hl7

    msg = hl7.parse(text.replace("\n", "\r"))
    kind = str(msg.segment("MSH")[9])
    trigger = kind.split("^")[1] if "^" in kind else ""
    reply = msg.create_ack(ack_code=code, message_id=f"ACK-{msg.segment('MSH')[10]}",
                           application="PUMPSIM", facility="PUMPSIM")  # fmt: skip
    out = str(reply).rstrip("\r")
    if trigger:
        out = out.replace("|ACK|", f"|ACK^{trigger}^ACK|", 1)
    if error:
        out += f"\rERR|||207^Application internal error^HL70357|E||||{escape(error)}"
    return out


def iter_codes() -> Iterable[tuple[str, int | None, str]]:
    """(pumpsim signal, MDC code, MDC term) of every row this module sends."""
    for table in (SIGNALS, EVENT_CODES):
        for row in table.values():
            yield row.signal, row.mdc, row.term or ""
