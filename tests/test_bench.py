"""The simulated test bench (pumpsim.bench), its figures and its command.

Trumpet expectations are the IEC 60601-2-24 formulas (docs/references.md [IEC60601-2-24]) applied
by hand: a perfect pump has every Q_i = r, hence A = 0 and every Ep = 0; a
rotary pump shooting 50 uL every 3 min at 1 mL/h puts a 6 mL/h sample (+500 %)
in every sixth 0.5-min interval and 0 mL/h (−100 %) in the others, so a window of
n samples holding k shots has mean error (500k − 100(n − k))/n %.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from pumpsim.bench import Balance, occlusion_table, occlusion_test, trumpet_test, weigh
from pumpsim.cli import main

matplotlib.use("Agg")


def test_constant_ideal_flow_gives_flat_trumpet() -> None:
    b = trumpet_test("ideal", 5.0, None)
    assert b.trumpet.A == pytest.approx(0.0, abs=1e-9)
    for w in b.trumpet.windows:
        assert abs(w.ep_max_pct) < 1e-9 and abs(w.ep_min_pct) < 1e-9
    assert b.trumpet.window(2.0).m == 117  # (60 − 2)/0.5 + 1 sliding windows


def test_rotary_pump_trumpet_by_hand() -> None:
    b = trumpet_test("volumetric", 1.0, None, mechanism={"stroke_volume": "50 uL", "shot": "2 s"})

    def ep(n: int, k: int) -> float:
        return (500.0 * k - 100.0 * (n - k)) / n

    expected = {2: (1, 0), 5: (2, 1), 11: (4, 3), 19: (7, 6), 31: (11, 10)}  # shots: max, min
    for p, (kmax, kmin) in expected.items():
        w = b.trumpet.window(p)
        assert w.ep_max_pct == pytest.approx(ep(w.n, kmax), abs=1e-9)
        assert w.ep_min_pct == pytest.approx(ep(w.n, kmin), abs=1e-9)
    assert b.trumpet.A == pytest.approx(0.0, abs=1e-9)  # 20 whole shots in the 2nd hour


def test_syringe_trumpet_shows_startup_and_narrows() -> None:
    b = trumpet_test("syringe", 5.0, 50.0)
    q = b.graph.flow_ml_h
    assert q[0] == 0.0  # unpurged: nothing in the first 0.5 min
    assert abs(b.trumpet.A) < 0.5
    eps = [w.ep_max_pct for w in b.trumpet.windows]
    assert eps[0] == pytest.approx(4.5, abs=1e-6)  # half the 9 % lead-screw variation
    assert eps[0] > eps[1] > eps[2]


def test_balance_resolution_and_seeded_noise() -> None:
    v = np.linspace(0, 1, 11)
    exact = weigh(v)
    assert exact == pytest.approx(0.998 * v)
    rounded = weigh(v, Balance(resolution_g=0.01))
    assert np.allclose(rounded / 0.01, np.round(rounded / 0.01))
    rng = np.random.default_rng
    a = weigh(v, Balance(noise_g=1e-3), rng(1))
    assert np.array_equal(a, weigh(v, Balance(noise_g=1e-3), rng(1)))
    assert not np.array_equal(a, weigh(v, Balance(noise_g=1e-3), rng(2)))
    with pytest.raises(ValueError, match="rng"):
        weigh(v, Balance(noise_g=1e-3))
    noisy = trumpet_test("ideal", 5.0, None, balance=Balance(0.0001, 0.0005), seed=4)
    assert noisy.trumpet.window(2.0).ep_max_pct > 0.1  # the noise widens the trumpet


def test_occlusion_sweep_matches_closed_forms() -> None:
    results = [occlusion_test("ideal", r, 300.0, None, line={"compliance": "2.5 uL/mmHg"})
               for r in (0.5, 1.0, 5.0)]  # fmt: skip
    table = occlusion_table(results)
    assert np.allclose(table["time to alarm [min]"], table["C*(P_alarm-P0)/Q [min]"], rtol=1e-9)
    assert np.allclose(table["bolus [mL]"], 2.5e-3 * 300, rtol=1e-9)
    assert table.loc[1, "time to alarm [min]"] == pytest.approx(45.0, rel=1e-9)


def test_bench_figures_have_content(tmp_path) -> None:
    from pumpsim.plot_bench import save_occlusion_figure, save_trumpet_figures

    b = trumpet_test("syringe", 5.0, 50.0)
    paths = save_trumpet_figures(b, tmp_path)
    results = [occlusion_test("syringe", r, 300.0, 50.0) for r in (1.0, 5.0)]
    paths.append(save_occlusion_figure(results, tmp_path))
    assert [p.name for p in paths] == ["startup.png", "trumpet.png", "occlusion.png"]
    assert all(p.stat().st_size > 20_000 for p in paths)


def test_cli_bench_trumpet_writes_files(tmp_path, capsys) -> None:
    code = main(["bench", "trumpet", "--pump", "syringe", "--syringe", "50 mL", "--rate",
                 "5 mL/h", "--resolution", "0.1 mg", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "A = " in out and "Ep(max)" in out
    names = {p.name for p in tmp_path.iterdir()}
    assert {"startup.png", "trumpet.png", "trumpet.csv", "startup.csv", "balance.csv"} <= names
    table = pd.read_csv(tmp_path / "trumpet.csv")
    assert list(table["P [min]"]) == [2, 5, 11, 19, 31]


def test_cli_bench_occlusion_sweep(tmp_path, capsys) -> None:
    code = main(["bench", "occlusion", "--pump", "syringe", "--syringe", "50 mL", "--rates",
                 "0.5,5 mL/h", "--threshold", "300 mmHg", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    table = pd.read_csv(tmp_path / "occlusion.csv")
    assert list(table["rate [mL/h]"]) == [0.5, 5.0]
    assert (tmp_path / "occlusion.png").exists()
    assert main(["bench", "occlusion", "--rates", "fast mL/h"]) == 1
    assert "0.5,1,5 mL/h" in capsys.readouterr().err
