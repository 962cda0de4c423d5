"""One code table: each signal pumpsim streams, with its IEEE 11073-10101 code and source.

A live session (:mod:`pumpsim.connect.session`) names every metric by its pumpsim
column (``pump.A.flow[mL/h]``) and, where one exists, the IEEE 11073-10101 (MDC)
context-free code (partition × 65536 + term code). Adapters for other standards
(HL7 OBX-3, FMI variable names) add their own fields to the same rows rather than
keep a second table.

Sources, each in ``docs/references.md``: [IHEPCD-TF3] IHE PCD Technical Framework
Vol 3 Rev 8.0 (2018) §7.1 "Device: Infusion Pump"; [IHEPCD-TF2] Vol 2 Rev 8.0
(alarm communication, PIV examples); [IHEPCD-IPEC] IPEC supplement Rev 1.5 (2015);
the nomenclature itself is [IEEE11073-10101].
Signals without a code verified there carry ``mdc=None`` (no private codes are
invented): line pressure, delivered volume and patient concentrations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Code", "SIGNALS", "EVENT_CODES", "UNIT_CODES", "code_for_column", "code_for_alarm"]


@dataclass(frozen=True)
class Code:
    """One row: a pumpsim signal, its MDC term and code, and where the code comes from."""

    signal: str  # the column's last path element and unit, e.g. "flow[mL/h]"
    term: str | None
    mdc: int | None
    source: str
    note: str = ""
    sdc: str | None = None  # handle of the metric in the SDC provider's MDIB (connect/sdc.py)


#: per-pump metrics, keyed by the column's tail (``pump.<id>.<tail>``)
SIGNALS: dict[str, Code] = {c.signal: c for c in (
    Code("rate[mL/h]", "MDC_FLOW_FLUID_PUMP", 157784, "IHEPCD-TF3 §7.1",
         "the pump's rate (the drive's; an ideal pump's flow)", sdc="rate"),
    Code("flow[mL/h]", None, None, "none verified",
         "flow leaving the line's tip, which lags the pump rate; the rate is rate[mL/h]"),
    Code("vtbi[mL]", "MDC_VOL_FLUID_TBI", 157884, "IHEPCD-TF3 §7.1", sdc="vtbi"),
    Code("vtbi_remaining[mL]", "MDC_VOL_FLUID_TBI_REMAIN", 157872, "IHEPCD-TF3 §7.1"),
    Code("infused[mL]", "MDC_VOL_FLUID_DELIV_TOTAL", 157993, "IHEPCD-TF3 §7.1", sdc="infused"),
    Code("time_remaining[s]", "MDC_TIME_PD_REMAIN", 157916, "IHEPCD-TF3 §7.1"),
    Code("state", "MDC_PUMP_STAT", 184508, "IHEPCD-TF3 §7.1", sdc="state"),
    Code("pressure[mmHg]", None, None, "none verified",
         "no line-pressure metric code verified in the IHE PCD framework"),
    Code("delivered[mL]", None, None, "none verified", "volume leaving the line's tip"),
)}  # fmt: skip

_PCD = "IHEPCD-TF3 §7.1 / IHEPCD-IPEC Rev 1.5"

#: alarm kinds (``alarm`` records' ``alarm`` field) -> MDC event code
EVENT_CODES: dict[str, Code] = {c.signal: c for c in (
    Code("occlusion", "MDC_EVT_FLUID_LINE_OCCL", 196940, _PCD),
    Code("occlusion_upstream", "MDC_EVT_FLUID_LINE_OCCL", 196940, _PCD),
    Code("free_flow", "MDC_EVT_PUMP_FLOW_FREE", 197206, _PCD),
    Code("reservoir_empty", "MDC_EVT_EMPTY", 196634, _PCD),
    Code("door_open", "MDC_EVT_DOOR_OR_HANDLE_POSN_PROB", 196842, _PCD),
    Code("alarm", "MDC_EVT_ALARM", 196616, "IHEPCD-TF2 (ACM, OBR-4)",
         "the alarm-report container; any alarm without a more specific code"),
)}  # fmt: skip

#: units -> MDC dimension codes
UNIT_CODES: dict[str, Code] = {c.signal: c for c in (
    Code("mL/h", "MDC_DIM_MILLI_L_PER_HR", 265266, "IHEPCD-TF3 §7.1"),
    Code("mL", "MDC_DIM_MILLI_L", 263762, "IHEPCD-TF3 §7.1"),
    Code("ug/kg/min", "MDC_DIM_MICRO_G_PER_KG_PER_MIN", 265619, "IHEPCD-TF3 §7.1"),
    Code("1", "MDC_DIM_DIMLESS", 262656, "IEEE11073-10101 (partition 4, term 512)",
         "not in the IHE PCD pump tables; BICEPS needs a unit on every metric (pump state)"),
)}  # fmt: skip

_PUMP_COLUMN = re.compile(r"^pump\.[^.]+\.(?P<tail>.+)$")


def code_for_alarm(alarm: str) -> Code:
    """The table row of a pumpsim alarm name (``occlusion``), else the generic alarm row."""
    return EVENT_CODES.get(alarm, EVENT_CODES["alarm"])


def code_for_column(column: str) -> Code | None:
    """The table row of a pumpsim column name (``pump.A.rate[mL/h]``), or None."""
    m = _PUMP_COLUMN.match(column)
    return SIGNALS.get(m.group("tail")) if m else None
