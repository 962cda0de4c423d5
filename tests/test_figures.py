"""Classic teaching figures: their numbers come from the engine and match closed forms and data.

Sources (docs/references.md): Hughes 1992 (the context-sensitive half-time);
Kapila 1995 (measured 3-h CSHTs: remifentanil 3.2 ± 0.9 min, alfentanil
47.3 ± 12 min, mean ± SD in volunteers); Goti 2018 (vancomycin); Neff 2001
(syringe start-up, 6.75-57.2 min to first fluid at 1 mL/h unpurged).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from pumpsim.analysis.decrement import decrement_time, system_decrement_time
from pumpsim.cli import main
from pumpsim.figures import figure_names, get_figure
from pumpsim.pk.model import IV, Mammillary, build_system


@pytest.mark.parametrize("duration_min", [0.0, 1.0, 60.0, 600.0])
@pytest.mark.parametrize(("fraction", "factor"), [(0.5, math.log(2)), (0.8, math.log(5))])
def test_one_compartment_decrement_is_its_half_life(duration_min, fraction, factor) -> None:
    # one compartment: C falls as exp(-k t) whatever the context, so the 50 % decrement is
    # ln 2 / k and the 80 % decrement ln 5 / k for every infusion duration (closed form)
    v, cl = 10.0, 0.5  # L, L/min -> k = 0.05 /min
    pk = build_system(Mammillary(v1=v, cl1=cl), {"iv": IV})
    got = system_decrement_time(pk, duration_min * 60.0, fraction) / 60.0
    assert got == pytest.approx(factor * v / cl, rel=1e-6)


def test_fentanyl_csht_matches_an_independent_ode_solution() -> None:
    # Shafer 1990 constants integrated with solve_ivp (RK45, rtol 1e-10), root by brentq
    k10, k12, k13, k21, k31, v1 = 0.0827, 0.471, 0.225, 0.102, 0.006, 6.09

    def f(_t, a, rate):
        a1, a2, a3 = a
        return [rate - (k10 + k12 + k13) * a1 + k21 * a2 + k31 * a3, k12 * a1 - k21 * a2,
                k13 * a1 - k31 * a3]  # fmt: skip

    t_inf = 120.0  # min
    on = solve_ivp(f, (0, t_inf), [0, 0, 0], args=(1.0,), rtol=1e-10, atol=1e-12)
    off = solve_ivp(f, (0, 600), on.y[:, -1], args=(0.0,), rtol=1e-10, atol=1e-12,
                    dense_output=True)  # fmt: skip
    c0 = on.y[0, -1] / v1
    want = brentq(lambda t: off.sol(t)[0] / v1 - 0.5 * c0, 0.0, 600.0, xtol=1e-9)
    got = decrement_time("fentanyl", t_inf * 60.0, 0.5) / 60.0
    assert got == pytest.approx(want, rel=1e-5)


def test_measured_three_hour_half_times() -> None:
    # Kapila 1995: 3-h infusions in volunteers, mean ± SD; allow 2 SD (population vs one patient)
    remi = decrement_time("remifentanil", 3 * 3600.0, 0.5) / 60.0
    alf = decrement_time("alfentanil", 3 * 3600.0, 0.5) / 60.0
    assert abs(remi - 3.2) <= 2 * 0.9, remi
    assert abs(alf - 47.3) <= 2 * 12.0, alf
    # and the point of the concept: the longer infusion, the longer fentanyl's half-time
    short, long_ = (decrement_time("fentanyl", h * 3600.0) for h in (1.0, 8.0))
    assert long_ > 5 * short


def test_decrement_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="fraction"):
        decrement_time("fentanyl", 3600.0, 1.2)
    with pytest.raises(ValueError, match="duration_s"):
        decrement_time("fentanyl", -1.0)
    with pytest.raises(ValueError, match="site"):
        decrement_time("fentanyl", 3600.0, site="brain")


def test_steady_state_figure_numbers_come_from_the_engine() -> None:
    from pumpsim.figures import steady_state

    table = steady_state.compute()
    p = steady_state.parameters()
    css = steady_state.TARGET_MG_L
    arms = {a: g for a, g in table.groupby("arm", sort=False)}
    # infusion only: the two-compartment model integrated independently (solve_ivp)
    cl, vc, vp = p["cl"], p["vc"], p["vp"]
    q = 6.5  # Goti 2018 intercompartmental clearance [L/h]
    rate = cl * css

    def f(_t, a):
        return [rate - (cl + q) / vc * a[0] + q / vp * a[1], q / vc * a[0] - q / vp * a[1]]

    t = arms["infusion only"]["time[h]"].to_numpy()
    sol = solve_ivp(f, (0, t[-1]), [0.0, 0.0], t_eval=t, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(arms["infusion only"]["plasma[mg/L]"], sol.y[0] / vc, rtol=1e-6,
                               atol=1e-9)  # fmt: skip
    # loading with Vss*Css puts the whole body at steady state: C_ss = rate/CL from hour 5 on
    full = arms["loading Vss·Css"]
    late = full[full["time[h]"] >= 12]["plasma[mg/L]"]
    assert np.all(np.abs(late / css - 1) < 0.05)
    # the order the figure teaches: Vss load < Vc load < no load, in time to within 10 %
    t90 = {a: g["within_10pct_from[h]"].iloc[0] for a, g in arms.items()}
    assert t90["loading Vss·Css"] < t90["loading Vc·Css"] < t90["infusion only"]


def test_syringe_startup_inside_neff_range() -> None:
    from pumpsim.figures.syringe import startup

    first, t90 = startup(50.0, 1.0)
    assert 6.75 * 60 <= first <= 57.2 * 60  # Neff 2001: four pumps, 50 mL, 1 mL/h, unpurged
    assert t90 > first


def test_figure_cli_writes_png_svg_and_csv(tmp_path, capsys) -> None:
    assert main(["figure", "--list"]) == 0
    listed = capsys.readouterr().out
    for name in figure_names():
        assert name in listed
        assert get_figure(name).sources  # every figure names its sources
    assert main(["figure", "steady_state", "--out", str(tmp_path), "--dpi", "40"]) == 0
    for ext in ("png", "svg", "csv"):
        assert (tmp_path / f"steady_state.{ext}").stat().st_size > 1000
    assert not list(tmp_path.glob(".*part"))  # nothing half-written left behind
    frame = pd.read_csv(tmp_path / "steady_state.csv")
    assert {"arm", "time[h]", "plasma[mg/L]"} <= set(frame.columns)
    assert main(["figure", "no_such_figure"]) == 1
    assert "allowed: decrement" in capsys.readouterr().err
    assert main(["figure", "steady_state", "--dpi", "5", "--out", str(tmp_path)]) == 1
