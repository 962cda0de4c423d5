"""Oracles for the pump's delivery logic: KVO, accuracy, boluses, PCA, time remaining and
the drug library (docs/references.md [GIP2009], [OPCA2020], [CRISYS2013]); alarm handling is in
:mod:`pumpsim.analysis.oracles_alarms`. Each takes a
:class:`~pumpsim.analysis.runview.PumpView` and returns a
:class:`~pumpsim.analysis.runview.Verdict`; :mod:`pumpsim.analysis.requirements`
keys them by source ID.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np

from pumpsim.analysis.runview import (
    CHANGING as _CHANGING,
)
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
from pumpsim.pump.druglib import Breach
from pumpsim.pump.program import IntermittentStep, LoadingStep, PcaStep, resolve_program

__all__ = [
    "kvo",
    "accuracy",
    "bolus_cap",
    "bolus_keeps_basal",
    "pca_lockout",
    "pca_limit",
    "no_bolus_in_alarm",
    "time_remaining",
    "ders",
]


def kvo(pv: PumpView) -> Verdict:
    rid = "GIP 1.1.8"
    states = [(r.time_s, r.details.get("state")) for r in pv.records if r.kind == "state"]
    checked = 0
    for i, (a, state) in enumerate(states):
        if state != "kvo":
            continue
        b = next((t for t, _ in states[i + 1 :] if t > a + _T), pv.duration)
        ref = pv.q_before(a)
        lo, hi = pv.q_range(a, b) if b > a + _T else (pv.q_at(a), pv.q_at(a))
        checked += 1
        if hi > ref * (1 + _REL) + 1e-12:
            return verdict(rid, FAIL, f"KVO at {mlh(hi)} above the running rate {mlh(ref)}", a, pv)
        if lo < min(pv.kvo_rate, ref) * (1 - _REL):
            return verdict(
                rid, FAIL, f"KVO fell to {mlh(lo)} (floor {mlh(min(pv.kvo_rate, ref))})", a, pv
            )
    prog = pv.program
    if (
        pv.pump.settings.vtbi_end == "kvo"
        and len(prog) == 1
        and prog[0].vtbi is not None
        and prog[0].mode == "continuous"
        and not pv.inputs
    ):
        t_v = pv.time_of_volume(prog[0].vtbi)
        if t_v is not None:
            checked += 1
            stops = [a for a, _, _, p in pv.active if p == "high" and a >= t_v - _T]
            end = min(stops) if stops else pv.duration
            lo, _ = pv.q_range(t_v, end)
            if end > t_v + _T and lo <= 0:
                return verdict(
                    rid,
                    FAIL,
                    "flow stopped after the VTBI although vtbi_end is kvo and "
                    "no flow-stopping alarm or stop came",
                    t_v,
                    pv,
                )
    if not checked:
        return verdict(rid, NOT_EXERCISED, "the pump never went to KVO")
    return verdict(rid, PASS, f"{checked} KVO period(s): kept, never above the running rate", pv=pv)


def accuracy(pv: PumpView) -> Verdict:
    rid = "GIP 1.2.1"
    prog = pv.program
    if len(prog) != 1 or prog[0].mode != "continuous" or pv.inputs or prog[0].rate <= 0:
        return verdict(rid, NOT_EXERCISED, "needs one constant-rate step and no operator input")
    on = pv.t[pv.q > 0]
    start = float(on[0]) if on.size else pv.duration
    stops = [a for a, _, k, p in pv.active if pv.action(k, p) == "stop" and a >= start]
    end = min([*stops, pv.duration])
    if prog[0].vtbi is not None:
        t_v = pv.time_of_volume(prog[0].vtbi)
        end = min(end, t_v if t_v is not None else end)
    if end - start < 72 * 3600 - _T:
        return verdict(
            rid, NOT_EXERCISED, f"ran {(end - start) / 3600:.3g} h at its setting; needs 72 h"
        )
    col = f"pump.{pv.id}.delivered[mL]"
    col = col if col in pv.ts.columns else f"pump.{pv.id}.infused[mL]"
    series = pv.ts[col]
    got = float(np.interp(end, series.index, series) - np.interp(start, series.index, series))
    want = prog[0].rate * (end - start)
    err = 100 * (got - want) / want
    status = PASS if abs(err) <= 5 else FAIL
    text = f"delivered {got:.4g} mL over {(end - start) / 3600:.3g} h, setting {want:.4g} mL"
    return verdict(rid, status, f"{text}: {err:+.2f} %", None if status == PASS else end, pv)


def bolus_cap(pv: PumpView) -> Verdict:
    rid = "GIP 1.4.3"
    over = pv.q > pv.max_rate * (1 + _REL)
    if over.any():
        i = int(np.argmax(over))
        return verdict(
            rid,
            FAIL,
            f"{mlh(pv.q[i])} above the pump maximum {mlh(pv.max_rate)}",
            float(pv.t[i]),
            pv,
        )
    boluses = pv.bolus_starts()
    if not boluses:
        return verdict(rid, NOT_EXERCISED, "no bolus was given")
    bolus_rate = pv.pump.settings.bolus_rate or pv.max_rate
    for t, base, level, _end, kind in boluses:
        details: dict[str, Any] = next(
            (d for ti, k, d in pv.inputs if abs(ti - t) <= _T and k == kind), {}
        )
        timed = details.get("volume_mL") and details.get("duration_s")
        extra = details["volume_mL"] / details["duration_s"] if timed else bolus_rate
        expected = min(base + extra, pv.max_rate)
        # the basal under the bolus: the rate before it, the one it returns to, the PCA basal
        bases = [base, pv.q_at(_end) if _end < pv.duration - _T else base]
        bases += [pca.rate] if (pca := pv.pca_step()) is not None else []
        if min(abs(level - min(b + extra, pv.max_rate)) for b in bases) > _REL * expected + 1e-12:
            return verdict(
                rid,
                FAIL,
                f"bolus ran at {mlh(level)}; basal {mlh(base)} + bolus "
                f"{mlh(extra)} capped at {mlh(pv.max_rate)} is {mlh(expected)}",
                t,
                pv,
            )
    with_basal = sum(1 for b in boluses if b[1] > 0)
    return verdict(
        rid,
        PASS,
        f"{len(boluses)} bolus(es), {with_basal} on top of a basal, none above {mlh(pv.max_rate)}",
        pv=pv,
    )


def bolus_keeps_basal(pv: PumpView) -> Verdict:
    rid = "GIP 1.4.4"
    checked = 0
    changing = sorted(x for x, k, _ in pv.inputs if k in _CHANGING)
    raised = sorted(a for a, _, _, _ in pv.active)
    starts = sorted(s.start for s in pv.program if s.start is not None)
    for t, base, _level, end, _kind in pv.bolus_starts():
        if end >= pv.duration - _T:
            continue
        busy = bisect.bisect_right(changing, end + _T) > bisect.bisect_right(changing, t + _T)
        busy = busy or bisect.bisect_right(raised, end + _T) > bisect.bisect_left(raised, t - _T)
        busy = busy or any(pv.records_at(k, x) for k in ("state", "alarm_cleared")
                           for x in (t, end))  # fmt: skip
        busy = busy or bisect.bisect_right(starts, end + _T) > bisect.bisect_right(starts, t)
        if busy:
            continue
        checked += 1
        after = pv.q_at(end)
        if abs(after - base) > _REL * max(base, 1e-12) + 1e-12:
            return verdict(
                rid,
                FAIL,
                f"after the bolus the rate is {mlh(after)}, the basal was {mlh(base)}",
                end,
                pv,
            )
    if not checked:
        return verdict(rid, NOT_EXERCISED, "no bolus ended undisturbed")
    return verdict(rid, PASS, f"{checked} bolus(es) returned to the basal", pv=pv)


def pca_lockout(pv: PumpView) -> Verdict:
    rid = "OPCA R5.2.0(3)"
    step = pv.pca_step()
    presses = [t for t, k, _ in pv.inputs if k == "pca_press"]
    if step is None or not presses:
        return verdict(rid, NOT_EXERCISED, "no PCA program with patient presses")
    doses = pv.pca_boluses(step.rate)
    starts = [a for a, _, _ in doses]
    for (a, _b, vol), prev in zip(doses, [None, *starts][: len(doses)], strict=True):
        if prev is not None and a - prev < step.lockout - _T:
            return verdict(
                rid,
                FAIL,
                f"demand dose {a - prev:.0f} s after the previous one "
                f"(lockout {step.lockout:.0f} s)",
                a,
                pv,
            )
        if vol > step.demand * (1 + 1e-4) + 1e-9:
            return verdict(
                rid,
                FAIL,
                f"{vol:.4g} mL given as one demand ({step.demand:.4g} mL): a "
                "bolus during another bolus",
                a,
                pv,
            )
        if step.max_demands is not None:
            last_hour = [s for s in starts if a - 3600 + _T < s <= a + _T]
            if len(last_hour) > step.max_demands:
                return verdict(
                    rid,
                    FAIL,
                    f"{len(last_hour)} demand doses within an hour (at most {step.max_demands})",
                    a,
                    pv,
                )
    refused = 0
    for t in presses:
        if not pv.records_at("pca_request", t):
            return verdict(rid, FAIL, "a patient request was not logged (pca_request)", t, pv)
        if near(starts, t):
            continue  # answered with a dose
        prior = last_before(starts, t)
        in_lockout = prior is not None and t - prior < step.lockout - _T
        i = bisect.bisect_left(starts, t) - 1
        if in_lockout or (i >= 0 and doses[i][0] < t < doses[i][1]):
            refused += 1
    if not refused:
        return verdict(rid, NOT_EXERCISED, "no request came during a lockout or a bolus")
    return verdict(
        rid,
        PASS,
        f"{len(doses)} demand dose(s); {refused} request(s) in lockout or "
        "during a bolus refused and logged",
        pv=pv,
    )


def pca_limit(pv: PumpView) -> Verdict:
    rid = "OPCA R5.2.0(5)"
    step = pv.pca_step()
    if step is None or step.limit_volume is None or step.limit_window is None:
        return verdict(rid, NOT_EXERCISED, "no PCA dose limit programmed")
    doses = DoseIndex(pv.pca_boluses(step.rate, demand_only=False))  # all boluses count
    demands = sorted(a for a, _, _ in pv.pca_boluses(step.rate))
    lim, win = step.limit_volume, step.limit_window
    for k, (a, _b, vol) in enumerate(doses.d):
        if not near(demands, a):
            continue
        before = doses.window_volume(pv, a, win, upto=bisect.bisect_left(doses.a, a - _T, 0, k + 1))
        if before + vol > lim * (1 + 1e-4) + 1e-9:
            return verdict(
                rid,
                FAIL,
                f"a demand dose brought the {win / 3600:g}-h window to "
                f"{before + vol:.4g} mL, above the limit {lim:.4g} mL",
                a,
                pv,
            )
    binding, episode = 0, False
    for t, kind, _ in pv.inputs:
        if kind != "pca_press":
            continue
        if near(doses.a, t):
            episode = False
            continue
        prior = last_before(demands, t)
        if (prior is not None and t - prior < step.lockout - _T) or doses.running(t):
            continue
        hour = bisect.bisect_left(demands, t - _T) - bisect.bisect_right(demands, t - 3600.0 + 1e-6)
        if step.max_demands is not None and hour >= step.max_demands:
            continue  # refused by the hourly count before the limit is asked
        if doses.window_volume(pv, t, win) + step.demand <= lim * (1 + 1e-9):
            episode = False
            continue
        binding += 1
        if not episode:
            warned = pv.raised_between(t - _T, t + _GRACE)
            if not warned and not pv.active_at(t):
                return verdict(rid, FAIL, "dose limit reached: no warning", t, pv)
            episode = True
        if pv.q_at(t) > min(pv.kvo_rate, step.rate) * (1 + _REL) + 1e-12:
            return verdict(
                rid, FAIL, f"dose limit reached: still at {mlh(pv.q_at(t))}, not KVO", t, pv
            )
    if not binding:
        return verdict(rid, NOT_EXERCISED, "the dose limit never bound")
    return verdict(
        rid, PASS, f"{binding} request(s) beyond the limit refused, warned, at KVO", pv=pv
    )


def no_bolus_in_alarm(pv: PumpView) -> Verdict:
    rid = "GIP 1.4.11"
    step = pv.pca_step()
    starts = [(t, k) for t, _, _, _, k in pv.bolus_starts()]
    if step is not None:
        starts += [(a, "pca_press") for a, _, _ in pv.pca_boluses(step.rate)]
    asked = 0
    for t, kind, _ in pv.inputs:
        if kind in ("pca_press", "clinician_bolus") and any(
            pv.inhibiting(k, p) for a, _, k, p in pv.active_at(t) if a < t - _T
        ):
            asked += 1
    for t, _kind in starts:
        blocking = [(k, p) for a, b, k, p in pv.active_at(t) if a < t - _T and pv.inhibiting(k, p)]
        if blocking:
            return verdict(
                rid,
                FAIL,
                f"a bolus started during the {blocking[0][1]}-priority alarm {blocking[0][0]}",
                t,
                pv,
            )
    if not asked:
        return verdict(rid, NOT_EXERCISED, "no bolus was asked for during an alarm")
    return verdict(rid, PASS, f"{asked} bolus request(s) during an alarm, none given", pv=pv)


def time_remaining(pv: PumpView) -> Verdict:
    rid = "GIP 1.5.2"
    needed = math.isfinite(pv.reservoir) or any(
        s.vtbi is not None or s.duration is not None for s in pv.program
    )
    if not needed:
        return verdict(rid, NOT_EXERCISED, "no VTBI, duration or finite reservoir to count down")
    recs = [(r.time_s, r.details.get("remaining_s")) for r in pv.by_kind.get("time_remaining", [])]
    rt = [x for x, _ in recs]
    for i in range(1, pv.t.size):
        t = float(pv.t[i])
        if pv.q[i] > 0 and t < pv.duration - _T and not near(rt, t):
            return verdict(
                rid, FAIL, f"rate changed to {mlh(pv.q[i])}; time remaining not recomputed", t, pv
            )
    bolus_ends = [e for _, _, _, e, _ in pv.bolus_starts()]
    step = pv.pca_step()
    if step is not None:
        bolus_ends += [b for _, b, _ in pv.pca_boluses(step.rate)]
    bolus_ends.sort()
    ends = [
        float(x)
        for x, q in zip(pv.t, pv.q, strict=True)
        if q <= pv.kvo_rate * (1 + _REL) and not near(bolus_ends, float(x))
    ]
    changing = sorted(x for x, k, _ in pv.inputs if k in _CHANGING)
    stopping = sorted(a for a, _, k, p in pv.active if pv.action(k, p) != "continue")
    checked = 0
    for t_r, rem in recs:
        if rem is None:
            continue
        pred = t_r + float(rem)
        k = bisect.bisect_right(rt, t_r + _T)
        nxt = rt[k] if k < len(rt) else pv.duration
        k = bisect.bisect_right(ends, t_r + _T)
        end = ends[k] if k < len(ends) else None
        horizon = end if end is not None and end <= nxt + _T else nxt
        if bisect.bisect_right(changing, horizon + _T) > bisect.bisect_right(changing, t_r) or (
            bisect.bisect_left(stopping, horizon - _T) > bisect.bisect_right(stopping, t_r)
        ):
            continue  # an operator or an alarm changed the infusion: not predictable
        if end is not None and end <= nxt + _T:
            fault = [a for a, _, k, _ in pv.active if abs(a - end) <= _T and k != "vtbi_complete"]
            if abs(pred - end) <= 180:
                checked += 1
            elif not fault:
                return verdict(
                    rid,
                    FAIL,
                    f"predicted end at {pred / 60:.1f} min, the infusion "
                    f"ended at {end / 60:.1f} min",
                    t_r,
                    pv,
                )
        elif pred + 180 < min(nxt, pv.duration) - _T and pv.q_range(t_r, pred + 180)[
            0
        ] > pv.kvo_rate * (1 + _REL):
            return verdict(
                rid,
                FAIL,
                f"predicted end at {pred / 60:.1f} min; the infusion went on with no new estimate",
                t_r,
                pv,
            )
    changes = sum(1 for i in range(1, pv.t.size) if pv.q[i] > 0)
    if not checked and not changes:
        return verdict(rid, NOT_EXERCISED, "no rate change and no prediction to check")
    return verdict(
        rid, PASS, f"recomputed at every rate change ({changes}); {checked} prediction(s) "
        "within 3 min", pv=pv
    )


def _programmed(pv: PumpView) -> list[tuple[float, str, Any]]:
    """What was entered, when: ("program", steps) at its start, ("titrate", rate),
    ("bolus", volume)."""
    out: list[tuple[float, str, Any]] = [(0.0, "program", pv.program)]
    weight = pv.sc.patient.weight if pv.sc.patient is not None else None
    for ev in pv.sc.events:
        if getattr(ev, "pump", None) == pv.id and ev.type == "program":
            out.append((ev.at, "program", resolve_program(pv.pump, weight, ev.program)))
    for t, kind, d in pv.inputs:
        if kind == "titrate":
            out.append((t, "titrate", d.get("rate_mL_h", 0.0) / 3600.0))
        elif kind == "clinician_bolus":
            out.append((t, "bolus", d.get("volume_mL", 0.0)))
    return out


def ders(pv: PumpView) -> Verdict:
    rid = "GIP 6.1.3"
    area = getattr(pv.pump, "care_area", None)
    if area is None:
        return verdict(rid, NOT_EXERCISED, "no care area: the drug library does not apply")
    from pumpsim.pump.druglib import load_library

    entry = load_library(pv.sc.drug_library or "builtin").entry(
        pv.pump.drug, area, pv.pump.concentration.value if pv.pump.concentration else None
    )
    conc = pv.pump.concentration.value if pv.pump.concentration else None
    weight = pv.sc.patient.weight if pv.sc.patient is not None else None
    confirms = [t for t, k, _ in pv.inputs if k == "confirm"]
    breaches = 0
    for t, what, value in _programmed(pv):
        rates: list[float] = []
        found: list[Breach | None] = []
        if what == "program":
            for s in value:
                if isinstance(s, PcaStep):
                    found += entry.check_pca(
                        s.demand, s.lockout, s.limit_volume, s.limit_window, s.rate, conc, weight
                    )
                elif isinstance(s, IntermittentStep):
                    found += [
                        entry.check_bolus(s.dose_volume, conc, weight),
                        entry.check_rate(s.rate, conc, weight),
                    ]
                else:
                    if isinstance(s, LoadingStep):
                        found.append(entry.check_bolus(s.loading_volume, conc, weight))
                    found.append(entry.check_rate(s.rate, conc, weight) if s.rate > 0 else None)
                rates.append(s.rate)
        elif what == "titrate":
            found.append(entry.check_rate(value, conc, weight))
            rates.append(value)
        else:
            found.append(entry.check_bolus(value, conc, weight))
        breached = [b for b in found if b is not None]
        if not breached:
            continue
        breaches += 1
        level = "hard" if any(b.level == "hard" for b in breached) else "soft"
        if not pv.records_at("ders", t):
            return verdict(rid, FAIL, f"{breached[0].message}: the breach was not logged", t, pv)
        until = (
            pv.duration
            if level == "hard"
            else next((c for c in confirms if c >= t - _T), pv.duration)
        )
        pcas = [x for x in value if isinstance(x, PcaStep)] if what == "program" else []
        demands = pv.pca_boluses(pcas[0].rate) if pcas else []
        if any(t - _T <= d[0] < until - _T for d in demands):
            return verdict(
                rid,
                FAIL,
                f"{breached[0].message}: demand doses given without "
                f"{'override' if level == 'soft' else 'refusal'}",
                t,
                pv,
            )
        if what == "bolus":
            given = [b for b in pv.bolus_starts() if abs(b[0] - t) <= _T and b[0] < until]
            if given:
                return verdict(
                    rid,
                    FAIL,
                    f"{breached[0].message}: bolus given without "
                    f"{'override' if level == 'soft' else 'refusal'}",
                    t,
                    pv,
                )
            continue
        for r in [x for x in rates if x > 0]:
            i0 = int(np.searchsorted(pv.t, t - _T, side="left"))
            seg = [
                (float(a), float(q))
                for a, q in zip(pv.t[i0:], pv.q[i0:], strict=True)
                if a < until - _T and abs(q - r) <= _REL * r
            ]
            if seg:
                return verdict(
                    rid,
                    FAIL,
                    f"{breached[0].message}: delivered at {mlh(r)} without "
                    f"{'a confirmed override' if level == 'soft' else 'refusal'}",
                    seg[0][0],
                    pv,
                )
    if not breaches:
        return verdict(rid, NOT_EXERCISED, "nothing was programmed beyond a library limit")
    return verdict(
        rid,
        PASS,
        f"{breaches} entry(ies) beyond a limit: hard refused, soft waited for "
        "confirmation, all logged",
        pv=pv,
    )
