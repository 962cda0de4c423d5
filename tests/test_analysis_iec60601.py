"""IEC 60601-2-24 start-up graph and trumpet curve (pumpsim.analysis.iec60601).

Expected numbers come from the formulas of docs/references.md [IEC60601-2-24] (IEC 60601-2-24:2012
clause 201.12.1, exact text recalled [R]) applied by hand to series built here, so
each test is an independent check of the implementation, not a regression snapshot.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pumpsim.analysis.iec60601 import (
    PROFILES,
    flow_from_mass,
    load_balance_csv,
    startup_graph,
    trumpet_curve,
)

D = 0.998  # test-water density [g/mL], docs/references.md [IEC60601-2-24]
STANDARD_WINDOWS = (2.0, 5.0, 11.0, 19.0, 31.0)  # P [min], docs/references.md [IEC60601-2-24]


def ideal_mass(rate_ml_h: float, minutes: float = 120.0, s_min: float = 0.5) -> np.ndarray:
    """Cumulative mass [g] of a perfect pump: W(t) = d·r·t/60, sampled every S."""
    t_min = s_min * np.arange(round(minutes / s_min) + 1)
    return D * rate_ml_h * t_min / 60.0


def rotary_pump_mass() -> np.ndarray:
    """Balance log of a rotary ambulatory pump: one 50 uL shot every 3 min (1 mL/h).

    docs/references.md [Snijder2015]: 50 uL per revolution gives one shot every 3 min at 1 mL/h
    (50 uL / 3 min = 1000 uL / 60 min). Sampled every S = 0.5 min for 120 min, the
    shot lands just before every 6th sample (t = 3, 6, 9, ... min), so after sample
    i the balance holds floor(i/6) shots of 0.05 mL x 0.998 g/mL = 0.0499 g:
    W = [0, 0, 0, 0, 0, 0, 0.0499, 0.0499, ..., 0.0998, ...].
    """
    shots_so_far = np.arange(241) // 6
    return 0.05 * D * shots_so_far


def test_flow_formula_by_hand() -> None:
    # Q_i = 60·(W_i − W_{i−1})/(S·d) with S = 0.5 min: 60·0.0499/(0.5·0.998) = 6 mL/h.
    flow = flow_from_mass([0.0, 0.0499, 0.0499], interval_s=30.0, density_g_per_ml=0.998)
    np.testing.assert_allclose(flow, [6.0, 0.0], atol=1e-12)


def test_constant_ideal_flow_gives_flat_trumpet() -> None:
    # A perfect 25 mL/h pump (intermediate volumetric rate, docs/references.md [IEC60601-2-24]):
    # every Q_i = r, so every percentage error is 0, hence A = 0 and all Ep = 0.
    graph = startup_graph(ideal_mass(25.0))
    np.testing.assert_allclose(graph.flow_ml_h, 25.0, rtol=1e-12)
    result = trumpet_curve(graph.flow_ml_h, 25.0)
    assert result.A == pytest.approx(0.0, abs=1e-9)
    for w in result.windows:
        assert w.ep_max_pct == pytest.approx(0.0, abs=1e-9)
        assert w.ep_min_pct == pytest.approx(0.0, abs=1e-9)


def test_analysis_period_is_exactly_the_second_hour() -> None:
    # A syringe pump with a 60-min start-up delay (within Neff 2001's 6.75–57+ min,
    # docs/references.md [Neff2001]): no flow for samples 1..120 (0–60 min), then exactly r. The
    # analysis period (60, 120] min is samples 121..240 only, so A = 0 and the trumpet
    # is flat; taking even one sample of the first hour would give Ep(min) = −25 % at
    # P = 2 min (one zero among 4 samples).
    flow = np.r_[np.zeros(120), np.full(120, 5.0)]
    result = trumpet_curve(flow, 5.0)
    assert result.A == pytest.approx(0.0, abs=1e-12)
    assert all(w.ep_min_pct == pytest.approx(0.0, abs=1e-12) for w in result.windows)
    graph = startup_graph(D * np.r_[np.zeros(121), 5.0 * 0.5 * np.arange(1, 121) / 60.0])
    assert graph.time_min[119] == 60.0 and graph.flow_ml_h[119] == 0.0
    assert graph.flow_ml_h[120] == pytest.approx(5.0, rel=1e-12)


def test_window_counts_n_and_m() -> None:
    # n = P/S and m = (T2 − P)/S + 1 (docs/references.md [IEC60601-2-24]) with S = 0.5, T2 = 60 min:
    # P = 2 → n = 4, m = 58/0.5 + 1 = 117; P = 5 → 10, 111; P = 11 → 22, 99;
    # P = 19 → 38, 83; P = 31 → 62, 59.
    result = trumpet_curve(np.full(240, 5.0), 5.0)
    table = result.to_frame()
    assert list(table.index) == list(STANDARD_WINDOWS)
    assert list(table["n"]) == [4, 10, 22, 38, 62]
    assert list(table["m"]) == [117, 111, 99, 83, 59]
    assert result.window(2.0).m == 117


# Rotary pump, by hand. A window of P min holds n = 2P samples and, since no standard
# P is a multiple of the 3-min shot period, contains either k = floor(P/3) or k + 1
# shots depending on where it starts (both occur: m ≥ 59 start positions cover all 6
# phases). k shots of 50 uL in P min is a mean flow of 0.05·k·60/P = 3k/P mL/h, an
# error of 100·(3k/P − 1) %. Equivalently, per sample the error is +500 % on a shot
# sample (6 mL/h) and −100 % otherwise (0 mL/h); for P = 2 (4 samples):
# one shot → (500 − 3·100)/4 = +50 %, none → −100 %.
ROTARY_EXPECTED = [
    # P, Ep(max): k+1 shots, Ep(min): k shots
    (2.0, 100 * (3 * 1 / 2 - 1), 100 * (3 * 0 / 2 - 1)),  # +50, −100
    (5.0, 100 * (3 * 2 / 5 - 1), 100 * (3 * 1 / 5 - 1)),  # +20, −40
    (11.0, 100 * (3 * 4 / 11 - 1), 100 * (3 * 3 / 11 - 1)),  # +100/11, −200/11
    (19.0, 100 * (3 * 7 / 19 - 1), 100 * (3 * 6 / 19 - 1)),  # +200/19, −100/19
    (31.0, 100 * (3 * 11 / 31 - 1), 100 * (3 * 10 / 31 - 1)),  # +200/31, −100/31
]


@pytest.mark.parametrize(("window", "ep_max", "ep_min"), ROTARY_EXPECTED)
def test_rotary_ambulatory_pump_trumpet_by_hand(
    window: float, ep_max: float, ep_min: float
) -> None:
    graph = startup_graph(rotary_pump_mass())
    # Start-up graph: 6 mL/h on every 6th sample (t = 3, 6, ... min), 0 elsewhere.
    assert graph.time_min[5] == 3.0
    np.testing.assert_allclose(graph.flow_ml_h[5::6], 6.0, rtol=1e-12)
    assert np.count_nonzero(graph.flow_ml_h > 1e-9) == 40
    result = trumpet_curve(graph.flow_ml_h, 1.0)
    # A: the second hour (samples 121..240) holds shots 21..40, 20 x 50 uL = 1 mL in
    # 1 h = exactly the set rate, so A = 0.
    assert result.A == pytest.approx(0.0, abs=1e-9)
    w = result.window(window)
    assert w.ep_max_pct == pytest.approx(ep_max, abs=1e-9)
    assert w.ep_min_pct == pytest.approx(ep_min, abs=1e-9)


def test_rotary_pump_is_flat_in_the_ambulatory_profile() -> None:
    # Ambulatory profile (docs/references.md [IEC60601-2-24] [R]): S = 15 min holds exactly five
    # 3-min
    # shots, so every Q_i = 5 x 0.05 mL / 0.25 h = 1 mL/h and the trumpet is flat.
    # m for P = 930 min over T2 = 1440 min: (1440 − 930)/15 + 1 = 35.
    profile = PROFILES["ambulatory"]
    n_samples = round(profile.test_period_min / profile.sample_interval_min)  # 192
    mass = 5 * 0.05 * D * np.arange(n_samples + 1)
    flow = flow_from_mass(mass, interval_s=60 * profile.sample_interval_min)
    result = trumpet_curve(flow, 1.0, **profile.trumpet_kwargs())
    assert result.A == pytest.approx(0.0, abs=1e-9)
    assert result.window(930.0).m == 35
    assert all(abs(w.ep_max_pct) < 1e-9 and abs(w.ep_min_pct) < 1e-9 for w in result.windows)


def test_constant_two_percent_bias() -> None:
    # A pump running 2 % fast at 5 mL/h (syringe intermediate rate): every
    # Q_i = 1.02·r, so 100·(Q_i − r)/r = 2 everywhere: A = 2 and every Ep = 2.
    flow = flow_from_mass(ideal_mass(1.02 * 5.0))
    result = trumpet_curve(flow, 5.0)
    assert result.A == pytest.approx(2.0, abs=1e-9)
    table = result.to_frame()
    np.testing.assert_allclose(table["Ep(max) [%]"], 2.0, atol=1e-9)
    np.testing.assert_allclose(table["Ep(min) [%]"], 2.0, atol=1e-9)
    assert table.attrs["A [%]"] == pytest.approx(2.0, abs=1e-9)


def test_csv_round_trip(tmp_path) -> None:
    mass = rotary_pump_mass()
    path = tmp_path / "balance.csv"
    pd.DataFrame({"t_min": 0.5 * np.arange(mass.size), "W_g": mass}).to_csv(path, index=False)
    log = load_balance_csv(path, time_column="t_min", mass_column="W_g", time_unit="min")
    assert log.interval_s == pytest.approx(30.0)
    np.testing.assert_allclose(log.time_s, 30.0 * np.arange(mass.size))
    np.testing.assert_allclose(log.mass_g, mass, rtol=1e-15)
    flow = startup_graph(log.mass_g, interval_s=log.interval_s).flow_ml_h
    assert trumpet_curve(flow, 1.0).window(2.0).ep_max_pct == pytest.approx(50.0, abs=1e-9)


def test_csv_rejects_non_uniform_log_in_one_line(tmp_path) -> None:
    path = tmp_path / "jittery_balance.csv"
    path.write_text("time_s,mass_g\n0,0.0\n30,0.1\n60,0.2\n95,0.3\n120,0.4\n")
    with pytest.raises(ValueError) as info:
        load_balance_csv(path)
    message = str(info.value)
    assert "jittery_balance.csv" in message and "'time_s'" in message
    assert "uniformly" in message and "\n" not in message


def test_csv_rejects_missing_column_and_backwards_time(tmp_path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("time_s,mass_g\n0,0\n30,0.1\n30,0.2\n")
    with pytest.raises(ValueError, match=r"log\.csv: no column 'weight'"):
        load_balance_csv(path, mass_column="weight")
    with pytest.raises(ValueError, match=r"log\.csv: column 'time_s' is not strictly increasing"):
        load_balance_csv(path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rate_ml_h": 0.0}, "rate_ml_h must be a finite number > 0"),
        ({"rate_ml_h": -1.0}, "rate_ml_h must be a finite number > 0"),
        ({"windows_min": (2.0, 61.0)}, "P = 61 min is longer than the analysis period T2 = 60"),
        ({"windows_min": (2.25,)}, "P = 2.25 min is not a whole number"),
        ({"windows_min": (5.0, 2.0)}, "strictly increasing"),
        ({"analysis_period_min": 90.0}, "analysis period ends at T1 \\+ T2 = 150 min"),
    ],
)
def test_trumpet_rejects_bad_input(kwargs: dict, match: str) -> None:
    args = {"flow_ml_h": np.full(240, 1.0), "rate_ml_h": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        trumpet_curve(**args)


def test_startup_graph_rejects_short_log() -> None:
    with pytest.raises(ValueError, match="test period T is 120 min"):
        startup_graph(ideal_mass(1.0, minutes=90.0))


# --- properties ---------------------------------------------------------------------

flows = st.floats(min_value=0.0, max_value=1000.0, allow_nan=False)  # [mL/h]
rates = st.floats(min_value=0.1, max_value=100.0)  # [mL/h]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 12), tiles=st.integers(1, 12), data=st.data(), rate=rates)
def test_mean_error_lies_inside_trumpet_when_window_divides_period(
    n: int, tiles: int, data: st.DataObject, rate: float
) -> None:
    # If P divides T2, the T2/P disjoint windows are among the m sliding ones and
    # A is their average, so Ep(min) ≤ A ≤ Ep(max).
    flow = np.array(data.draw(st.lists(flows, min_size=n * tiles, max_size=n * tiles)))
    result = trumpet_curve(flow, rate, 0.5, 0.0, 0.5 * n * tiles, windows_min=(0.5 * n,))
    w = result.windows[0]
    tol = 1e-9 * (1.0 + np.max(np.abs(100 * (flow - rate) / rate)))
    assert w.ep_min_pct - tol <= result.A <= w.ep_max_pct + tol


def test_mean_error_can_lie_outside_trumpet_when_window_does_not_divide_period() -> None:
    # Counterexample to the general claim: a 22-sample (P = 11 min) pattern with zero
    # mean error, repeated over 120 samples, makes every 11-min window mean 0, but the
    # 10 leftover samples (+50 % each) lift A to 10·50/120 = 4.1667 %.
    pattern = np.r_[np.full(11, 1.5), np.full(11, 0.5)]  # r = 1: errors +50 %, −50 %
    result = trumpet_curve(np.resize(pattern, 120), 1.0, 0.5, 0.0, 60.0, (11.0,))
    assert result.A == pytest.approx(10 * 50 / 120, abs=1e-9)
    assert result.windows[0].ep_max_pct == pytest.approx(0.0, abs=1e-9)
    assert result.windows[0].ep_max_pct < result.A


@settings(max_examples=200, deadline=None)
@given(
    period=st.integers(2, 40),
    phase=st.integers(0, 39),
    base=st.floats(0.0, 50.0),
    shot=st.floats(0.01, 500.0),
    rate=rates,
)
def test_pulsatile_trumpet_narrows_as_window_grows(
    period: int, phase: int, base: float, shot: float, rate: float
) -> None:
    # One shot every `period` samples on a steady base flow. A window of n samples
    # holds floor(n/period) or one more shot, so its spread Ep(max) − Ep(min) is one
    # shot's error contribution δ/n (δ = 100·shot/r), shrinking as P grows — or 0
    # when the period divides n (then every window holds the same number of shots).
    flow = np.full(240, base)
    flow[phase % period :: period] += shot
    result = trumpet_curve(flow, rate)
    delta = 100.0 * shot / rate
    spreads = []
    for w in result.windows:
        spread = w.ep_max_pct - w.ep_min_pct
        expected = 0.0 if w.n % period == 0 else delta / w.n
        assert spread == pytest.approx(expected, rel=1e-9, abs=1e-9 * (1 + delta))
        if w.n % period:
            spreads.append(spread)
    assert all(b <= a + 1e-9 * (1 + delta) for a, b in pairwise(spreads))


def test_trumpet_need_not_narrow_when_period_divides_a_window() -> None:
    # Shot every 5 samples (2.5 min): P = 5 min (n = 10) always holds 2 shots, so its
    # spread is 0, while P = 11 min (n = 22) holds 4 or 5 shots: spread δ/22 = 100·6/22.
    flow = np.zeros(240)
    flow[::5] = 6.0  # 50 uL in one 0.5-min sample; with r = 1 mL/h a shot adds δ = 600 %
    result = trumpet_curve(flow, 1.0)
    spread = {w.window_min: w.ep_max_pct - w.ep_min_pct for w in result.windows}
    assert spread[5.0] == pytest.approx(0.0, abs=1e-9)
    assert spread[11.0] == pytest.approx(100 * 6.0 / 22, abs=1e-9)
