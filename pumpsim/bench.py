"""Simulated test bench: IEC 60601-2-24 accuracy and occlusion tests, the lab's way.

Pure orchestration over the engine (:func:`pumpsim.simulate`) and the analysis
(:mod:`pumpsim.analysis.iec60601`): build a one-pump scenario of plain fluid,
run it, read the delivered volume at the tip the way a gravimetric balance
would, and analyse it. Nothing here models physics; the pump's mechanism and
line do (:mod:`pumpsim.pump.mechanism`, :mod:`pumpsim.pump.line`).

* :func:`trumpet_test` — start-up graph and trumpet curve (IEC 60601-2-24:2012
  201.12.1 [R]): balance read every S = 0.5 min for T = 120 min, optional
  resolution and seeded noise; A, Ep(max), Ep(min) for P = 2, 5, 11, 19, 31 min.
* :func:`occlusion_test` — occlude the outlet once delivery is steady, time the
  alarm at ``threshold``, release one minute after the alarm and weigh the bolus
  (IEC 60601-2-24 201.12.4.4 [R]); compare with ``C·(P_alarm − P0)/Q`` and ``C·ΔP``.

The pump's firmware on the bench is :class:`BenchFirmware` (run one rate; stop
and alarm on the limits of :class:`~pumpsim.pump.sensors.LineSafety`), so the
bench measures the mechanism and line; pass ``controller=`` to bench your own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pumpsim.analysis.iec60601 import (
    PROFILES,
    WATER_DENSITY_G_PER_ML,
    AccuracyProfile,
    StartupGraph,
    TrumpetResult,
    flow_from_mass,
    startup_graph,
    trumpet_curve,
)
from pumpsim.pump.line import DEFAULT_SET_COMPLIANCE, DEFAULT_SET_RESISTANCE
from pumpsim.pump.mechanism import Mechanism, build_mechanism
from pumpsim.pump.sensors import LineSafety

__all__ = [
    "Balance",
    "BenchFirmware",
    "OcclusionBench",
    "TrumpetBench",
    "bench_scenario",
    "occlusion_table",
    "occlusion_test",
    "predicted_alarm_time",
    "trumpet_test",
    "weigh",
]


class BenchFirmware:
    """Minimal pump firmware for the bench: one rate, stop and alarm on line limits."""

    def __init__(self, rate: float, safety: LineSafety | None = None) -> None:
        self.rate = rate
        self.safety = safety if safety is not None else LineSafety()
        self.state = "idle"

    def on_start(self, hw: Any) -> None:
        hw.set_rate(self.rate)
        self.state = "running"
        hw.set_state("running")
        self.safety.arm(hw)

    def _stop(self, hw: Any, breach: tuple[str, str] | None) -> None:
        if breach is None or self.state == "alarm":
            return
        hw.set_rate(0.0)
        hw.alarm(breach[0], "high", breach[1])
        self.state = "alarm"
        hw.set_state("alarm")

    def on_timer(self, hw: Any, name: str) -> None:
        self._stop(hw, self.safety.alarm_for_timer(hw, name))

    def on_sensor(self, hw: Any, event: Any) -> None:
        self._stop(hw, self.safety.alarm_for_sensor(event))

    def on_input(self, hw: Any, event: Any) -> None:
        hw.log("input_ignored", input=getattr(event, "kind", "?"))


def _firmware(rate: float, safety: LineSafety) -> Callable[..., BenchFirmware]:
    return lambda *_args, **_kwargs: BenchFirmware(rate, safety)


def bench_scenario(
    pump: str = "syringe",
    rate_ml_h: float = 5.0,
    duration_s: float = 7200.0,
    syringe_ml: float | None = 50.0,
    purge: bool = False,
    line: Mapping[str, str] | None = None,
    mechanism: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    events: Sequence[Mapping[str, Any]] = (),
    interval_s: float = 30.0,
    container_ml: float = 500.0,
) -> dict[str, Any]:
    """The scenario mapping of one pump of water on the bench (no patient)."""
    spec: dict[str, Any] = {"id": "P", "kind": pump, "drug": "fluid",
                            "program": [{"rate": f"{rate_ml_h:g} mL/h"}]}  # fmt: skip
    if pump == "syringe":
        spec.update(syringe=f"{syringe_ml:g} mL", purge=purge)
    else:
        spec["container"] = f"{container_ml:g} mL"
    for key, value in (("line", line), ("mechanism", mechanism), ("settings", settings)):
        if value:
            spec[key] = dict(value)
    return {"name": f"bench: {pump} at {rate_ml_h:g} mL/h", "duration": f"{duration_s:g} s",
            "output": {"interval": f"{interval_s:g} s", "plots": False}, "pumps": [spec],
            "events": [dict(e) for e in events]}  # fmt: skip


# -- the balance --------------------------------------------------------------------
@dataclass(frozen=True)
class Balance:
    """A gravimetric balance: reading step ``resolution_g`` [g] (None: exact) and
    Gaussian reading noise of standard deviation ``noise_g`` [g] (seeded)."""

    resolution_g: float | None = None
    noise_g: float = 0.0
    density_g_per_ml: float = WATER_DENSITY_G_PER_ML

    def __post_init__(self) -> None:
        if self.resolution_g is not None and not self.resolution_g > 0:
            raise ValueError("resolution_g must be > 0")
        if not self.noise_g >= 0:
            raise ValueError("noise_g must be >= 0")


def weigh(
    volume_ml: np.ndarray, balance: Balance = Balance(), rng: np.random.Generator | None = None
) -> np.ndarray:
    """Balance readings [g] of cumulative delivered volumes [mL].

    ``W = d·V`` plus noise (``rng``, required when ``noise_g > 0``), rounded to
    the balance's resolution.
    """
    mass = balance.density_g_per_ml * np.asarray(volume_ml, dtype=float)
    if balance.noise_g > 0:
        if rng is None:
            raise ValueError("a noisy balance needs a random generator (rng=)")
        mass = mass + rng.normal(0.0, balance.noise_g, mass.shape)
    if balance.resolution_g is not None:
        mass = np.round(mass / balance.resolution_g) * balance.resolution_g
    return mass


def _delivered(ts: pd.DataFrame) -> np.ndarray:
    """Volume delivered at the tip [mL] (an ideal pump with a perfect line: its infused)."""
    col = "pump.P.delivered[mL]" if "pump.P.delivered[mL]" in ts else "pump.P.infused[mL]"
    return ts[col].to_numpy(dtype=float)


# -- trumpet --------------------------------------------------------------------------
@dataclass(frozen=True)
class TrumpetBench:
    """One accuracy test: balance log, start-up graph, trumpet analysis."""

    pump: str
    rate_ml_h: float
    balance_log: pd.DataFrame  # time_s, mass_g
    graph: StartupGraph
    trumpet: TrumpetResult
    profile: AccuracyProfile
    scenario: dict[str, Any] = field(repr=False)

    def table(self) -> pd.DataFrame:
        """Trumpet table (P, n, m, Ep(max), Ep(min)) with A in ``attrs``."""
        return self.trumpet.to_frame()


def trumpet_test(
    pump: str = "syringe",
    rate_ml_h: float = 5.0,
    syringe_ml: float | None = 50.0,
    purge: bool = False,
    balance: Balance = Balance(),
    seed: int = 0,
    profile: str = "standard",
    line: Mapping[str, str] | None = None,
    mechanism: Mapping[str, Any] | None = None,
    controller: Callable[..., Any] | None = None,
) -> TrumpetBench:
    """Start-up graph and trumpet curve of a simulated pump (docs/references.md [IEC60601-2-24]).

    Runs ``pump`` at ``rate_ml_h`` [mL/h] for the profile's test period (120 min
    standard), reads the balance every S (0.5 min) — ``balance`` resolution and
    noise seeded by ``seed`` — and applies :func:`~pumpsim.analysis.iec60601.startup_graph`
    and :func:`~pumpsim.analysis.iec60601.trumpet_curve`.

    Parameters
    ----------
    pump : {"ideal", "syringe", "volumetric", "elastomeric"}
    rate_ml_h : float
        Set rate [mL/h].
    syringe_ml : float or None
        Syringe size [mL] (syringe pumps).
    purge : bool
        Purge the syringe first (removes most start-up delay, [Neff2001]).
    balance : Balance
        Resolution and noise [g] of the simulated balance, density [g/mL].
    seed : int
        Seed of the balance noise.
    profile : {"standard", "ambulatory"}
    line, mechanism : mapping, optional
        Scenario ``line:`` and ``mechanism:`` settings (quantities with units).
    controller : callable, optional
        Controller factory (default: a bench firmware that runs at the rate).

    Returns
    -------
    TrumpetBench
        The balance log (time [s], mass [g]), start-up graph, trumpet curve
        (Ep(max), Ep(min) [%] per window P [min], mean error A [%]).

    References
    ----------
    docs/references.md [IEC60601-2-24] (clause 201.12.1), [Neff2001].
    """
    from pumpsim.engine.simulation import simulate

    prof = PROFILES[profile]
    s = prof.sample_interval_min * 60.0
    duration = prof.test_period_min * 60.0
    sc = bench_scenario(
        pump,
        rate_ml_h,
        duration,
        syringe_ml,
        purge,
        line,
        mechanism,
        interval_s=s,
        container_ml=max(500.0, 2 * rate_ml_h * duration / 3600),
    )
    factory = controller or _firmware(rate_ml_h / 3600.0, LineSafety())
    res = simulate(sc, seed=seed, controller=factory)
    t = res.timeseries.index.to_numpy(dtype=float)
    mass = weigh(_delivered(res.timeseries), balance, np.random.default_rng(seed))
    log = pd.DataFrame({"time_s": t, "mass_g": mass})
    graph = startup_graph(mass, s, balance.density_g_per_ml, prof.test_period_min)
    flow = flow_from_mass(mass, s, balance.density_g_per_ml)
    result = trumpet_curve(flow, rate_ml_h, **prof.trumpet_kwargs())
    return TrumpetBench(pump, rate_ml_h, log, graph, result, prof, sc)


# -- occlusion ------------------------------------------------------------------------
@dataclass(frozen=True)
class OcclusionBench:
    """One occlusion test at one rate (times [s], volumes [mL], pressures [mmHg])."""

    rate_ml_h: float
    threshold_mmhg: float
    compliance_ml_per_mmhg: float
    baseline_mmhg: float  # P0 = back-pressure + R·Q while flowing
    back_pressure_mmhg: float  # where a stopped, released line settles
    occluded_at_s: float
    alarm_at_s: float  # inf: no alarm
    released_at_s: float
    bolus_ml: float
    back_off: bool
    timeseries: pd.DataFrame = field(repr=False)

    @property
    def time_to_alarm_s(self) -> float:
        return self.alarm_at_s - self.occluded_at_s

    @property
    def predicted_s(self) -> float:
        """``C·(P_alarm − P0)/Q`` (docs/references.md [Snijder2015])."""
        return predicted_alarm_time(
            self.compliance_ml_per_mmhg, self.threshold_mmhg, self.baseline_mmhg, self.rate_ml_h
        )

    @property
    def predicted_bolus_ml(self) -> float:
        """``C·ΔP`` without back-off: the stopped line falls from the limit to its back-pressure."""
        return self.compliance_ml_per_mmhg * (self.threshold_mmhg - self.back_pressure_mmhg)


def predicted_alarm_time(
    compliance: float, threshold: float, baseline: float, rate_ml_h: float
) -> float:
    """Closed-form time to alarm [s]: ``C·(P_alarm − P0)/Q``, C [mL/mmHg], Q [mL/h]."""
    return compliance * (threshold - baseline) / (rate_ml_h / 3600.0)


def _mechanism(pump: str, syringe_ml: float | None, purge: bool, mech: Mapping[str, Any]) -> Any:
    from pumpsim.units import parse

    kinds = {"compliance": "compliance", "free_play": "volume", "stroke_volume": "volume",
             "shot": "time", "temperature": "temperature"}  # fmt: skip
    params = {k: (parse(v, kinds[k]) if isinstance(v, str) else v) for k, v in mech.items()}
    return build_mechanism(pump, size=syringe_ml, purged=purge, fill=500.0, **params)


def occlusion_test(
    pump: str = "syringe",
    rate_ml_h: float = 1.0,
    threshold_mmhg: float = 300.0,
    syringe_ml: float | None = 50.0,
    purge: bool = True,
    back_off: bool = False,
    line: Mapping[str, str] | None = None,
    mechanism: Mapping[str, Any] | None = None,
    occlude_at_s: float | None = None,
    release_after_s: float = 60.0,
    controller: Callable[..., Any] | None = None,
) -> OcclusionBench:
    """Time to occlusion alarm and post-release bolus of a simulated pump.

    The outlet is fully occluded at ``occlude_at_s`` (default: 10 min after the
    mechanism's start-up has settled), the pump alarms and stops at
    ``threshold_mmhg``, the occlusion is released ``release_after_s`` later and
    everything leaving the tip in the next 10 min is the bolus (the pump is
    stopped). Two runs: one to find the alarm, one with the release scheduled.

    Parameters
    ----------
    pump : {"ideal", "syringe", "volumetric", "elastomeric"}
    rate_ml_h : float
        Set rate [mL/h].
    threshold_mmhg : float
        Occlusion alarm limit [mmHg].
    syringe_ml : float or None
        Syringe size [mL].
    purge, back_off : bool
        Purge before the test; relieve the pressure at the alarm.
    line, mechanism : mapping, optional
        Scenario ``line:`` and ``mechanism:`` settings (quantities with units).
    occlude_at_s, release_after_s : float
        When to occlude [s] and how long after the alarm to release [s].
    controller : callable, optional
        Controller factory (default: the bench firmware).

    Returns
    -------
    OcclusionBench
        Time to alarm [s], bolus [mL], the closed-form predictions
        ``C·(P_alarm − P0)/Q`` [s] and ``C·ΔP`` [mL], and the time series.

    References
    ----------
    docs/references.md [IEC60601-2-24] (201.12.4.4), [Snijder2015], [Donmez2005], [ECRI].
    """
    from pumpsim.engine.simulation import simulate
    from pumpsim.units import parse

    mech: Mechanism = _mechanism(pump, syringe_ml, purge, mechanism or {})
    line = dict(line or {})
    c_line = parse(line["compliance"], "compliance") if "compliance" in line else (
        0.0 if pump == "ideal" else DEFAULT_SET_COMPLIANCE)  # fmt: skip
    r_line = parse(line["resistance"], "resistance") if "resistance" in line else (
        0.0 if pump == "ideal" else DEFAULT_SET_RESISTANCE)  # fmt: skip
    pv = parse(line["back_pressure"], "pressure") if "back_pressure" in line else 0.0
    q = rate_ml_h / 3600.0
    c_total = mech.compliance + c_line
    baseline = pv + r_line * q
    if occlude_at_s is None:
        startup = getattr(mech, "startup_times", None)
        occlude_at_s = 600.0 + (startup(q)[1] if startup is not None else 0.0)
    predicted = predicted_alarm_time(c_total, threshold_mmhg, baseline, rate_ml_h)
    factory = controller or _firmware(q, LineSafety(occlusion_limit=threshold_mmhg))
    settings = {"occlusion_limit": f"{threshold_mmhg:g} mmHg", "back_off": back_off}
    occlusion = {"at": f"{occlude_at_s:g} s", "type": "occlusion", "pump": "P"}

    def run(duration: float, events: list[dict[str, Any]]) -> Any:
        sc = bench_scenario(pump, rate_ml_h, duration, syringe_ml, purge, line, mechanism,
                            settings, events, interval_s=5.0)  # fmt: skip
        return simulate(sc, controller=factory)

    first = run(occlude_at_s + 2 * predicted + 1800.0, [occlusion])
    alarms = [e.time_s for e in first.events if e.kind == "alarm"]
    if not alarms:
        return OcclusionBench(rate_ml_h, threshold_mmhg, c_total, baseline, pv, occlude_at_s,
                              math.inf, math.inf, math.nan, back_off, first.timeseries)  # fmt: skip
    alarm = alarms[0]
    release = alarm + release_after_s
    clear = {"at": f"{release:.6f} s", "type": "clear_occlusion", "pump": "P"}
    second = run(release + 600.0, [occlusion, clear])
    ts = second.timeseries
    delivered = _delivered(ts)
    before = float(delivered[ts.index.to_numpy(float) < release][-1])  # stopped: constant
    bolus = float(delivered[-1]) - before
    return OcclusionBench(rate_ml_h, threshold_mmhg, c_total, baseline, pv, occlude_at_s, alarm,
                          release, bolus, back_off, ts)  # fmt: skip


def occlusion_table(results: Sequence[OcclusionBench]) -> pd.DataFrame:
    """One row per rate: measured and closed-form time to alarm and bolus."""
    rows = [{
        "rate [mL/h]": r.rate_ml_h,
        "threshold [mmHg]": r.threshold_mmhg,
        "C [uL/mmHg]": r.compliance_ml_per_mmhg * 1000.0,
        "P0 [mmHg]": r.baseline_mmhg,
        "time to alarm [min]": r.time_to_alarm_s / 60.0,
        "C*(P_alarm-P0)/Q [min]": r.predicted_s / 60.0,
        "bolus [mL]": r.bolus_ml,
        "C*dP [mL]": r.predicted_bolus_ml,
        "back-off": r.back_off,
    } for r in results]  # fmt: skip
    return pd.DataFrame(rows)
