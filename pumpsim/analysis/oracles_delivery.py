"""Oracles for "delivered as programmed": what the motor did against what was programmed.

From the scenario's program alone (pure data: :func:`pumpsim.pump.program.phases`) these
oracles build the rate the motor should run at, phase by phase — loading then maintenance,
every step of a multi-step program in order, the doses and intervals of an intermittent
program, the steps of a taper, a secondary (piggyback) taking over at its start time and the
primary resuming with the volume it had left, then what the pump's ``vtbi_end`` asks for once
the last VTBI is reached (stop, KVO at min(KVO rate, running rate), or continue) — and compare
it with the motor's exact rate breakpoints. A titration must take effect. They judge a pump only
while nothing else may change its course (an operator input other than a silence, a bolus, an
alarm whose action is not ``continue``); after that its delivery is "not exercised".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
from pumpsim.analysis.runview import REL as _REL
from pumpsim.analysis.runview import SAME_INSTANT as _T
from pumpsim.pump.mechanism import STROKE_VOLUME
from pumpsim.pump.program import IntermittentStep, PcaStep, SecondaryStep, phases

__all__ = ["as_programmed", "vtbi_end", "titration", "expected_rates"]

#: inputs that do not change the course of an infusion
_NEUTRAL = ("silence", "pca_press")
#: what holds an infusion that then resumes where it was: an operator stop and start, a stop
#: alarm (and its acknowledgement), the door
_HOLD_INPUTS = ("stop", "start", "confirm")
_HOLD_EVENTS = _HOLD_INPUTS + ("door_open", "door_close")


def _holds(pv: PumpView) -> list[tuple[float, float]]:
    """Intervals [s] the infusion was held (an operator stop or a stop alarm) until an
    operator start after which the motor ran; the program's clock stops meanwhile."""
    begins = sorted([t for t, k, _ in pv.inputs if k == "stop"]
                    + [a for a, _, k, p in pv.active if pv.action(k, p) == "stop"])  # fmt: skip
    starts = [t for t, k, _ in pv.inputs if k == "start"]
    out: list[tuple[float, float]] = []
    for b in begins:
        if out and out[-1][1] > b:
            continue  # already held
        end = next((t for t in starts if t > b + _T and pv.q_at(t) > 0), math.inf)
        out.append((b, end))
    return out


def _with_holds(pieces: list[_Piece], holds: list[tuple[float, float]]) -> list[_Piece]:
    """Program pieces (in program time) laid out in wall time with the holds inserted."""
    out: list[_Piece] = []
    shift, todo = 0.0, list(holds)
    for p in pieces:
        start, end = p.start + shift, p.end + shift
        while todo and todo[0][0] < end - _T:
            h0, h1 = todo.pop(0)
            h0 = max(h0, start)
            if h0 > start + _T:
                out.append(_Piece(start, h0, p.rate, p.label))
            out.append(_Piece(h0, h1, 0.0, "held (stop or stop alarm)"))
            end, start = end + (h1 - h0), h1
            shift += h1 - h0
        out.append(_Piece(start, end, p.rate, p.label))
    return out


@dataclass(frozen=True)
class _Piece:
    start: float
    end: float
    rate: float
    label: str


def _plan_phases(pv: PumpView) -> list[tuple[float, float | None, float | None, str, bool]]:
    """The primary's phases in order: (rate [mL/s], volume [mL], duration [s], label,
    from_previous); None when the program cannot be followed from its data alone."""
    out = []
    for k, step in enumerate(pv.program):
        if isinstance(step, SecondaryStep):
            continue
        if isinstance(step, PcaStep) or (step.start is not None and step.start > _T):
            return []
        if isinstance(step, IntermittentStep) and step.count is None:
            return []
        for ph in phases(step):
            label = f"step {k + 1} ({step.mode}{', ' + ph.label if ph.label else ''})"
            out.append((ph.rate, ph.volume, ph.duration, label, ph.from_previous))
    return out


def expected_rates(pv: PumpView, horizon: float) -> list[_Piece] | None:
    """The motor rate the program asks for, piece by piece, up to ``horizon`` [s] (None: not
    a program this oracle can follow from its data alone)."""
    plan = _plan_phases(pv)
    if not plan:
        return None
    secondaries = sorted((s.start or 0.0, s.rate, s.vtbi or 0.0) for s in pv.program
                         if isinstance(s, SecondaryStep))  # fmt: skip
    steps = [s for s in pv.program if not isinstance(s, SecondaryStep)]
    pieces: list[_Piece] = []
    t, prev_start = 0.0, 0.0
    for rate, volume, duration, label, from_prev in plan:
        if volume is not None and rate <= 0:
            return None
        if volume is not None:
            left_v: float | None = volume
            end = t + volume / rate
        else:
            end = (prev_start if from_prev else t) + (duration or math.inf)
            left_v = None
        prev_start = t
        if "interval" in label:
            step = next((s for s in steps if isinstance(s, IntermittentStep)), None)
            between = getattr(step, "between", "stop")
            rate = min(pv.kvo_rate, step.rate) if between == "kvo" and step else 0.0
        while secondaries and t - _T <= secondaries[0][0] < end - _T:
            s_at, s_rate, s_vtbi = secondaries.pop(0)
            if s_rate <= 0:
                return None
            pieces.append(_Piece(t, s_at, rate, label))
            if left_v is not None:
                left_v -= rate * (s_at - t)
            s_end = s_at + s_vtbi / s_rate
            pieces.append(_Piece(s_at, s_end, s_rate, "secondary"))
            remaining = end - s_at
            t = s_end
            end = t + (left_v / rate if left_v is not None else remaining)
        pieces.append(_Piece(t, end, rate, label))
        t = end
        if t >= horizon:
            return pieces
    last = plan[-1]
    after, why = 0.0, "program complete: stop"
    if steps[-1].vtbi is not None:  # ended by a VTBI: the pump's vtbi_end decides
        how = pv.pump.settings.vtbi_end
        if how == "kvo":
            after, why = min(pv.kvo_rate, last[0]), "VTBI reached: KVO"
        elif how == "continue":
            after, why = last[0], "VTBI reached: continue"
        else:
            why = "VTBI reached: stop"
    pieces.append(_Piece(t, math.inf, after, why))
    return pieces


def _horizon(pv: PumpView, also: tuple[str, ...] = (), holds: bool = False) -> tuple[float, str]:
    """Until when the program alone decides the motor: the first operator input that may
    change the course (other than those in ``also``), or the first alarm whose action is not
    ``continue`` (with ``holds``, stop alarms are holds, not the end)."""
    cuts = [(t, f"operator input {k}") for t, k, _ in pv.inputs if k not in _NEUTRAL + also]
    ok = ("continue", "stop") if holds else ("continue",)
    cuts += [(a, f"alarm {k}") for a, _, k, p in pv.active
             if pv.action(k, p) not in ok and k != "vtbi_complete"]  # fmt: skip
    if any(k == "pca_press" for _, k, _ in pv.inputs):
        cuts.append((0.0, "patient requests"))
    # an entry beyond a drug-library limit waits or is refused: GIP 6.1.3 judges it
    cuts += [(r.time_s, "a drug-library breach") for r in pv.by_kind.get("ders", [])[:1]]
    # a closed-loop controller sets the rate from a monitored signal (pumpsim.pump.closed_loop
    # logs each change): from its first change the program no longer decides the motor
    cuts += [(r.time_s, "closed-loop control") for r in pv.by_kind.get("closed_loop", [])[:1]]
    events = _NEUTRAL + also + (_HOLD_EVENTS if holds else ())
    cuts += [(float(e.at), f"scenario event {e.type}") for e in pv.sc.events
             if getattr(e, "pump", None) == pv.id and e.type not in events]  # fmt: skip
    return min(cuts, default=(pv.duration, "end of the run"))


def _slack(pv: PumpView, rate: float) -> float:
    """Time [s] a stroke pump may run on past a boundary (it completes its stroke)."""
    if pv.pump.kind != "volumetric" or rate <= 0:
        return 1e-6
    stroke = pv.pump.mechanism.stroke_volume or STROKE_VOLUME
    return float(stroke / rate) + 1e-6


def as_programmed(pv: PumpView) -> Verdict:
    """The motor follows the program: every phase of every step at its rate for its volume
    or time, in order; a secondary at its start, then back to the primary at the primary's
    rate with the volume it had left; after the last VTBI, what ``vtbi_end`` asks."""
    rid = "PS-DEL.2"
    secondary = any(isinstance(s, SecondaryStep) for s in pv.program)
    horizon, why = _horizon(pv, _HOLD_INPUTS, holds=not secondary)
    holds = [h for h in _holds(pv) if h[0] < horizon - _T] if not secondary else []
    if secondary:  # a secondary starts at a wall-clock time: judged up to the first hold
        horizon, why = min((horizon, why), _horizon(pv))
    pieces = expected_rates(pv, horizon)
    if pieces is None:
        return verdict(rid, NOT_EXERCISED, "no program the oracle can follow from its data "
                       "alone (PCA, scheduled steps or an open intermittent)")  # fmt: skip
    pieces = _with_holds(pieces, holds)
    judged = [p for p in pieces if p.start < horizon - _T and p.label and p.end > p.start]
    if not any(p.rate > 0 for p in judged) or horizon <= _T:
        return verdict(rid, NOT_EXERCISED, f"program course changed at once ({why})")
    cuts = sorted({0.0, *pv.t.tolist(), *(p.start for p in judged),
                   *(min(p.end, horizon) for p in judged)})  # fmt: skip
    cuts = [c for c in cuts if c <= horizon + _T]
    starts = np.array([p.start for p in judged])
    for a, b in zip(cuts[:-1], cuts[1:], strict=False):
        if b - a <= _T:
            continue
        mid = 0.5 * (a + b)
        k = int(np.searchsorted(starts, mid, side="right")) - 1
        want, got = judged[k].rate, pv.q_at(mid)
        if abs(got - want) <= _REL * max(want, got) + 1e-12:
            continue
        edge = judged[k].start
        if k > 0 and b - edge <= _slack(pv, judged[k - 1].rate) and got == judged[k - 1].rate:
            continue  # a stroke pump completing its stroke after a normal stop
        delivered = pv.volume(a)
        planned = sum(p.rate * (min(p.end, a) - p.start) for p in judged if p.start < a)
        return verdict(rid, FAIL, f"{judged[k].label} asks {mlh(want)}; the motor ran at "
                       f"{mlh(got)} (delivered {delivered:.4g} mL, programmed {planned:.4g} mL "
                       "by then)", a, pv)  # fmt: skip
    n_steps = len({p.label.split(" (")[0] for p in judged if p.label.startswith("step")})
    held = f", {len(holds)} hold(s) resumed where they stopped" if holds else ""
    return verdict(rid, PASS, f"{len(judged)} phase(s) of {n_steps} step(s) delivered as "
                   f"programmed up to {horizon / 60:.1f} min ({why}){held}", pv=pv)  # fmt: skip


def vtbi_end(pv: PumpView) -> Verdict:
    """Once the motor has moved the programmed volume (the sum of the primary's VTBIs, with
    any secondary's VTBI on top), the pump does what ``vtbi_end`` asks: stop (nothing more),
    KVO at min(KVO rate, running rate), or continue at the running rate — and it does not
    stop short of the VTBI when nothing stopped it."""
    rid = "PS-DEL.1"
    steps = [s for s in pv.program if not isinstance(s, SecondaryStep)]
    if not steps or any(s.vtbi is None or isinstance(s, (PcaStep, IntermittentStep))
                        for s in steps):  # fmt: skip
        return verdict(rid, NOT_EXERCISED, "no program ending on a VTBI")
    total = sum(s.vtbi or 0.0 for s in pv.program)
    horizon, why = _horizon(pv, also=("titrate",))  # a titration keeps the VTBI
    t_v = pv.time_of_volume(total)
    how = pv.pump.settings.vtbi_end
    if t_v is None or t_v > horizon + _T:
        got = pv.volume(min(horizon, pv.duration))
        if why == "end of the run" and pv.q_at(pv.duration - _T) <= 0 and not any(
            pv.action(k, p) == "stop" for _, _, k, p in pv.active_at(pv.duration - _T)
        ):  # stopped for good, short of the VTBI, with no stop alarm and no operator
            return verdict(rid, FAIL, f"stopped after {got:.4g} mL of a {total:.4g} mL VTBI "
                           "with nothing stopping it", pv.next_change(0.0), pv)  # fmt: skip
        return verdict(rid, NOT_EXERCISED, f"the VTBI ({total:.4g} mL) was not reached "
                       f"before {why}")  # fmt: skip
    before = pv.q_before(t_v)
    want = {"stop": 0.0, "kvo": min(pv.kvo_rate, before)}.get(how, before)
    slack = _slack(pv, before)
    end = min(horizon, pv.duration)
    a = t_v + slack if how == "stop" else t_v
    lo, hi = pv.q_range(a, end) if end > a + _T else (want, want)
    if hi > want * (1 + _REL) + 1e-12 or lo < want * (1 - _REL) - 1e-12:
        over = pv.volume(end) - total
        return verdict(rid, FAIL, f"VTBI {total:.4g} mL reached (vtbi_end: {how}, expects "
                       f"{mlh(want)}); the motor ran at {mlh(hi if hi > want else lo)}, "
                       f"{over:+.4g} mL past the VTBI by {end / 60:.1f} min", t_v, pv)  # fmt: skip
    return verdict(rid, PASS, f"VTBI {total:.4g} mL reached at {t_v / 60:.1f} min, then "
                   f"{how} at {mlh(want)}", pv=pv)  # fmt: skip


def titration(pv: PumpView) -> Verdict:
    """A titration accepted (no drug-library breach, or a soft one confirmed) changes the
    running rate at once to the new setting (capped at the pump maximum); a bolus running
    then carries on top of the new basal."""
    rid = "PS-DEL.3"
    checked = 0
    confirms = [t for t, k, _ in pv.inputs if k == "confirm"]
    for t, kind, details in pv.inputs:
        if kind != "titrate":
            continue
        rate = float(details.get("rate_mL_h", 0.0)) / 3600.0
        at = t
        if pv.records_at("ders", t):  # a breach: a soft one takes effect on confirmation
            if any(r.details.get("level") == "hard" for r in pv.records_at("ders", t)):
                continue
            at = next((c for c in confirms if c >= t - _T), math.inf)
            if at == math.inf or [x for x, k, _ in pv.inputs if t < x < at and k != "silence"]:
                continue
        if pv.q_before(at) <= pv.kvo_rate * (1 + _REL):
            continue  # not running (stopped, paused or at KVO): the setting waits
        if [a for a, b, k, p in pv.active_at(at) if pv.action(k, p) != "continue"]:
            continue
        if [b for b in pv.bolus_starts() if b[0] <= at + _T < b[3]]:
            continue
        step = pv.pca_step()
        if step is not None and [d for d in pv.pca_boluses(step.rate) if d[0] < at < d[1]]:
            continue
        checked += 1
        want, got = min(rate, pv.max_rate), pv.q_at(at)
        if abs(got - want) > _REL * want + 1e-12:
            return verdict(rid, FAIL, f"titrated to {mlh(want)}; the motor stayed at "
                           f"{mlh(got)}", at, pv)  # fmt: skip
    if not checked:
        return verdict(rid, NOT_EXERCISED, "no titration of a running infusion took effect")
    return verdict(rid, PASS, f"{checked} titration(s) took effect at once", pv=pv)
