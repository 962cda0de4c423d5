"""Pump mechanisms as pure classes (pumpsim.pump.mechanism).

Published figures (docs/references.md [Neff2001] [Neff2007] [Snijder2015]): start-up of syringe
pumps from Neff 2001
(Paediatr Anaesth 11:561, four pumps at 1 mL/h: first fluid 6.75-57.2 min,
steady flow 19.6-76.3 min; after a 2 mL purge 0.3-1.1 and 6.0-11.1 min) and Neff
2007 (time to steady flow 3.6 min for 10 mL at 1 mL/h to 74.5 min for 50 mL at
0.1 mL/h); syringe compliance 1.2-2.8 uL/mmHg (Snijder 2015); pulsatility
(max-min)/mean 26-28 % peristaltic, ~9 % syringe; a rotary pump giving 50 uL per
revolution shoots every 3 min at 1 mL/h. Ranges are asserted as published
(the model must land inside them); the two Neff 2007 endpoints are fitted, so
they are reproduced to rounding.
"""

from __future__ import annotations

import math

import pytest

from pumpsim.pump.mechanism import (
    SYRINGES,
    ElastomericMechanism,
    IdealMechanism,
    SyringeMechanism,
    VolumetricMechanism,
    build_mechanism,
    syringe_spec,
    water_viscosity,
)

ML_H = 1 / 3600.0


def minutes(size: float, rate_ml_h: float, purged: bool) -> tuple[float, float]:
    t1, t2 = SyringeMechanism(size, purged).startup_times(rate_ml_h * ML_H)
    return t1 / 60, t2 / 60


def test_unpurged_50ml_at_1ml_h_in_neff_2001_ranges() -> None:
    t1, t2 = minutes(50, 1.0, purged=False)
    assert 6.75 <= t1 <= 57.2  # first fluid
    assert 19.6 <= t2 <= 76.3  # steady flow


def test_purge_removes_most_of_the_delay_neff_2001() -> None:
    t1, t2 = minutes(50, 1.0, purged=True)
    assert 0.3 <= t1 <= 1.1
    assert 6.0 <= t2 <= 11.1
    assert t1 < 0.05 * minutes(50, 1.0, purged=False)[0]


def test_neff_2007_endpoints_reproduced() -> None:
    """Fitted through these two points (purged syringes), so equal to rounding."""
    assert minutes(10, 1.0, purged=True)[1] == pytest.approx(3.6, rel=1e-9)
    assert minutes(50, 0.1, purged=True)[1] == pytest.approx(74.5, rel=1e-9)


@pytest.mark.parametrize("purged", [False, True])
def test_startup_grows_with_size_and_falls_with_rate(purged) -> None:
    """Neff 2007: longer for larger syringes and lower rates (10-50 mL, 0.1-1 mL/h)."""
    sizes, rates = (10, 20, 30, 50), (0.1, 0.5, 1.0)
    for rate in rates:
        t2 = [minutes(s, rate, purged)[1] for s in sizes]
        assert t2 == sorted(t2) and len(set(t2)) == len(t2)
    for size in sizes:
        t2 = [minutes(size, r, purged)[1] for r in rates]
        assert t2 == sorted(t2, reverse=True)


def test_syringe_compliance_in_snijder_range_and_rises_with_size() -> None:
    values = [SYRINGES[s].compliance for s in sorted(SYRINGES)]
    assert all(1.2e-3 - 1e-12 <= c <= 2.8e-3 + 1e-12 for c in values)
    assert values == sorted(values)
    assert syringe_spec(50).compliance == pytest.approx(2.8e-3)
    assert syringe_spec(12).size == 20.0  # between sizes: the next larger barrel
    with pytest.raises(ValueError, match="1-60 mL"):
        syringe_spec(100)


def integrate(mech, rate: float, counter_end: float) -> tuple[float, list[float]]:
    """Volume pushed while the counter runs from 0 to ``counter_end`` [mL]; flows seen."""
    counter = volume = 0.0
    flows = []
    while counter < counter_end - 1e-12:
        ph = mech.phase(counter, rate)
        dt = min(ph.duration, (counter_end - counter) / ph.counter_rate)
        volume += ph.flow * dt
        counter += ph.counter_rate * dt
        flows.append(ph.flow)
    return volume, flows


def test_syringe_loses_the_play_and_half_the_ramp_then_delivers_the_rate() -> None:
    m = SyringeMechanism(50)
    rate = 5 * ML_H
    travel = m.play + m.ramp + 10 * m.revolution  # whole revolutions after the start-up
    volume, flows = integrate(m, rate, travel)
    assert volume == pytest.approx(travel - m.play - m.ramp / 2, rel=1e-9)
    steady = flows[-20:]
    assert (max(steady) - min(steady)) / rate == pytest.approx(0.09)  # ~9 % (REFERENCES §3)


def test_volumetric_strokes_pulsatility_and_mean() -> None:
    m = VolumetricMechanism()
    rate = 25 * ML_H
    volume, flows = integrate(m, rate, 20 * m.stroke_volume)
    assert volume == pytest.approx(20 * m.stroke_volume, rel=1e-9)
    assert (max(flows) - min(flows)) / rate == pytest.approx(0.27)  # 26-28 % peristaltic
    assert m.phase(0.0, rate).duration == pytest.approx(m.stroke_volume / rate / 2)


def test_rotary_shot_every_three_minutes_at_1ml_h() -> None:
    m = VolumetricMechanism(stroke_volume=0.05, shot=2.0)
    rate = 1 * ML_H
    first = m.phase(0.0, rate)
    assert first.flow == 0.0 and first.duration == pytest.approx(178.0)  # 180 s period - shot
    shot = m.phase(first.duration * rate, rate)
    assert shot.flow * shot.duration == pytest.approx(0.05)  # 50 uL per revolution


def test_fast_cycles_are_delivered_as_their_mean() -> None:
    m = VolumetricMechanism(stroke_volume=0.1)
    ph = m.phase(0.0, 1000 * ML_H)  # 0.36 s strokes
    assert ph.flow == 1000 * ML_H and math.isinf(ph.duration)


def test_water_viscosity_correlation() -> None:
    """Tabulated water viscosity (CRC Handbook): 1.0016 mPa·s at 20 °C, 0.7972 at 30 °C."""
    assert water_viscosity(20.0) == pytest.approx(1.0016, rel=0.01)
    assert water_viscosity(30.0) == pytest.approx(0.7972, rel=0.01)


def test_elastomeric_flow_follows_temperature_and_fill() -> None:
    cold = ElastomericMechanism(100.0, temperature=22.0)
    warm = ElastomericMechanism(100.0, temperature=33.0)
    nominal = ElastomericMechanism(100.0)
    assert nominal.temperature_factor == pytest.approx(1.0)
    per_degree = warm.temperature_factor - 1.0
    assert 0.015 < per_degree < 0.03  # about 2 %/°C near 32 °C (viscosity, Poiseuille)
    # a restrictor at room temperature runs slow: tabulated μ(32 °C)/μ(22 °C) = 0.7647/0.9544
    assert cold.temperature_factor == pytest.approx(0.7647 / 0.9544, rel=0.01)
    rate = 5 * ML_H
    start, middle = nominal.phase(0.0, rate), nominal.phase(50.0, rate)
    assert start.flow > middle.flow == pytest.approx(rate)
    volume, _ = integrate(nominal, rate, 100.0)
    assert volume == pytest.approx(100.0, rel=1e-9)  # its counter is the delivered volume


def test_registry_builds_each_kind() -> None:
    assert isinstance(build_mechanism("ideal"), IdealMechanism)
    assert build_mechanism("syringe", size=20.0, purged=True).kind == "syringe"
    assert build_mechanism("volumetric", stroke_volume=0.05).stroke_volume == 0.05
    assert build_mechanism("elastomeric", fill=50.0).kind == "elastomeric"
    with pytest.raises(ValueError, match="allowed"):
        build_mechanism("piston")
