"""Published parameter sets reproduce the papers' own reference values."""

from __future__ import annotations

import pytest

from pumpsim.pk.covariates import (
    Covariates,
    ffm_al_sallami,
    lbm_james,
    lbm_james_peak_bmi,
)
from pumpsim.pk.registry import get_model, model_keys, models


def test_schnider_covariate_centred_patient() -> None:
    """Schnider 1998: 53 y, 77 kg, 177 cm, LBM 59 kg give V1 4.27, V2 18.9, CL1 1.89 exactly."""
    c = Covariates(53, 77, 177, "male", lean_body_mass=59.0)
    p = get_model("propofol", "schnider").parameters(c)
    assert p.v1 == 4.27 and p.v2 == 18.9 and p.cl1 == pytest.approx(1.89, abs=1e-12)
    assert p.v3 == 238 and p.cl2 == 1.29 and p.cl3 == 0.836 and p.ke0 == 0.456


def test_eleveld_reference_individual() -> None:
    """Eleveld 2018 table 2: 35 y, 70 kg, 170 cm male -> V1 6.28, V2 25.5, V3 273 L,
    CL 1.79, Q2 1.83, Q3 1.11 L/min (Q2 published to 3 significant figures)."""
    p = get_model("propofol", "eleveld2018").parameters(Covariates(35, 70, 170, "male"))
    assert p.v1 == pytest.approx(6.28, rel=1e-12)
    assert p.v2 == pytest.approx(25.5, rel=1e-12)
    assert p.v3 == pytest.approx(273.0, rel=1e-12)
    assert p.cl1 == pytest.approx(1.79, rel=1e-12)
    assert p.cl2 == pytest.approx(1.83, abs=0.005)
    assert p.cl3 == pytest.approx(1.11, rel=1e-12)
    assert p.ke0 == pytest.approx(0.146, rel=1e-12)


def test_eleveld_opioids_reduce_v3_cl_and_q3() -> None:
    """With opioids V3·exp(θ13·AGE), CL·exp(θ11·AGE), and Q3 follows the reduced V3."""
    c0 = Covariates(60, 70, 170, "male", opioids=False)
    c1 = Covariates(60, 70, 170, "male", opioids=True)
    spec = get_model("propofol", "eleveld")
    p0, p1 = spec.parameters(c0), spec.parameters(c1)
    assert p1.v3 / p0.v3 == pytest.approx(2.718281828459045 ** (-0.0138 * 60), rel=1e-12)
    assert p1.cl1 / p0.cl1 == pytest.approx(2.718281828459045 ** (-0.00286 * 60), rel=1e-12)
    assert p1.cl3 / p0.cl3 == pytest.approx((p1.v3 / p0.v3) ** 0.75, rel=1e-12)


def test_marsh_variants() -> None:
    """Marsh 1991: V1 0.228·WT; ke0 0.26 (original) or 1.2 (Struys 2000)."""
    c = Covariates(40, 70, 170, "male")
    orig = get_model("propofol", "marsh").parameters(c)
    mod = get_model("propofol", "marsh_modified").parameters(c)
    assert orig.v1 == pytest.approx(0.228 * 70) and orig.ke0 == 0.26 and mod.ke0 == 1.2
    assert orig.cl1 / orig.v1 == pytest.approx(0.119)
    assert orig.cl2 / orig.v2 == pytest.approx(0.055)  # k21
    assert orig.cl3 / orig.v3 == pytest.approx(0.0033)  # k31


def test_minto_at_reference() -> None:
    """Minto 1997: at AGE 40, LBM 55 the typical values V1 5.1, V2 9.82, CL1 2.6 L/min."""
    p = get_model("remifentanil", "minto").parameters(
        Covariates(40, 70, 170, "male", lean_body_mass=55.0)
    )
    assert (p.v1, p.v2, p.v3) == pytest.approx((5.1, 9.82, 5.42))
    assert (p.cl1, p.cl2, p.cl3, p.ke0) == pytest.approx((2.6, 2.05, 0.076, 0.595))


def test_james_lbm_and_its_peak() -> None:
    """James 1976: male 1.1·WT − 128·(WT/HT)²; the maximum is at BMI 10⁴·1.1/256."""
    assert lbm_james(70, 170, True) == pytest.approx(1.1 * 70 - 128 * (70 / 170) ** 2)
    assert lbm_james_peak_bmi(True) == pytest.approx(42.96875)
    assert lbm_james_peak_bmi(False) == pytest.approx(1.07e4 / 296)


def test_al_sallami_reference_adult() -> None:
    """Al-Sallami 2015, male 35 y 70 kg 170 cm: evaluate the published formula by hand."""
    bmi = 70 / 1.7**2
    expected = (0.88 + 0.12 / (1 + (35 / 13.4) ** -12.7)) * 9270 * 70 / (6680 + 216 * bmi)
    assert ffm_al_sallami(70, 170, 35, True) == pytest.approx(expected, rel=1e-12)


def test_schnider_refuses_obese_patient() -> None:
    """James LBM falls with weight above its peak BMI: the model refuses clearly."""
    errors, _ = get_model("propofol", "schnider").check(Covariates(40, 150, 165, "female"))
    assert errors and "use eleveld2018" in errors[0]
    errors, _ = get_model("propofol", "eleveld").check(Covariates(40, 150, 165, "female"))
    assert errors == []


def test_registry_keys_and_aliases() -> None:
    table = models()
    for alias, key in [("marsh", "marsh1991"), ("schnider", "schnider1998"),
                       ("eleveld", "eleveld2018"), ("minto", "minto1997")]:  # fmt: skip
        assert table[alias] is table[key]
    assert "schnider1998" in model_keys("propofol")
    with pytest.raises(KeyError, match="allowed"):
        get_model("propofol", "minto1997")
    for spec in table.values():
        assert spec.citations, f"{spec.key} has no citation"
