"""Oracles for alarm handling: reservoir warnings, arbitration of simultaneous alarms,
silence and re-activation (docs/references.md [GIP2009], [OPCA2020], [CRISYS2013]). Each takes a
:class:`~pumpsim.analysis.runview.PumpView` and returns a
:class:`~pumpsim.analysis.runview.Verdict`.
"""

from __future__ import annotations

import math

from pumpsim.analysis.runview import FAIL, NOT_EXERCISED, PASS, PumpView, Verdict, mlh, verdict
from pumpsim.analysis.runview import GRACE as _GRACE
from pumpsim.analysis.runview import REL as _REL
from pumpsim.analysis.runview import SAME_INSTANT as _T
from pumpsim.pump.alarms import restrictiveness

__all__ = ["reservoir", "arbitration", "silence"]


def reservoir(pv: PumpView) -> Verdict:
    rid = "OPCA R6.8.0(9)"
    if not math.isfinite(pv.reservoir):
        return verdict(rid, NOT_EXERCISED, "unlimited source")
    if pv.profile.name != "OPCA":
        return verdict(
            rid,
            NOT_EXERCISED,
            f"pump follows the {pv.profile.name} alarm profile "
            "(settings.alarm_profile: OPCA applies these thresholds)",
        )
    t1 = pv.time_of_volume(pv.reservoir - 1.0)
    if t1 is None:
        return verdict(rid, NOT_EXERCISED, "the reservoir never fell below 1 mL")
    # the warning is an alarm about the reservoir: not another condition raised then (a VTBI
    # reached at the same volume says nothing about what is left)
    if not [x for x, k, _ in pv.raised if t1 - _T <= x <= t1 + _GRACE and _about_reservoir(pv, k)]:
        return verdict(rid, FAIL, "reservoir below 1 mL without a near-empty warning", t1, pv)
    t2 = pv.time_of_volume(pv.reservoir - 0.5)
    if t2 is None:
        return verdict(rid, PASS, "warned at 1 mL (the 0.5 mL alarm was not reached)", t1, pv)
    if not [x for x, k, p in pv.raised if t2 - _T <= x <= t2 + _GRACE and p == "high"
            and _about_reservoir(pv, k)]:  # fmt: skip
        return verdict(rid, FAIL, "reservoir at 0.5 mL without a high-priority alarm", t2, pv)
    if pv.volume(pv.duration) > pv.reservoir - 0.5 + 1e-6:
        return verdict(rid, FAIL, "the pump went on below 0.5 mL", t2, pv)
    return verdict(
        rid,
        PASS,
        f"warned at 1 mL ({t1 / 60:.1f} min), alarmed and stopped at 0.5 mL ({t2 / 60:.1f} min)",
        pv=pv,
    )


def _about_reservoir(pv: PumpView, kind: str) -> bool:
    """An alarm about the reservoir: the reference's kinds, or a kind of the controller's own
    (the alarm table gives every other known kind another meaning)."""
    return kind in ("near_empty", "reservoir_empty") or kind not in pv.table.alarms


def arbitration(pv: PumpView) -> Verdict:
    rid = "CRISYS 60-64"
    cuts = sorted({x for a, b, _, _ in pv.active for x in (a, b)})
    displays = [(r.time_s, r.details.get("alarm")) for r in pv.records if r.kind == "alarm_display"]
    checked = 0
    for a, b in zip(cuts[:-1], cuts[1:], strict=False):
        if b - a <= _T:
            continue
        now = pv.active_at(a + _T)
        if len(now) < 2:
            continue
        checked += 1
        top = max(("low", "medium", "high").index(p) for _, _, _, p in now)
        tops = [(k, p) for _, _, k, p in now if ("low", "medium", "high").index(p) == top]
        need = max((pv.action(k, p) for k, p in tops), key=restrictiveness)
        lo, hi = pv.q_range(a, b)
        if need == "stop" and hi > 0:
            return verdict(
                rid, FAIL, f"{tops[0][0]} needs a stop; the pump ran at {mlh(hi)}", a, pv
            )
        if need == "kvo" and hi > pv.kvo_rate * (1 + _REL):
            return verdict(rid, FAIL, f"{need} in force; the pump ran at {mlh(hi)}", a, pv)
        if need != "continue" and any(a < s < b for s, *_ in pv.bolus_starts()):
            return verdict(rid, FAIL, f"{need} in force; a bolus started", a, pv)
        shown = [k for t, k in displays if t <= a + _T]
        if shown and shown[-1] not in [k for k, _ in tops]:
            return verdict(
                rid, FAIL, f"showed {shown[-1]} while {tops[0][0]} has higher priority", a, pv
            )
    if not checked:
        return verdict(rid, NOT_EXERCISED, "never two alarms at once")
    return verdict(rid, PASS, f"{checked} period(s) with simultaneous alarms arbitrated", pv=pv)


def silence(pv: PumpView) -> Verdict:
    rid = "GIP 3.2.1"
    limit = pv.profile.silence
    checked = 0
    for t, kind, _ in pv.inputs:
        if kind != "silence":
            continue
        for _a, b, alarm, _p in pv.active_at(t):
            if b < t + limit - _T:
                continue
            checked += 1
            back = [
                r.time_s
                for r in pv.records
                if r.kind in ("alarm_reactivated", "alarm")
                and r.details.get("alarm") == alarm
                and t < r.time_s <= t + limit + _GRACE
            ]
            if not back:
                return verdict(
                    rid,
                    FAIL,
                    f"{alarm} silenced and still active after {limit / 60:g} "
                    f"min ({pv.profile.name} profile), not re-activated",
                    t + limit,
                    pv,
                )
    if not checked:
        return verdict(rid, NOT_EXERCISED, "no alarm outlasted a silence")
    return verdict(
        rid, PASS, f"{checked} silenced alarm(s) re-activated within {limit / 60:g} min", pv=pv
    )
