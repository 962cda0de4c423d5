"""Safety requirements of pump logic as executable oracles over a run.

Each testable requirement of the public sets in docs/references.md (GIP = Generic Infusion Pump
hazard analysis and safety requirements v1.0, UPenn/FDA 2009; OPCA = Open PCA
Pump Requirements v1.0.0, KSU 2020; CRISYS = UMN GPCA System Requirements
2013) is a monitor keyed by its source ID. It reads a finished run and says
``pass``, ``fail`` (with the time and the evidence) or ``not exercised``.

What the oracles trust: what the hardware did — the motor's exact rate
breakpoints (or, for a saved result, the sampled flow column), the line
pressure and the engine's own records (air at the detector, the bolus released
after an occlusion) — the alarms raised through ``Hardware.alarm`` and the
displayed states, the operator and patient inputs the engine delivered
(``input`` records), and the scenario (program, settings, drug library). A
few requirements are about what the pump records; those read the controller
vocabulary of :mod:`pumpsim.pump.controller` (``pca_request``,
``time_remaining``, ``ders``, ``alarm_cleared``, ``alarm_reactivated``).

Conventions: a demand dose counts in a rolling window from its start (as
published PCA limits are stated); an alarm is active from its ``alarm`` record
until ``alarm_cleared`` (or, for a stop alarm, an operator ``start`` after which
the pump runs); "at once" means at the same instant of simulated time.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pumpsim.analysis.oracles_alarms import arbitration, reservoir, silence
from pumpsim.analysis.oracles_delivery import as_programmed, titration, vtbi_end
from pumpsim.analysis.oracles_logic import (
    accuracy,
    bolus_cap,
    bolus_keeps_basal,
    ders,
    kvo,
    no_bolus_in_alarm,
    pca_limit,
    pca_lockout,
    time_remaining,
)
from pumpsim.analysis.oracles_physics import (
    air,
    battery,
    escalation,
    occlusion_limit,
    over_infusion,
    over_infusion_pause,
    post_occlusion_bolus,
    stop_at_once,
    stroke_stop,
    under_infusion,
)
from pumpsim.analysis.oracles_safety import (
    air_cumulative,
    door,
    pca_answered,
    silence_keeps,
    upstream_occlusion,
)
from pumpsim.analysis.runview import ERROR, FAIL, NOT_EXERCISED, PASS, PumpView, Verdict, verdict

__all__ = [
    "Requirement",
    "Verdict",
    "REQUIREMENTS",
    "evaluate",
    "check_requirements",
    "evaluate_result",
    "PASS",
    "ERROR",
    "FAIL",
    "NOT_EXERCISED",
]


@dataclass(frozen=True)
class Requirement:
    """A requirement, its source IDs, what it needs to be exercised, and its monitor."""

    id: str
    text: str
    also: tuple[str, ...]
    needs: str  # "logic" (any pump) or "physics" (a mechanism and line, issue 4)
    check: Callable[[PumpView], Verdict]


#: the requirements: the published sets (docs/references.md), then pumpsim's own (PS-*)
REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "GIP 1.1.8",
        "keep a minimum KVO rate during therapy unless a flow-stopping "
        "alarm or stop; KVO never above the running rate",
        ("OPCA R5.1.0(5)",),
        "logic",
        kvo,
    ),
    Requirement(
        "GIP 1.2.1", "flow within 5 % of the setting over at least 72 h", (), "logic", accuracy
    ),
    Requirement(
        "GIP 1.2.2",
        "more than 10 % over the setting for over 15 min (or free flow) -> over-infusion alarm",
        (),
        "physics",
        over_infusion,
    ),
    Requirement(
        "GIP 1.2.3",
        "delivered flow below 90 % of the setting for 15 min -> under-infusion alarm",
        (),
        "physics",
        under_infusion,
    ),
    Requirement(
        "CRISYS 16/19", "more than 20 % over -> pause at once", (), "physics", over_infusion_pause
    ),
    Requirement(
        "GIP 1.4.3",
        "a bolus on top of the basal, combined rate capped at the pump maximum",
        (),
        "logic",
        bolus_cap,
    ),
    Requirement(
        "GIP 1.4.4",
        "a bolus does not change the programmed basal rate",
        (),
        "logic",
        bolus_keeps_basal,
    ),
    Requirement(
        "OPCA R5.2.0(3)",
        "no patient bolus during the lockout, above the maximum "
        "count or during another bolus; such requests are logged",
        ("CRISYS 25-27",),
        "logic",
        pca_lockout,
    ),
    Requirement(
        "OPCA R5.2.0(5)",
        "refuse a bolus that would exceed the dose limit over the window; drop to KVO and warn",
        (),
        "logic",
        pca_limit,
    ),
    Requirement("GIP 1.4.11", "no bolus during an alarm", (), "logic", no_bolus_in_alarm),
    Requirement(
        "GIP 1.5.2",
        "time remaining accurate to 3 min, recomputed at every rate change",
        ("GIP 1.5.3", "GIP 1.5.4"),
        "logic",
        time_remaining,
    ),
    Requirement(
        "OPCA R6.8.0(9)",
        "reservoir below 1 mL -> warning; below 0.5 mL -> alarm and stop",
        ("OPCA R6.8.0(10)",),
        "logic",
        reservoir,
    ),
    Requirement(
        "CRISYS 60-64",
        "simultaneous alarms: highest priority wins; equal priority -> most restrictive action",
        (),
        "logic",
        arbitration,
    ),
    Requirement(
        "GIP 1.6.2",
        "an occlusion or a fault stops the pump at once",
        (),
        "physics",
        stop_at_once,
    ),
    Requirement(
        "GIP 1.6.1",
        "a normal stop (or the end of the VTBI) completes the stroke under way; an alarm stop "
        "halts at once",
        (),
        "physics",
        stroke_stop,
    ),
    Requirement("GIP 1.9.1", "air-in-line alarm for a bubble above 200 uL", (), "physics", air),
    Requirement(
        "GIP 1.10.3",
        "downstream occlusion limit below 20 psi; alarm at the limit",
        (),
        "physics",
        occlusion_limit,
    ),
    Requirement(
        "GIP 1.10.7",
        "bolus released after an occlusion at most 0.5 mL",
        (),
        "physics",
        post_occlusion_bolus,
    ),
    Requirement(
        "GIP 3.2.1",
        "silenced alarms re-activate (GIP 2 min, OPCA 10 min, CRISYS "
        "30 min: the pump's alarm profile)",
        (),
        "logic",
        silence,
    ),
    Requirement(
        "OPCA R6.5.0(18)",
        "the same alert-stop-start 3 times in 10 min -> stop and alarm",
        (),
        "physics",
        escalation,
    ),
    Requirement(
        "GIP 5.1.4",
        "battery below 15 min -> alarm; below 5 min -> depleted, stop",
        ("GIP 5.1.6",),
        "physics",
        battery,
    ),
    Requirement(
        "GIP 6.1.3",
        "a hard limit rejects; a soft limit needs confirmation; every breach logged",
        ("GIP 6.1.4",),
        "logic",
        ders,
    ),
    # -- pumpsim's own requirements (PS-*): each states a published rule's consequence that the
    # -- sets above leave implicit; the basis is named in the text
    Requirement(
        "PS-DEL.1",
        "VTBI reached -> stop, KVO at min(KVO rate, running rate) or continue, as vtbi_end is "
        "set; never stopped short of the VTBI with nothing stopping it (basis: GIP 1.1.8, the "
        "VTBI-complete alarm's action)",
        (),
        "logic",
        vtbi_end,
    ),
    Requirement(
        "PS-DEL.2",
        "delivered as programmed: every phase of every step at its rate for its volume or time, "
        "in order; a secondary at its start, then the primary resumes with what it had left "
        "(basis: GIP 1.2.1 accuracy applied to each programmed phase)",
        (),
        "logic",
        as_programmed,
    ),
    Requirement(
        "PS-DEL.3",
        "an accepted titration changes the running rate at once (basis: GIP 1.4.4, the basal is "
        "what is programmed)",
        (),
        "logic",
        titration,
    ),
    Requirement(
        "PS-DOOR",
        "door (clamp) open while infusing -> high-priority alarm and stop; no flow and no start "
        "while open (basis: IEC 60601-1-8 priorities as pump manuals map them)",
        (),
        "physics",
        door,
    ),
    Requirement(
        "PS-AIR.2",
        "accumulated air above the limit in any rolling 15 min (default 1 mL) -> high-priority "
        "alarm and stop (basis: GIP 1.9.1, accumulated air as pump manuals state it)",
        ("GIP 1.9.1",),
        "physics",
        air_cumulative,
    ),
    Requirement(
        "PS-OCC.U",
        "upstream occlusion (suction beyond 1 psi) -> high-priority alarm and stop (basis: Open "
        "PCA upstream occlusion)",
        (),
        "physics",
        upstream_occlusion,
    ),
    Requirement(
        "PS-SIL.1",
        "silencing pauses the audio only: the alarm stays active and the infusion unchanged "
        "(basis: GIP 3.2.1, IEC 60601-1-8 audio paused)",
        ("GIP 3.2.1",),
        "logic",
        silence_keeps,
    ),
    Requirement(
        "PS-PCA.1",
        "a patient request every rule permits is delivered as a full demand dose; a refused one "
        "never restarts the lockout (basis: OPCA R5.2.0(3), lockout from the dose's start)",
        ("OPCA R5.2.0(3)",),
        "logic",
        pca_answered,
    ),
)


def evaluate(
    scenario: Any,
    records: Iterable[Any],
    timeseries: Any,
    motors: Mapping[str, tuple[Any, Any]] | None = None,
    duration: float | None = None,
    pressures: Mapping[str, tuple[Any, Any, Any]] | None = None,
) -> dict[str, Verdict]:
    """Every requirement's verdict on one run (worst over its pumps).

    ``motors`` maps pump id to the motor's exact rate breakpoints (times [s],
    rates [mL/s]); without it the sampled flow column is used. ``pressures`` maps pump
    id to the downstream pressure breakpoints (times, values [mmHg], slopes [mmHg/s]).
    """
    records = list(records)
    end = float(duration if duration is not None else scenario.duration)
    views = [
        PumpView(
            scenario,
            p,
            records,
            timeseries,
            (motors or {}).get(p.id),
            end,
            (pressures or {}).get(p.id),
        )
        for p in scenario.pumps
        if p.kind != "elastomeric"
    ]
    out: dict[str, Verdict] = {}
    for req in REQUIREMENTS:
        verdicts = []
        for pv in views:
            try:
                verdicts.append(req.check(pv))
            except Exception as exc:  # a bug of the oracle: an error, never "not exercised"
                where = traceback.extract_tb(exc.__traceback__)[-1]
                verdicts.append(verdict(
                    req.id, ERROR, f"the oracle raised {type(exc).__name__}: {exc} "
                    f"({Path(where.filename).name}:{where.lineno})", pv=pv))  # fmt: skip
        ranked = [v for s in (ERROR, FAIL, PASS) for v in verdicts if v.status == s]
        chosen = (ranked or verdicts or [verdict(req.id, NOT_EXERCISED, "no pump")])[0]
        out[req.id] = chosen
    return out


def evaluate_result(result: Any) -> dict[str, Verdict]:
    """The verdicts of a run: :attr:`Result.requirements` (exact motor breakpoints) when the
    result has them, else judged from its sampled flows."""
    got = getattr(result, "requirements", None)
    return dict(got) if got is not None else check_requirements(result)


def check_requirements(result: Any) -> dict[str, Verdict]:
    """The verdicts for a :class:`~pumpsim.engine.result.Result` (from its sampled flows)."""
    return evaluate(result.scenario, result.events, result.timeseries)
