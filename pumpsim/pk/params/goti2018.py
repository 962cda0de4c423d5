"""Vancomycin IV, Goti et al. 2018: two compartments, renal function and dialysis.

1812 hospitalised adults (median 57 y, 79 kg, CrCL 62 mL/min; 18.5 % on
intermittent haemodialysis), routine monitoring data::

    CL = 4.5·(CrCL/120)^0.8·0.7^HD    [L/h]
    Vc = 58.4·(WT/70)·0.5^HD          [L]
    Vp = 38.4·(WT/70)                 [L]
    Q  = 6.5                          [L/h]

CrCL [mL/min] by Cockcroft–Gault from serum creatinine (``Covariates.creatinine``
[mg/dL], required), total body weight and age, capped at 150 mL/min; as in
Goti's data handling (per nlmixr2lib's transcription, below), creatinine below
1 mg/dL is raised to 1 in patients over 60 y. HD = 1 (``goti2018_hemodialysis``)
for patients on intermittent haemodialysis, 0 otherwise (``goti2018``, the
default).

This is a model of hospitalised patients: its typical central volume is
large, so a first 1 g dose over 60 min peaks at only ≈ 16 mg/L in a 70 kg
adult with CrCL 120 mL/min (≈ 28 mg/L at steady state on 1 g every 12 h),
and its terminal half-life is long (≈ 17 h; t½α ≈ 2.2 h).

Rates above 10 mg/min are associated with the infusion reaction ("vancomycin
flushing syndrome", label) — a pump-library limit, not part of this model.

Inter-individual variability (CV): CL 39.8 %, Vc 81.6 %, Vp 57.1 % (Goti 2018
table 2 as transcribed in nlmixr2lib's model Goti_2018_vancomycin; not re-read
from the paper for pumpsim).

Goti V, Chaturvedula A, Fossler MJ, Mok S, Jacob JT. Hospitalized patients with
and without hemodialysis have markedly different vancomycin pharmacokinetics:
a population pharmacokinetic model-based analysis. Ther Drug Monit
2018;40:212–221. doi:10.1097/FTD.0000000000000490
Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum
creatinine. Nephron 1976;16:31–41. doi:10.1159/000180580
"""

from __future__ import annotations

import numpy as np

from pumpsim.pk.covariates import Covariates, crcl_cockcroft_gault
from pumpsim.pk.model import Citation, Mammillary, ModelSpec

GOTI = Citation(
    "goti2018",
    "Goti V, Chaturvedula A, Fossler MJ, Mok S, Jacob JT. Hospitalized patients with and without "
    "hemodialysis have markedly different vancomycin pharmacokinetics: a population "
    "pharmacokinetic model-based analysis. Ther Drug Monit 2018;40:212-221.",
    "10.1097/FTD.0000000000000490",
)
COCKCROFT = Citation(
    "cockcroft1976",
    "Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum creatinine. "
    "Nephron 1976;16:31-41.",
    "10.1159/000180580",
)

CRCL_CAP = 150.0  # [mL/min]
VARIABILITY = {k: float(np.sqrt(np.log1p(cv**2))) for k, cv in
               {"cl1": 0.398, "v1": 0.816, "v2": 0.571}.items()}  # fmt: skip


def creatinine_clearance(c: Covariates, key: str = "goti2018") -> float:
    """Cockcroft–Gault CrCL [mL/min] as Goti 2018 used it (cap 150; SCr ≥ 1 above 60 y)."""
    if c.creatinine is None:
        raise ValueError(
            f"{key} needs the serum creatinine (patient creatinine, mg/dL) to estimate "
            "creatinine clearance by Cockcroft-Gault"
        )
    scr = max(c.creatinine, 1.0) if c.age > 60 else c.creatinine
    return float(crcl_cockcroft_gault(c.age, c.weight, scr, c.male, cap=CRCL_CAP))


def _parameters(c: Covariates, hd: int, key: str) -> Mammillary:
    crcl = creatinine_clearance(c, key)
    size = c.weight / 70.0
    return Mammillary(
        v1=58.4 * size * 0.5**hd,
        cl1=4.5 * (crcl / 120.0) ** 0.8 * 0.7**hd / 60.0,
        v2=38.4 * size,
        cl2=6.5 / 60.0,
    )


def _check(key: str):
    def check(c: Covariates) -> tuple[list[str], list[str]]:
        errors: list[str] = []
        warnings: list[str] = []
        if c.creatinine is None:
            return [f"{key} needs the serum creatinine (patient creatinine, mg/dL)"], warnings
        if not 0.1 <= c.creatinine <= 20:
            errors.append(f"{key}: serum creatinine {c.creatinine:g} mg/dL is not plausible")
            return errors, warnings
        if c.age < 17:
            warnings.append(f"{key} was built on adults (17-101 y); this patient is {c.age:g} y")
        if not 33 <= c.weight <= 255:
            warnings.append(f"{key} was built on 33-255 kg; this patient weighs {c.weight:g} kg")
        crcl = creatinine_clearance(c, key)
        if crcl >= CRCL_CAP:
            warnings.append(f"{key}: creatinine clearance capped at {CRCL_CAP:g} mL/min")
        return errors, warnings

    return check


MODEL = ModelSpec(
    key="goti2018",
    drug="vancomycin",
    parameters=lambda c: _parameters(c, 0, "goti2018"),
    citations=(GOTI, COCKCROFT),
    aliases=("goti",),
    check=_check("goti2018"),
    variability=VARIABILITY,
    description="vancomycin, Goti 2018 (hospitalised adults, not on haemodialysis)",
)

MODEL_HEMODIALYSIS = ModelSpec(
    key="goti2018_hemodialysis",
    drug="vancomycin",
    parameters=lambda c: _parameters(c, 1, "goti2018_hemodialysis"),
    citations=(GOTI, COCKCROFT),
    aliases=("goti_hd",),
    check=_check("goti2018_hemodialysis"),
    variability=VARIABILITY,
    description="vancomycin, Goti 2018, patients on intermittent haemodialysis (HD = 1)",
)
