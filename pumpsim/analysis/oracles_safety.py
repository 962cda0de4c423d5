"""Oracles for the door, accumulated air, upstream occlusion, silence, and PCA requests that
must be answered. Each takes a :class:`~pumpsim.analysis.runview.PumpView` and returns a
:class:`~pumpsim.analysis.runview.Verdict`.

What they trust: the engine's own records (``door`` with ``open``, ``air_detected`` with the
bubble's ``volume_mL``), the sampled upstream pressure, the motor's rate breakpoints, the
operator and patient inputs, the alarms raised through the hardware, and the scenario.
"""

from __future__ import annotations

import bisect

from pumpsim.analysis.runview import (
    FAIL,
    NOT_EXERCISED,
    PASS,
    DoseIndex,
    PumpView,
    Verdict,
    last_before,
    mlh,
    near,
    verdict,
)
from pumpsim.analysis.runview import GRACE as _GRACE
from pumpsim.analysis.runview import REL as _REL
from pumpsim.analysis.runview import SAME_INSTANT as _T
from pumpsim.pump.sensors import DEFAULT_AIR_CUMULATIVE_LIMIT, UPSTREAM_OCCLUSION_LIMIT

__all__ = ["door", "air_cumulative", "upstream_occlusion", "silence_keeps", "pca_answered"]

#: the rolling window of accumulated air [s] (15 min, as the limit is stated)
AIR_WINDOW = 15 * 60.0


def _high_alarm(pv: PumpView, t: float, within: float = _GRACE) -> bool:
    return any(t - _T <= x <= t + within and p == "high" for x, _, p in pv.raised)


def door(pv: PumpView) -> Verdict:
    """Door (or syringe clamp) open while infusing -> high-priority alarm and stop at once;
    no flow while the door is open, whatever is pressed (no start while open)."""
    rid = "PS-DOOR"
    changes = [(r.time_s, bool(r.details.get("open"))) for r in pv.by_kind.get("door", [])]
    opened = 0
    for i, (t, is_open) in enumerate(changes):
        if not is_open:
            continue
        opened += 1
        close = next((x for x, o in changes[i + 1 :] if not o), pv.duration)
        if pv.q_before(t) > 0 and not _high_alarm(pv, t):
            return verdict(rid, FAIL, "door opened while infusing: no high-priority alarm", t, pv)
        lo, hi = pv.q_range(t, close) if close > t + _T else (0.0, pv.q_at(t))
        hi = max(hi, pv.q_at(t))
        if hi > 0:
            starts = [x for x, k, _ in pv.inputs if k == "start" and t < x < close]
            what = "after a start while it was open" if starts else "with the door open"
            return verdict(rid, FAIL, f"the motor ran at {mlh(hi)} {what}", t, pv)
    if not opened:
        return verdict(rid, NOT_EXERCISED, "the door was never opened")
    return verdict(rid, PASS, f"door opened {opened} time(s): alarm, stop, no flow while "
                   "open", pv=pv)  # fmt: skip


def air_cumulative(pv: PumpView) -> Verdict:
    """Air passing the detector in any rolling 15-min window above the accumulated-air limit
    (``settings.air_cumulative_limit``, default 1 mL) -> high-priority alarm and stop, even when
    every bubble is below the single-bubble limit."""
    rid = "PS-AIR.2"
    limit = getattr(pv.pump.settings, "air_cumulative_limit", None) or DEFAULT_AIR_CUMULATIVE_LIMIT
    bubbles = [(r.time_s, float(r.details.get("volume_mL", 0.0)))
               for r in pv.by_kind.get("air_detected", [])]  # fmt: skip
    total, first, checked = 0.0, 0, 0
    for t, v in bubbles:  # a sliding window: linear in the number of bubbles
        total += v
        while bubbles[first][0] <= t - AIR_WINDOW + _T:
            total -= bubbles[first][1]
            first += 1
        if total <= limit * (1 + 1e-9):
            continue
        checked += 1
        if not _high_alarm(pv, t):
            return verdict(rid, FAIL, f"{total:.3g} mL of air in the 15 min to t (limit "
                           f"{limit:.3g} mL): no high-priority alarm", t, pv)  # fmt: skip
        if pv.q_at(t + _GRACE) > 0:
            return verdict(rid, FAIL, f"{total:.3g} mL of air in 15 min: the pump went on", t, pv)
    if not checked:
        return verdict(rid, NOT_EXERCISED, f"never more than {limit:.3g} mL of air in 15 min")
    return verdict(rid, PASS, f"accumulated air above {limit:.3g} mL in 15 min: alarm and "
                   "stop", pv=pv)  # fmt: skip


def upstream_occlusion(pv: PumpView) -> Verdict:
    """Upstream pressure below the upstream limit (suction beyond 1 psi) while pumping ->
    high-priority alarm and stop (judged on the output grid: within one interval)."""
    rid = "PS-OCC.U"
    col = f"pump.{pv.id}.upstream_pressure[mmHg]"
    if col not in pv.ts.columns:
        return verdict(rid, NOT_EXERCISED, "no upstream pressure (a pump with an upstream line)")
    below = pv.ts.index[pv.ts[col].to_numpy(float) <= UPSTREAM_OCCLUSION_LIMIT * (1 - 1e-6)]
    if not len(below):
        return verdict(rid, NOT_EXERCISED, "the upstream pressure never fell below "
                       f"{UPSTREAM_OCCLUSION_LIMIT:.1f} mmHg")  # fmt: skip
    t = float(below[0])
    step = float(pv.ts.index[1] - pv.ts.index[0]) if len(pv.ts.index) > 1 else 0.0
    alarms = [x for x, _, p in pv.raised if p == "high" and t - step - _T <= x <= t + _GRACE]
    if not alarms:
        return verdict(rid, FAIL, f"upstream pressure {float(pv.ts[col].loc[t]):.0f} mmHg "
                       "(upstream occlusion): no high-priority alarm", t, pv)  # fmt: skip
    if pv.q_at(min(alarms)) > 0:
        return verdict(rid, FAIL, "upstream occlusion alarm: the pump went on", min(alarms), pv)
    return verdict(rid, PASS, f"upstream occlusion alarmed at {min(alarms) / 60:.2f} min and "
                   "the pump stopped", pv=pv)  # fmt: skip


def silence_keeps(pv: PumpView) -> Verdict:
    """A silence pauses the audio only: every alarm active before it is still active after
    it (not cleared by it), and the infusion does not change (a stopped pump stays stopped)."""
    rid = "PS-SIL.1"
    checked = 0
    for t, kind, _ in pv.inputs:
        if kind != "silence":
            continue
        before = [(a, k) for a, b, k, _p in pv.active if a < t - _T and b >= t - _T]
        if not before:
            continue
        checked += 1
        cleared = [r.details.get("alarm") for r in pv.records_at("alarm_cleared", t)]
        gone = [k for _, k in before if k in cleared]
        if gone:
            return verdict(rid, FAIL, f"silence cleared the alarm {gone[0]}", t, pv)
        if abs(pv.q_at(t) - pv.q_before(t)) > _REL * max(pv.q_before(t), 1e-12) + 1e-12:
            return verdict(rid, FAIL, f"silence changed the infusion from {mlh(pv.q_before(t))} "
                           f"to {mlh(pv.q_at(t))}", t, pv)  # fmt: skip
    if not checked:
        return verdict(rid, NOT_EXERCISED, "no silence while an alarm was active")
    return verdict(rid, PASS, f"{checked} silence(s): alarms kept, infusion unchanged", pv=pv)


def pca_answered(pv: PumpView) -> Verdict:
    """A patient request that every rule permits is delivered: a full demand dose starting at
    once. Permitted means: a PCA program running (not stopped, not in a secondary), no alarm
    that inhibits a bolus (the dose-limit warning is judged from the window itself), no bolus
    running, the lockout over — counted from the start of the last dose *given*, so a refused
    request never restarts it — fewer than ``max_demands`` doses in the last hour, and the dose
    within the limit over the window counting demand doses, clinician boluses and the basal."""
    rid = "PS-PCA.1"
    step = pv.pca_step()
    presses = [t for t, k, _ in pv.inputs if k == "pca_press"]
    if step is None or not presses:
        return verdict(rid, NOT_EXERCISED, "no PCA program with patient presses")
    doses = pv.pca_boluses(step.rate)
    everything = pv.pca_boluses(step.rate, demand_only=False)
    index = DoseIndex(everything)
    starts = [a for a, _, _ in doses]
    states = [(r.time_s, r.details.get("state")) for r in pv.by_kind.get("state", [])]
    state_times = [s for s, _ in states]
    busy = [t for t, k, _ in pv.inputs if k not in ("pca_press", "silence")]
    permitted = 0
    for t in presses:
        i = bisect.bisect_right(state_times, t + _T) - 1
        if (states[i][1] if i >= 0 else None) not in ("running", "kvo"):
            continue  # stopped, paused, in alarm or not yet started: refused
        if near(busy, t):
            continue  # an operator input at the same instant: order undefined
        blocking = [k for a, _, k, p in pv.active_at(t) if a < t - _T and k != "dose_limit"
                    and pv.inhibiting(k, p)]  # fmt: skip
        if blocking or index.running(t - _T):
            continue
        last = last_before(starts, t)
        if last is not None and t - last < step.lockout - 1e-6:
            continue
        if step.max_demands is not None:
            hour = [s for s in starts if t - 3600.0 + 1e-6 < s < t - _T]
            if len(hour) >= step.max_demands:
                continue
        if step.limit_volume is not None and step.limit_window is not None:
            given = bisect.bisect_left(index.a, t - _T)  # the doses before this request
            room = step.limit_volume - index.window_volume(pv, t, step.limit_window, upto=given)
            if step.demand > room - 1e-3 * step.limit_volume:
                continue  # beyond (or too close to judge) the dose limit
        if pv.reservoir - pv.volume(t) < step.demand + 1.0:
            continue
        if pv.q_before(t) + 1e-12 >= pv.max_rate * (1 - _REL):
            continue  # no room above the basal
        permitted += 1
        if not near(starts, t):
            since = f"last dose {(t - last) / 60:.1f} min before" if last else "no dose before"
            why = f"a permitted request was not delivered ({since}, lockout over, no alarm, "
            return verdict(rid, FAIL, why + "no bolus, within the limits)", t, pv)
        a, b, vol = next(d for d in doses if abs(d[0] - t) <= _T)
        cut = any(a < x <= b + _T for x, _, _ in pv.raised) or b >= pv.duration - _T
        if abs(vol - step.demand) > 1e-4 * step.demand + 1e-9 and not cut:
            return verdict(rid, FAIL, f"a permitted request gave {vol:.4g} mL; the demand dose "
                           f"is {step.demand:.4g} mL", t, pv)  # fmt: skip
    if not permitted:
        return verdict(rid, NOT_EXERCISED, "no request that every rule permits")
    return verdict(rid, PASS, f"{permitted} permitted request(s), each given a full demand "
                   "dose at once", pv=pv)  # fmt: skip
