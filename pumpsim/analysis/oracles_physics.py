"""Oracles that need delivery physics (a mechanism and a line): over- and under-infusion,
occlusion, air, the post-occlusion bolus, repeated alert-stop-start, battery
(docs/references.md [GIP2009], [OPCA2020], [CRISYS2013]).
Without the physics they report "not exercised".
"""

from __future__ import annotations

import math

import numpy as np

from pumpsim.analysis.runview import (
    FAIL,
    NOT_EXERCISED,
    PASS,
    PumpView,
    Verdict,
    mlh,
    verdict,
)
from pumpsim.analysis.runview import GRACE as _GRACE
from pumpsim.analysis.runview import REL as _REL
from pumpsim.analysis.runview import SAME_INSTANT as _T
from pumpsim.pump.mechanism import STROKE_VOLUME

__all__ = [
    "over_infusion",
    "over_infusion_pause",
    "under_infusion",
    "stop_at_once",
    "stroke_stop",
    "air",
    "occlusion_limit",
    "post_occlusion_bolus",
    "escalation",
    "battery",
]


def _overdelivery(pv: PumpView, rid: str, factor: float, window: float, stop: bool) -> Verdict:
    col = f"pump.{pv.id}.delivered[mL]"
    if col not in pv.ts.columns:
        return verdict(
            rid, NOT_EXERCISED, "needs delivered flow (a pump with a mechanism and line)"
        )
    ts = pv.ts[col].to_numpy(float)
    grid = pv.ts.index.to_numpy(float)
    # every window (t - window, t) ending on the grid at once: linear in the grid's length
    ends = grid[grid >= window]
    rates = pv.steady_rates(ends - window, ends)  # judged at a steady setting only
    got = np.interp(ends, grid, ts) - np.interp(ends - window, grid, ts)
    want = pv.volumes(ends) - pv.volumes(ends - window)
    with np.errstate(invalid="ignore"):
        over = (rates > 0) & (got > factor * want * (1 + _REL))
    if over.any():
        k = int(np.argmax(over))
        t = float(ends[k])
        alarms = [a for a, _, _, p in pv.active if t - window <= a <= t + _GRACE]
        if not alarms or (stop and pv.q_at(min(alarms)) > 0):
            return verdict(
                rid,
                FAIL,
                f"delivered {got[k]:.4g} mL vs {want[k]:.4g} mL commanded in the "
                f"{window / 60:g} min to t, no alarm{' and stop' if stop else ''}",
                t,
                pv,
            )
        return verdict(rid, PASS, "over-delivery alarmed in time", float(min(alarms)), pv)
    return _uncontrolled(pv, rid, window, ts, grid)


#: flow [mL/s] that keeps leaving the line through a whole window with the motor stopped:
#: uncontrolled (free) flow. A release after a stop is one short spike (a few R·C, seconds).
UNCONTROLLED_FLOW = 0.1 / 3600.0


def _uncontrolled(
    pv: PumpView, rid: str, window: float, ts: np.ndarray, grid: np.ndarray
) -> Verdict:
    """Free flow with the motor stopped for a whole window: a high alarm must be active.

    Flow must show in each quarter of the window (a release spike, even spread over one
    output interval by the sampling, shows in two at most); judged only when the output
    interval is at most a quarter of the window."""
    quarter = window / 4.0
    if grid.size < 2 or float(grid[1] - grid[0]) > quarter:
        return verdict(rid, NOT_EXERCISED, "no over-delivery happened")
    ends = grid[grid >= window]
    idle = pv.stopped(ends - window, ends)
    ends = ends[idle]
    points = ends[:, None] - quarter * np.arange(5.0)[None, :]
    moved = -np.diff(np.interp(points, grid, ts), axis=1)  # type: ignore[call-overload]
    free = moved.min(axis=1) > UNCONTROLLED_FLOW * quarter
    for k in np.nonzero(free)[0][:1]:
        t = float(ends[k])
        flow = float(moved[k].sum()) / window
        alarms = [a for a, end, _, p in pv.active if p == "high" and a <= t and end >= t]
        if not alarms:
            return verdict(rid, FAIL, f"uncontrolled flow {mlh(flow)} with the motor stopped, "
                           "no alarm", t, pv)  # fmt: skip
        return verdict(rid, PASS, f"uncontrolled flow {mlh(flow)} with the motor stopped: "
                       "alarm active", float(min(alarms)), pv)  # fmt: skip
    return verdict(rid, NOT_EXERCISED, "no over-delivery happened")


def over_infusion(pv: PumpView) -> Verdict:
    return _overdelivery(pv, "GIP 1.2.2", 1.10, 15 * 60.0, stop=False)


def over_infusion_pause(pv: PumpView) -> Verdict:
    return _overdelivery(pv, "CRISYS 16/19", 1.20, 60.0, stop=True)


#: GIP 1.2.3: delivered flow below this fraction of the setting for UNDER_WINDOW [s]
UNDER_FRACTION, UNDER_WINDOW = 0.90, 15 * 60.0
#: the window is under-delivered when every bin of it is [s]: a bin spans several strokes
#: at clinical rates, and a pulsating pump that is right on average has bins above 90 %
UNDER_BIN = 60.0


def _under_alarm(pv: PumpView, kind: str, priority: str) -> bool:
    """An under-infusion alarm: the reference's, or a medium/high one of a user's own kind."""
    if kind == "under_infusion":
        return True
    return kind not in pv.table.alarms and priority in ("medium", "high")


def under_infusion(pv: PumpView) -> Verdict:
    """GIP 1.2.3: every 15 min of delivery below 90 % of a steady, running setting (every
    bin of the window below) is covered by an under-infusion alarm, active at the window's
    end to within one bin.

    Judged on pumps with a flow sensor (``settings.flow_sensor``): the alarm is defined on
    the delivered flow, which a pump without one cannot see (a low-rate occlusion is then
    found by the line pressure alone, GIP 1.10.3). On such a pump an under-delivery is
    reported, not judged."""
    rid = "GIP 1.2.3"
    sensor = bool(getattr(pv.pump.settings, "flow_sensor", False))
    col = f"pump.{pv.id}.delivered[mL]"
    if col not in pv.ts.columns:
        return verdict(
            rid, NOT_EXERCISED, "needs delivered flow (a pump with a mechanism and line)"
        )
    grid = pv.ts.index.to_numpy(float)
    delivered = pv.ts[col].to_numpy(float)
    step = float(grid[1] - grid[0]) if grid.size > 1 else math.inf
    n = int(UNDER_WINDOW // max(UNDER_BIN, step))
    if n < 2:
        return verdict(rid, NOT_EXERCISED, "output interval too coarse to judge 15-min flow")
    width = UNDER_WINDOW / n
    found: list[float] = []
    ends = grid[grid >= UNDER_WINDOW - _T]
    rates = pv.steady_rates(ends - UNDER_WINDOW, ends)  # one running setting throughout
    run = np.nan_to_num(rates) > 0
    ends, rates = ends[run], rates[run]
    points = ends[:, None] - width * np.arange(n + 1.0)[None, :]
    bins = -np.diff(np.interp(points, grid, delivered), axis=1)  # type: ignore[call-overload]
    short = bins.max(axis=1) < UNDER_FRACTION * rates * width * (1 - _REL)
    for k in np.nonzero(short)[0]:
        t, lo, got = float(ends[k]), float(rates[k]), bins[k]
        found.append(t)
        alarms = [
            a for a, end, kind, p in pv.active
            if _under_alarm(pv, kind, p) and a <= t + width + _GRACE and end >= t - width
        ]  # fmt: skip
        if not alarms or not sensor:
            share = float(got.sum()) / (lo * UNDER_WINDOW)
            what = (f"delivered {share:.0%} of the setting {mlh(lo)} over the 15 min to t "
                    f"(every {width / 60:g} min below {UNDER_FRACTION:.0%})")  # fmt: skip
            if not sensor:
                return verdict(rid, NOT_EXERCISED, f"{what}; not judged: the pump has no "
                               "flow sensor (settings.flow_sensor)", float(t), pv)  # fmt: skip
            return verdict(rid, FAIL, f"{what}, no under-infusion alarm", float(t), pv)
    if not found:
        return verdict(rid, NOT_EXERCISED, "no 15 min of under-delivery with the motor running")
    first = min(a for a, _, kind, p in pv.active if _under_alarm(pv, kind, p))
    return verdict(
        rid,
        PASS,
        f"under-delivery from {(found[0] - UNDER_WINDOW) / 60:.1f} min: under-infusion alarm "
        f"at {first / 60:.1f} min, active while it lasted",
        first,
        pv,
    )


def _pressure_breach(pv: PumpView, limit: float) -> float | None:
    """First time the downstream pressure reaches ``limit`` (exact when the run's pressure
    breakpoints are known, else on the output grid)."""
    if pv.pressure is not None:
        t, v, k = (np.asarray(x, float) for x in pv.pressure)
        goal = limit * (1 - 1e-6)
        for i in range(t.size):
            end = t[i + 1] if i + 1 < t.size else pv.duration
            if v[i] >= goal:
                return float(t[i])
            if k[i] > 0 and v[i] + k[i] * (end - t[i]) >= goal:
                return float(t[i] + (goal - v[i]) / k[i])
        return None
    col = f"pump.{pv.id}.pressure[mmHg]"
    if col not in pv.ts.columns:
        return None
    over = pv.ts.index[pv.ts[col] >= limit * (1 - 1e-6)]
    return float(over[0]) if len(over) else None


def stop_at_once(pv: PumpView) -> Verdict:
    rid = "GIP 1.6.2"
    stops = [(t, k) for t, k, p in pv.raised if p == "high" and pv.action(k, p) == "stop"]
    limit = pv.pump.settings.occlusion_limit or 1034.0
    interval = float(pv.sc.output.interval)
    t_p = _pressure_breach(pv, limit)
    if t_p is not None and not [t for t, k in stops if t <= t_p + _GRACE]:
        return verdict(
            rid, FAIL, f"line pressure passed {limit:.0f} mmHg; the pump went on", t_p, pv
        )
    if t_p is not None and pv.q_at(t_p + interval) > 0:
        return verdict(rid, FAIL, "occluded line: the pump did not stop", t_p, pv)
    for t, kind in stops:
        if pv.q_at(t) > 0:
            return verdict(rid, FAIL, f"{kind}: the pump went on at {mlh(pv.q_at(t))}", t, pv)
    if not stops:
        return verdict(rid, NOT_EXERCISED, "no occlusion or fault")
    return verdict(rid, PASS, f"{len(stops)} stop alarm(s), each stopped the motor at once", pv=pv)


def stroke_stop(pv: PumpView) -> Verdict:
    """GIP 1.6.1: a normal stop of a stroke (volumetric) pump completes the stroke under way
    — the motor halts on a stroke boundary, at most one stroke after the stop — while a
    stop alarm halts it at once (nothing more after the alarm).

    The motor's counter is the volume it moved (:meth:`PumpView.volume`); strokes end on
    its multiples of the stroke volume. A stop is the stop the engine records
    (``stop``, ``complete_stroke``), else the halt itself."""
    rid = "GIP 1.6.1"
    if pv.pump.kind != "volumetric":
        return verdict(rid, NOT_EXERCISED, "not a stroke (volumetric) pump")
    stroke = pv.pump.mechanism.stroke_volume or STROKE_VOLUME
    # occlusion or fault: high priority, stop (as GIP 1.6.2); the end of a VTBI is normal
    alarm_stops = [t for t, k, p in pv.raised if p == "high" and pv.action(k, p) == "stop"]
    soft = [r.time_s for r in pv.records if r.kind == "stop" and r.details.get("complete_stroke")]
    halts = [float(pv.t[i]) for i in range(1, pv.t.size) if pv.q[i] <= 0 < pv.q[i - 1]]
    checked = at_once = 0
    for t in halts:
        period = stroke / pv.q_before(t)
        late = [a for a in alarm_stops if t - period - _T <= a < t - _T and pv.q_range(a, t)[0] > 0]
        if late:
            ran = pv.volume(t) - pv.volume(min(late))
            return verdict(rid, FAIL, f"stop alarm at {min(late) / 60:.2f} min: the motor ran "
                           f"on {ran * 1000:.0f} uL to t", t, pv)  # fmt: skip
        if any(abs(a - t) <= _T for a in alarm_stops):
            at_once += 1  # halted at once by an alarm (GIP 1.6.2)
            continue
        checked += 1
        v = pv.volume(t)
        pos = v % stroke
        if min(pos, stroke - pos) > 1e-6 * max(1.0, v):
            return verdict(rid, FAIL, f"normal stop halted {pos * 1000:.0f} uL into a "
                           f"{stroke * 1000:.0f} uL stroke", t, pv)  # fmt: skip
        cmd = max((s for s in soft if t - period - _T <= s <= t + _T), default=t)
        if v - pv.volume(cmd) > stroke * (1 + _REL):
            return verdict(rid, FAIL, f"ran on {(v - pv.volume(cmd)) * 1000:.0f} uL after the "
                           f"stop, more than one {stroke * 1000:.0f} uL stroke", t, pv)  # fmt: skip
    if not checked:
        return verdict(rid, NOT_EXERCISED, "no normal stop of a running stroke pump")
    return verdict(rid, PASS, f"{checked} normal stop(s) completed the stroke "
                   f"({stroke * 1000:.0f} uL) and halted on its boundary; {at_once} alarm "
                   "stop(s) halted at once", pv=pv)  # fmt: skip


def air(pv: PumpView) -> Verdict:
    rid = "GIP 1.9.1"
    limit = pv.pump.settings.air_limit or 0.2
    big = [
        r
        for r in pv.records
        if r.kind == "air_detected" and r.details.get("volume_mL", 0) > limit * (1 + 1e-9)
    ]
    if not big:
        return verdict(
            rid, NOT_EXERCISED, f"no bubble above {limit * 1000:.0f} uL passed the detector"
        )
    for r in big:
        t = r.time_s
        if not [x for x, _, p in pv.raised if t - _T <= x <= t + _GRACE and p == "high"]:
            return verdict(
                rid, FAIL, f"{r.details['volume_mL'] * 1000:.0f} uL bubble: no alarm", t, pv
            )
        if pv.q_at(t + _GRACE) > 0:
            return verdict(rid, FAIL, "air alarm: the pump went on", t, pv)
    return verdict(
        rid, PASS, f"{len(big)} bubble(s) above {limit * 1000:.0f} uL: alarm and stop", pv=pv
    )


def occlusion_limit(pv: PumpView) -> Verdict:
    rid = "GIP 1.10.3"
    set_limit = pv.pump.settings.occlusion_limit
    if set_limit is not None and set_limit >= 1034.0:
        return verdict(
            rid, FAIL, f"occlusion limit {set_limit:.0f} mmHg is not below 20 psi", 0.0, pv
        )
    limit = set_limit or 1034.0
    t_p = _pressure_breach(pv, limit)
    if t_p is None:
        return verdict(rid, NOT_EXERCISED, f"the line pressure never reached {limit:.0f} mmHg")
    alarms = [t for t, k, p in pv.raised if p == "high" and t <= t_p + _GRACE]
    if not alarms:
        return verdict(rid, FAIL, f"pressure reached {limit:.0f} mmHg without an alarm", t_p, pv)
    return verdict(
        rid, PASS, f"occlusion alarm at {max(alarms) / 60:.1f} min, limit {limit:.0f} mmHg", pv=pv
    )


def post_occlusion_bolus(pv: PumpView) -> Verdict:
    rid = "GIP 1.10.7"
    cleared = [r.time_s for r in pv.records if r.kind == "occlusion_cleared"]
    if not cleared:
        return verdict(rid, NOT_EXERCISED, "no occlusion was cleared")
    col = f"pump.{pv.id}.delivered[mL]"
    worst, when = 0.0, cleared[0]
    for t in cleared:  # what reached the patient beyond what the motor moved, 10 min on
        vol = sum(
            float(r.details.get("volume_mL", 0.0))
            for r in pv.records
            if r.kind == "release_bolus" and t - _T <= r.time_s <= t + _GRACE
        )
        if col in pv.ts.columns:
            d, grid = pv.ts[col], pv.ts.index.to_numpy(float)
            end = min(t + 600.0, pv.duration)
            got = float(np.interp(end, grid, d) - np.interp(t, grid, d))
            vol = max(vol, got - (pv.volume(end) - pv.volume(t)))
        if vol >= worst:
            worst, when = vol, t
    status = PASS if worst <= 0.5 + 1e-9 else FAIL
    return verdict(
        rid, status, f"largest bolus released on clearing {worst:.3g} mL (limit 0.5 mL)", when, pv
    )


def escalation(pv: PumpView) -> Verdict:
    rid = "OPCA R6.5.0(18)"
    count, window = pv.table.escalation_count, pv.table.escalation_window
    by_kind: dict[str, list[float]] = {}
    for t, kind, prio in pv.raised:
        if pv.action(kind, prio) == "stop":
            by_kind.setdefault(kind, []).append(t)
    checked = 0
    for kind, times in by_kind.items():
        for i in range(count - 1, len(times)):
            if times[i] - times[i - count + 1] > window + _T:
                continue
            checked += 1
            t = times[i]
            other = [
                x
                for x, k, p in pv.raised
                if k != kind and p == "high" and t - _T <= x <= t + _GRACE
            ]
            if not other or pv.q_at(t) > 0:
                return verdict(
                    rid,
                    FAIL,
                    f"{kind} {count} times within {window / 60:g} min without "
                    "a stop and an escalated alarm",
                    t,
                    pv,
                )
    if not checked:
        return verdict(
            rid, NOT_EXERCISED, f"no stop alarm came {count} times within {window / 60:g} min"
        )
    return verdict(rid, PASS, f"{checked} repetition(s) escalated, pump stopped", pv=pv)


def battery(pv: PumpView) -> Verdict:
    rid = "GIP 5.1.4"
    readings = [r for r in pv.records if r.kind == "battery"]
    if not readings:
        return verdict(rid, NOT_EXERCISED, "no battery readings (needs a power model)")
    if min(float(r.details.get("minutes_left", math.inf)) for r in readings) > 15:
        return verdict(rid, NOT_EXERCISED, "the battery never fell below 15 min")
    for r in readings:
        left, t = float(r.details.get("minutes_left", math.inf)), r.time_s
        if left <= 15 and not [x for x, _, _ in pv.raised if t - _T <= x <= t + _GRACE]:
            return verdict(rid, FAIL, f"{left:.0f} min of battery left without an alarm", t, pv)
        if left <= 5 and pv.q_at(t + _GRACE) > 0:
            return verdict(rid, FAIL, "battery depleted: the pump went on", t, pv)
    return verdict(rid, PASS, "battery alarms in time", pv=pv)
