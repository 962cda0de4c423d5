"""Patient covariates and the body-size formulas PK models use.

Pure functions of floats or numpy arrays; nothing here knows of pumps or
scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "Covariates",
    "bmi",
    "lbm_james",
    "lbm_james_peak_bmi",
    "ffm_al_sallami",
    "crcl_cockcroft_gault",
]

Sex = Literal["male", "female"]


@dataclass(frozen=True)
class Covariates:
    """What a PK model may use of a patient.

    Attributes
    ----------
    age : float
        Age [y].
    weight : float
        Total body weight [kg].
    height : float
        Height [cm].
    sex : {"male", "female"}
    opioids : bool
        Opioids given alongside (Eleveld 2018 propofol covariate).
    creatinine : float or None
        Serum creatinine [mg/dL], for creatinine clearance.
    lean_body_mass : float or None
        Measured lean body mass [kg]; when None, James' formula is used.
    """

    age: float
    weight: float
    height: float
    sex: Sex
    opioids: bool = False
    creatinine: float | None = None
    lean_body_mass: float | None = None

    @property
    def male(self) -> bool:
        return self.sex == "male"

    @property
    def bmi(self) -> float:
        return float(bmi(self.weight, self.height))

    @property
    def lbm(self) -> float:
        if self.lean_body_mass is not None:
            return self.lean_body_mass
        return float(lbm_james(self.weight, self.height, self.male))

    @property
    def ffm(self) -> float:
        return float(ffm_al_sallami(self.weight, self.height, self.age, self.male))


def bmi(weight, height):
    """Body-mass index [kg/m²] from weight [kg] and height [cm]."""
    return np.asarray(weight) / (np.asarray(height) / 100.0) ** 2


def lbm_james(weight, height, male: bool):
    """Lean body mass [kg], James (1976).

    male: 1.1·WT − 128·(WT/HT)²; female: 1.07·WT − 148·(WT/HT)², WT [kg], HT [cm].

    James WPT. *Research on obesity.* London: HMSO; 1976. The formula reaches a
    maximum and then falls as weight rises (see :func:`lbm_james_peak_bmi`).
    """
    w = np.asarray(weight, dtype=float)
    h = np.asarray(height, dtype=float)
    if male:
        return 1.1 * w - 128.0 * (w / h) ** 2
    return 1.07 * w - 148.0 * (w / h) ** 2


def lbm_james_peak_bmi(male: bool) -> float:
    """BMI [kg/m²] above which James' lean body mass falls with rising weight.

    d(LBM)/d(WT) = a − 2b·WT/HT² = 0 gives WT/HT² = a/(2b), i.e. BMI = 10⁴·a/(2b):
    42.97 for men (a 1.1, b 128) and 36.15 for women (a 1.07, b 148).
    """
    a, b = (1.1, 128.0) if male else (1.07, 148.0)
    return 1.0e4 * a / (2.0 * b)


def ffm_al_sallami(weight, height, age, male: bool):
    """Fat-free mass [kg], Al-Sallami et al. (2015).

    male: (0.88 + 0.12/(1+(AGE/13.4)^−12.7))·9270·WT/(6680+216·BMI);
    female: (1.11 − 0.11/(1+(AGE/7.1)^−1.1))·9270·WT/(8780+244·BMI).

    Al-Sallami HS, Goulding A, Grant A, et al. Prediction of fat-free mass in
    children. *Clin Pharmacokinet* 2015;54:1169–1178. doi:10.1007/s40262-015-0277-z
    """
    w = np.asarray(weight, dtype=float)
    a = np.asarray(age, dtype=float)
    b = bmi(w, height)
    if male:
        return (0.88 + 0.12 / (1.0 + (a / 13.4) ** -12.7)) * 9270.0 * w / (6680.0 + 216.0 * b)
    return (1.11 - 0.11 / (1.0 + (a / 7.1) ** -1.1)) * 9270.0 * w / (8780.0 + 244.0 * b)


def crcl_cockcroft_gault(age, weight, creatinine, male: bool, cap: float | None = 150.0):
    """Creatinine clearance [mL/min], Cockcroft & Gault (1976).

    CrCL = (140 − AGE)·WT / (72·SCr), ×0.85 for women; SCr [mg/dL], WT [kg].
    Capped at ``cap`` [mL/min] (Goti 2018 caps at 150).

    Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum
    creatinine. *Nephron* 1976;16:31–41. doi:10.1159/000180580
    """
    crcl = (140.0 - np.asarray(age, dtype=float)) * np.asarray(weight, dtype=float)
    crcl = crcl / (72.0 * np.asarray(creatinine, dtype=float))
    if not male:
        crcl = crcl * 0.85
    if cap is not None:
        crcl = np.minimum(crcl, cap)
    return crcl
