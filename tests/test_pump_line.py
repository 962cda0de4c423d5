"""Line physics as pure functions (pumpsim.pump.line).

Expected numbers are the closed forms of docs/references.md [Lovich2005] [Snijder2015] evaluated by
hand
(ΔP = ΔV/C, time to alarm C·(P_alarm − P0)/Q, bolus C·ΔP, plug-flow delay V/Q
with Lovich's carrier example), so each test checks the implementation against
arithmetic, not against itself. Invariants (volume and amount conservation of
the plug-flow tube) are property tests.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pumpsim.pump.line import (
    AIR,
    PlugFlowTube,
    chamber_segment,
    equilibrium_pressure,
    free_flow_rate,
    mix,
    occluded_resistance,
    release_bolus,
    time_to_pressure,
    transport_delay,
)

ML_H = 1 / 3600.0  # 1 mL/h in mL/s
MMHG_PER_ML_H = 3600.0  # 1 mmHg/(mL/h) in mmHg·s/mL


def test_time_to_alarm_issue_example() -> None:
    """Issue 4: C = 2.5 uL/mmHg, alarm 300 mmHg, 1 mL/h -> 43.5 min.

    2.5e-3 mL/mmHg x 300 mmHg / (1/60 mL/min) would be 45 min; 43.5 min is
    2.5e-3 x (300 - 10) x 60, i.e. from a baseline P0 = 10 mmHg (the back-pressure
    R·Q of a 10 mmHg/(mL/h) line at 1 mL/h) up to the 300 mmHg limit.
    """
    p0 = equilibrium_pressure(1 * ML_H, 10 * MMHG_PER_ML_H)
    assert p0 == pytest.approx(10.0, rel=1e-12)
    t = time_to_pressure(2.5e-3, p0, 300.0, 1 * ML_H)
    assert t / 60 == pytest.approx(43.5, rel=1e-12)
    assert time_to_pressure(2.5e-3, 0.0, 300.0, 1 * ML_H) / 60 == pytest.approx(45.0, rel=1e-12)
    assert time_to_pressure(2.5e-3, 300.0, 300.0, ML_H) == 0.0
    assert math.isinf(time_to_pressure(2.5e-3, 0.0, 300.0, 0.0))


def test_release_bolus_is_compliance_times_pressure_drop() -> None:
    # 3.3 uL/mmHg (50 mL syringe 2.8 + set 0.5) from 300 mmHg to 0: 0.99 mL
    assert release_bolus(3.3e-3, 300.0, 0.0) == pytest.approx(0.99, rel=1e-12)
    assert release_bolus(3.3e-3, 5.0, 10.0) == 0.0


def test_dead_volume_delay_lovich() -> None:
    """docs/references.md [Lovich2005] [D]: 1 mL at 3 mL/h = 20 min; with a 10 mL/h carrier 4.6
    min."""
    assert transport_delay(1.0, 3 * ML_H) / 60 == pytest.approx(20.0, rel=1e-12)
    assert transport_delay(1.0, 13 * ML_H) / 60 == pytest.approx(60 / 13, rel=1e-12)
    assert round(transport_delay(1.0, 13 * ML_H) / 60, 1) == 4.6
    assert transport_delay(0.0, 0.0) == 0.0 and math.isinf(transport_delay(1.0, 0.0))


def test_occluded_resistance() -> None:
    assert occluded_resistance(100.0, 0.0) == 100.0
    assert occluded_resistance(100.0, 0.5) == pytest.approx(200.0)
    assert occluded_resistance(100.0, 0.9) == pytest.approx(1000.0)
    assert math.isinf(occluded_resistance(100.0, 1.0))
    with pytest.raises(ValueError, match="severity"):
        occluded_resistance(100.0, 1.5)


def test_free_flow_is_poiseuille() -> None:
    # a bag 80 cm above the patient: 80 cmH2O = 58.8 mmHg through 0.2 mmHg/(mL/h) -> 294 mL/h
    assert free_flow_rate(58.84, 0.2 * MMHG_PER_ML_H) / ML_H == pytest.approx(294.2, rel=1e-12)


def test_full_occlusion_segment_is_exact_linear_rise() -> None:
    seg = chamber_segment(10.0, 1 * ML_H, math.inf, 0.0, 2.5e-3)
    assert seg.outflow == 0.0 and math.isinf(seg.duration)
    assert seg.slope == pytest.approx(ML_H / 2.5e-3)  # dP/dt = Q/C


@given(
    p=st.floats(0, 500),
    q=st.floats(0, 100 * ML_H),
    r=st.floats(1.0, 1e5),
    c=st.floats(1e-5, 1e-2),
)
def test_equal_area_segment_moves_the_exact_stored_volume(p, q, r, c) -> None:
    """The linear segment stores exactly C·(P_eq − P), as the exponential does."""
    seg = chamber_segment(p, q, r, 0.0, c)
    target = equilibrium_pressure(q, r)
    if math.isinf(seg.duration):
        assert seg.outflow == pytest.approx(q, rel=1e-9, abs=1e-15)
        return
    assert seg.duration == pytest.approx(r * c)
    stored = (q - seg.outflow) * seg.duration
    assert stored == pytest.approx(c * (target - p), rel=1e-9, abs=1e-12)
    assert p + seg.slope * seg.duration == pytest.approx(target, rel=1e-9, abs=1e-9)


def test_no_compliance_means_instant_equilibrium() -> None:
    seg = chamber_segment(0.0, 5 * ML_H, 0.2 * MMHG_PER_ML_H, 0.0, 0.0)
    assert seg.outflow == 5 * ML_H and seg.slope == 0.0


def test_mix_is_flow_weighted() -> None:
    drug = {"vol:A": 1.0, "morphine": 1.0}
    carrier = {"vol:B": 1.0}
    m = mix([(3.0, drug), (10.0, carrier)])
    assert m["morphine"] == pytest.approx(3 / 13) and m["vol:B"] == pytest.approx(10 / 13)
    assert mix([(0.0, drug)]) == {}


def test_tube_fronts_and_probes() -> None:
    prime = {"vol:P": 1.0}
    drug = {"vol:A": 1.0, "morphine": 2.0}
    tube = PlugFlowTube(1.0, prime)
    assert tube.volume_to_change(1.0, drug) == pytest.approx(1.0)  # the drug front must cross
    out = tube.push(0.4, drug)
    assert out == [(0.4, prime)]
    assert tube.volume_to_change(1.0, drug) == pytest.approx(0.6)
    assert tube.composition_at(0.3) == drug and tube.composition_at(0.5) == prime
    tube.push(0.6, drug)
    assert tube.outlet == drug and math.isinf(tube.volume_to_change(1.0, drug))
    tube.push(0.1, {AIR: 1.0})
    assert tube.volume_to_change(0.2, drug) == pytest.approx(0.1)  # bubble tail passes 0.2
    assert tube.content(AIR) == pytest.approx(0.1) and tube.liquid() == pytest.approx(0.9)


def test_zero_volume_tube_passes_through() -> None:
    tube = PlugFlowTube(0.0, {"vol:A": 1.0})
    assert tube.push(0.5, {AIR: 1.0}) == [(0.5, {AIR: 1.0})]
    assert tube.outlet == {AIR: 1.0}


comps = st.sampled_from([{"vol:A": 1.0, "d": 2.0}, {"vol:B": 1.0}, {AIR: 1.0},
                         {"vol:A": 0.5, "vol:B": 0.5, "d": 1.0}])  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    volume=st.floats(0.0, 3.0), pushes=st.lists(st.tuples(st.floats(0, 2.0), comps), max_size=12)
)
def test_tube_conserves_every_key(volume, pushes) -> None:
    """In + initial content = out + content, for every key, and the volume never changes."""
    fill = {"vol:P": 1.0}
    tube = PlugFlowTube(volume, fill)
    keys = ["vol:A", "vol:B", "vol:P", "d", AIR]
    pushed = dict.fromkeys(keys, 0.0)
    out = dict.fromkeys(keys, 0.0)
    for v, comp in pushes:
        for k in keys:
            pushed[k] += v * comp.get(k, 0.0)
        for ov, oc in tube.push(v, comp):
            for k in keys:
                out[k] += ov * oc.get(k, 0.0)
        assert sum(s.volume for s in tube.slugs) == pytest.approx(volume, abs=1e-9)
    for k in keys:
        initial = volume * fill.get(k, 0.0)
        assert initial + pushed[k] == pytest.approx(out[k] + tube.content(k), abs=1e-9)
