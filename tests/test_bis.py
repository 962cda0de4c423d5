"""BIS: Bouillon 2004 response surface at its published concentration pairs, the monitor's
noise and delay, and the columns a run records."""

from __future__ import annotations

import numpy as np
import pytest

from pumpsim import simulate
from pumpsim.patient.bis import BOUILLON2004, bis_bouillon

# Bouillon 2004 (docs/references.md [Bouillon2004]): E0 = Emax = 97.4, C50 propofol
# 4.47 ug/mL, C50 remifentanil 19.3 ng/mL, gamma 1.43, additive surface. At U = 1 the
# index is E0/2 = 48.7, to the paper's one decimal.


@pytest.mark.parametrize(
    ("ce_p", "ce_r"),
    [(4.47, 0.0), (0.0, 19.3), (4.47 / 2, 19.3 / 2), (4.47 / 4, 19.3 * 3 / 4)],
)
def test_half_effect_on_the_isobole(ce_p: float, ce_r: float) -> None:
    assert bis_bouillon(ce_p, ce_r) == pytest.approx(48.7, abs=0.05)


def test_awake_and_hill_curve_by_hand() -> None:
    """No drug: E0 97.4. Ce_P twice C50 alone: 97.4·(1 − 2^1.43/(1 + 2^1.43)), by hand
    2^1.43 = 2.6945 -> 97.4·(1 − 0.72933) = 26.36."""
    assert bis_bouillon(0.0, 0.0) == pytest.approx(97.4)
    assert bis_bouillon(8.94, 0.0) == pytest.approx(26.36, abs=0.01)
    assert BOUILLON2004.gamma == 1.43


def _scenario(**bis) -> dict:
    return {"name": "bis", "duration": "20 min", "output": {"interval": "5 s"},
            "patient": {"age": "53 y", "weight": "77 kg", "height": "177 cm", "sex": "male"},
            "bis": bis,
            "pumps": [{"id": "A", "kind": "ideal", "drug": "propofol",
                       "concentration": "10 mg/mL",
                       "program": [{"mode": "tci", "target": "4.47 ug/mL",
                                    "site": "effect"}]}]}  # fmt: skip


def test_columns_and_steady_state() -> None:
    ts = simulate(_scenario()).timeseries
    bis, ce = ts["patient.bis[1]"], ts["patient.propofol.effect[ug/mL]"]
    assert np.allclose(bis, bis_bouillon(ce.to_numpy()))
    assert bis.loc[600:].to_numpy() == pytest.approx(48.7, abs=0.15)  # Ce held at C50
    assert np.allclose(ts["monitor.bis[1]"], bis)  # no noise, no delay


def test_delay_and_noise_are_seeded() -> None:
    sc = _scenario(delay="30 s", noise=4)
    a, b = simulate(sc, seed=3).timeseries, simulate(sc, seed=3).timeseries
    assert a["monitor.bis[1]"].equals(b["monitor.bis[1]"])
    c = simulate(sc, seed=4).timeseries
    assert not a["monitor.bis[1]"].equals(c["monitor.bis[1]"])
    quiet = simulate(_scenario(delay="30 s")).timeseries
    true = quiet["patient.bis[1]"]
    # the reading at t is the index at t - 30 s
    assert np.allclose(quiet["monitor.bis[1]"].loc[300:600].to_numpy(),
                       true.loc[270:570].to_numpy())  # fmt: skip
    residual = a["monitor.bis[1]"].loc[300:] - quiet["monitor.bis[1]"].loc[300:]
    assert 3.0 < residual.std() < 5.0  # SD 4 (clipping aside)


def test_stimulation_offsets_the_index() -> None:
    sc = _scenario(stimulation=[{"at": "10 min", "duration": "5 min", "offset": 12}])
    ts = simulate(sc).timeseries
    base = simulate(_scenario()).timeseries["patient.bis[1]"]
    diff = ts["patient.bis[1]"] - base
    assert diff.loc[600:895].to_numpy() == pytest.approx(12.0)
    assert diff.loc[900:].abs().max() == 0.0
