"""Target-controlled infusion: closed forms, published times to peak effect, the
firmware model against the patient, rate limits, and validation at the boundary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pumpsim import ScenarioError, load_scenario, simulate
from pumpsim.pk import Covariates, Mammillary
from pumpsim.pump.tci import FirmwareModel, effect_rate, firmware_model, plasma_rate

TYPICAL = {"age": "53 y", "weight": "77 kg", "height": "177 cm", "sex": "male"}


def tci_scenario(step: dict, *, events: list | None = None, duration: str = "20 min",
                 interval: str = "5 s", settings: dict | None = None, **pump) -> dict:  # fmt: skip
    p = {"id": "A", "kind": "ideal", "drug": "propofol", "concentration": "10 mg/mL",
         "program": [{"mode": "tci", **step}], **pump}  # fmt: skip
    if settings:
        p["settings"] = settings
    return {"name": "tci", "duration": duration, "output": {"interval": interval},
            "patient": TYPICAL, "pumps": [p], "events": events or []}  # fmt: skip


# -- closed forms ----------------------------------------------------------------------------


@pytest.mark.parametrize("dt", [1.0, 10.0, 15.0])
def test_one_compartment_plasma_tci_has_the_closed_form(dt: float) -> None:
    """One compartment, V 10 L, CL 0.5 L/min, target 3 mg/L. Exactly: the first interval's
    rate is CL·C/(1 − e^(−kΔ)) (k = CL/V) and puts Cp on the target at its end; every later
    rate is CL·C (elimination replaced), and Cp stays on the target at every update."""
    v, cl, c = 10.0, 0.5, 3.0
    model = FirmwareModel(Mammillary(v1=v, cl1=cl))
    k = cl / v / 60.0  # 1/s
    x = np.zeros(4)
    rates = []
    for _ in range(30):
        r = plasma_rate(model, x, c, dt)
        rates.append(r)
        x = model.propagate(x, np.array([dt]), r)[0]
        assert model.plasma(x) == pytest.approx(c, rel=1e-12)
    assert rates[0] == pytest.approx(cl / 60.0 * c / (1.0 - math.exp(-k * dt)), rel=1e-12)
    assert rates[1:] == pytest.approx([cl / 60.0 * c] * 29, rel=1e-10)


def test_first_interval_tends_to_the_bolus_v_times_target() -> None:
    """As Δ → 0 the first interval delivers V·C (the loading bolus): R0·Δ = V·C·kΔ/(1−e^(−kΔ))."""
    model = FirmwareModel(Mammillary(v1=10.0, cl1=0.5))
    for dt, tol in ((1e-2, 1e-5), (1e-4, 1e-7)):
        assert plasma_rate(model, np.zeros(4), 3.0, dt) * dt == pytest.approx(30.0, rel=tol)


def test_effect_site_rate_touches_the_target_at_the_peak() -> None:
    """After the first effect-site interval, the free effect-site curve peaks exactly at the
    target (the rule of Shafer & Gregg 1992), checked on an independent fine grid."""
    model = firmware_model("propofol", "schnider1998", Covariates(53, 77, 177, "male"))
    r = effect_rate(model, np.zeros(4), 3.0, 10.0)
    x = model.propagate(np.zeros(4), np.array([10.0]), r)[0]
    ce = model.effect(model.propagate(x, np.linspace(0, 900, 90001), 0.0))
    assert ce.max() == pytest.approx(3.0, rel=1e-7)


# -- published times to peak effect, in the model's own patient ---------------------------------


@pytest.mark.parametrize(
    ("model", "tpeak_min"),
    [
        # Schnider 1999 chose ke0 0.456 /min for a time to peak effect of 1.6 min;
        # Struys 2000 chose ke0 1.2 /min ("modified Marsh") for 1.6 min (docs/references.md)
        ("schnider1998", 1.6),
        ("marsh1991_modified", 1.6),
    ],
)
def test_effect_site_tci_reaches_target_at_published_tpeak_without_overshoot(
    model: str, tpeak_min: float
) -> None:
    """Effect-site TCI from zero in the model's own patient (the firmware model is the
    patient's): Ce reaches the target at the published time to peak effect (given to
    0.1 min; the first 10-s interval shifts the peak by about Δ/2) and never overshoots."""
    dt = 10.0
    sc = tci_scenario({"target": "3 ug/mL", "site": "effect", "pk_model": model,
                       "update": f"{dt:g} s"}, pk_model=model, interval="1 s",
                      duration="8 min", settings={"max_rate": "20000 mL/h"})  # fmt: skip
    ts = simulate(sc).timeseries
    ce = ts["patient.propofol.effect[ug/mL]"].to_numpy()
    t = ts.index.to_numpy()
    reached = t[np.argmax(ce >= 3.0 * (1 - 1e-4))]
    assert abs(reached - (tpeak_min * 60 + dt / 2)) <= 0.1 * 60
    assert ce.max() <= 3.0 * (1 + 1e-6)
    # held there afterwards: between 10-s updates Cp dips below Ce after the peak, so Ce
    # sags by well under 1 % before the plasma rule brings both back
    assert ce[t >= reached].min() >= 3.0 * (1 - 1e-2)


def test_prediction_equals_the_patient_when_the_models_agree() -> None:
    """No population, same model: the firmware's prediction and the patient's exact PK are
    the same linear system driven by the same commanded rate (ideal pump)."""
    sc = tci_scenario({"target": "3 ug/mL", "site": "effect"},
                      events=[{"at": "10 min", "type": "tci_target", "pump": "A",
                               "target": "2 ug/mL"}])  # fmt: skip
    ts = simulate(sc).timeseries
    for site in ("plasma", "effect"):
        pred = ts[f"pump.A.tci.predicted_{site}[ug/mL]"]
        assert np.allclose(pred, ts[f"patient.propofol.{site}[ug/mL]"], rtol=1e-9, atol=1e-12)
    target = ts["pump.A.tci.target[ug/mL]"]
    assert target.loc[595.0] == 3.0 and target.loc[600.0] == 2.0
    ce = ts["patient.propofol.effect[ug/mL]"]
    assert ce.loc[900:].max() <= 2.0 * (1 + 1e-6) and ce.loc[1100:].min() >= 2.0 * (1 - 2e-3)


def test_plasma_tci_holds_the_target_at_every_update() -> None:
    sc = tci_scenario({"target": "4 ug/mL", "pk_model": "schnider1998"})
    ts = simulate(sc).timeseries
    cp = ts["patient.propofol.plasma[ug/mL]"]
    updates = cp.loc[[60.0 * k for k in range(2, 20)]]  # multiples of the 10-s update
    assert np.allclose(updates, 4.0, rtol=1e-9)


def test_rate_limit_saturates_and_prediction_follows_what_was_commanded() -> None:
    """A 50 mL/h maximum cannot give the loading dose: the pump runs at its maximum, logs
    that it is limited, and the firmware's prediction is what that rate gives (still equal
    to the patient's, who received exactly that)."""
    sc = tci_scenario({"target": "3 ug/mL"}, settings={"max_rate": "50 mL/h"})
    res = simulate(sc)
    ts = res.timeseries
    assert ts["pump.A.flow[mL/h]"].max() == pytest.approx(50.0)
    assert ts["pump.A.flow[mL/h]"].loc[:300].min() == pytest.approx(50.0)
    assert any(e.kind == "tci_rate_limited" for e in res.events)
    pred = ts["pump.A.tci.predicted_plasma[ug/mL]"]
    assert np.allclose(pred, ts["patient.propofol.plasma[ug/mL]"], rtol=1e-9)
    assert pred.loc[300.0] < 2.5  # short of the target: the limit is real


def test_empty_container_stops_and_prediction_falls() -> None:
    """The 20 mL container empties (reservoir alarm stops the pump); the firmware model is told the
    motor stopped, so its prediction falls with the patient's."""
    sc = tci_scenario({"target": "4 ug/mL"}, container="20 mL", duration="30 min")
    res = simulate(sc)
    ts = res.timeseries
    assert any(a.get("alarm") == "reservoir_empty" for a in res.summary["alarms"])
    end = ts.index[-1]
    assert ts["pump.A.flow[mL/h]"].loc[end] == 0.0
    assert ts["pump.A.tci.predicted_plasma[ug/mL]"].loc[end] < 2.0


def test_population_prediction_error_spread() -> None:
    """The firmware models the typical patient; a population with Schnider's published
    variability spreads around the prediction (percentile bands bracket it)."""
    sc = tci_scenario({"target": "3 ug/mL"}, duration="30 min")
    sc["patient"] = {**TYPICAL, "population": {"n": 200, "seed": 3}}
    ts = simulate(sc).timeseries
    pred = ts["pump.A.tci.predicted_plasma[ug/mL]"].loc[1200:]
    lo, hi = ts["patient.propofol.plasma.p5[ug/mL]"].loc[1200:], ts[
        "patient.propofol.plasma.p95[ug/mL]"].loc[1200:]  # fmt: skip
    assert (lo < pred).all() and (pred < hi).all() and (hi - lo).min() > 0.3


def test_same_seed_same_result() -> None:
    sc = tci_scenario({"target": "3 ug/mL", "site": "effect"})
    a, b = simulate(sc, seed=4).timeseries, simulate(sc, seed=4).timeseries
    assert a.equals(b)


# -- validation at the boundary ---------------------------------------------------------------


def _problems(data: dict) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    return info.value.lines()


@pytest.mark.parametrize(
    ("step", "where", "words"),
    [
        ({"target": "3 ug/mL", "pk_model": "nosuch"}, "pk_model", "unknown pk_model 'nosuch'"),
        ({"target": "-1 ug/mL"}, "target", "must not be negative"),
        ({"target": "nan ug/mL"}, "target", ""),
        ({"target": "3 ug/mL", "site": "bone"}, "site", ""),
        ({"target": "3 ug/mL", "update": "0 s"}, "update", ""),
    ],
)
def test_bad_tci_steps_give_one_clear_line(step: dict, where: str, words: str) -> None:
    lines = _problems(tci_scenario(step))
    assert len(lines) == 1
    assert "program[0]" in lines[0] and (where in lines[0] or words in lines[0])
    assert words in lines[0]


def test_effect_site_needs_a_model_with_ke0() -> None:
    sc = tci_scenario({"target": "20 ng/mL", "site": "effect", "pk_model": "lotsch2002"},
                      drug="morphine", concentration="1 mg/mL")  # fmt: skip
    lines = _problems(sc)
    assert len(lines) == 1 and "site" in lines[0] and "no effect site" in lines[0]


def test_tci_target_event_needs_a_tci_pump() -> None:
    sc = tci_scenario({"target": "3 ug/mL"},
                      events=[{"at": "1 min", "type": "tci_target", "pump": "A",
                               "target": "-2 ug/mL"}])  # fmt: skip
    lines = _problems(sc)
    assert len(lines) == 1 and "events[0]" in lines[0] and "negative" in lines[0]


def test_firmware_model_is_its_own_not_the_patients() -> None:
    """The patient is simulated with Eleveld 2018, the pump's firmware runs Schnider: the
    prediction follows Schnider (it equals a Schnider-only run's prediction) while the
    patient differs, and the summary's Varvel bias says by how much."""
    mixed = tci_scenario({"target": "3 ug/mL", "pk_model": "schnider1998"},
                         pk_model="eleveld2018")  # fmt: skip
    own = tci_scenario({"target": "3 ug/mL", "pk_model": "schnider1998"},
                       pk_model="schnider1998")  # fmt: skip
    a, b = simulate(mixed), simulate(own)
    col = "pump.A.tci.predicted_plasma[ug/mL]"
    assert np.allclose(a.timeseries[col], b.timeseries[col], rtol=1e-12)
    patient = a.timeseries["patient.propofol.plasma[ug/mL]"]
    assert abs(patient.loc[900.0] - 3.0) > 0.1
    assert abs(a.summary["tci"]["A"]["mdpe"]) > 3.0 and b.summary["tci"]["A"]["mdape"] < 1e-6


def test_van_poucke_plasma_limit_caps_the_overshoot() -> None:
    """With plasma_limit 1.5 the effect-site rule never plans a plasma concentration above
    1.5 × target at an update; without it the Schnider load overshoots about 3-fold."""
    model = firmware_model("propofol", "schnider1998", Covariates(53, 77, 177, "male"))
    for limit, bound in ((None, 2.5), (1.5, 1.5)):
        x, peak = np.zeros(4), 0.0
        for _ in range(60):
            r = max(0.0, effect_rate(model, x, 3.0, 10.0, plasma_limit=limit))
            x = model.propagate(x, np.array([10.0]), r)[0]
            peak = max(peak, float(model.plasma(x)))
        if limit is None:
            assert peak > bound * 3.0
        else:
            assert peak <= bound * 3.0 * (1 + 1e-9)


def test_tci_resumes_after_a_secondary_infusion() -> None:
    """A piggyback interrupts the TCI step (its own rate, no TCI); when it completes, the
    TCI updates resume from the firmware state, which counted the piggyback's drug."""
    sc = tci_scenario({"target": "3 ug/mL"}, duration="30 min")
    sc["pumps"][0]["program"].append({"mode": "secondary", "at": "10 min", "rate": "60 mL/h",
                                      "vtbi": "2 mL"})  # fmt: skip
    ts = simulate(sc).timeseries
    flow = ts["pump.A.flow[mL/h]"]
    assert flow.loc[600:715].to_numpy() == pytest.approx(60.0)  # 2 mL at 60 mL/h: 2 min
    cp = ts["patient.propofol.plasma[ug/mL]"]
    assert cp.loc[1200:].to_numpy() == pytest.approx(3.0, rel=2e-2)  # back on target
    pred = ts["pump.A.tci.predicted_plasma[ug/mL]"]
    assert np.allclose(pred, cp, rtol=1e-9)
