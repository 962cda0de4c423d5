"""Patient physiology: pharmacodynamics, vital signs and adverse reactions (numpy/scipy only).

* :mod:`pumpsim.patient.pd` — sigmoid Emax terms per drug and endpoint with
  their sources, and the (additive) Minto response surface that combines them;
* :mod:`pumpsim.patient.vitals` — baselines and HR, MAP, RR, SpO2 as functions
  of effect-site concentrations and reactions;
* :mod:`pumpsim.patient.reactions` — anaphylaxis (event), vancomycin flushing
  (rate rule) as time courses.

Nothing here knows of SimPy or pumps; :mod:`pumpsim.engine.physiology` wires it
to a run.
"""

from pumpsim.patient.pd import ENDPOINTS, PROFILES, combined_effect, endpoint, sigmoid_emax
from pumpsim.patient.reactions import (
    ANAPHYLAXIS,
    VANCOMYCIN_RATE_RULE,
    RateHistory,
    RateRule,
    Reaction,
    anaphylaxis,
)
from pumpsim.patient.vitals import VITALS, Baseline, VitalsModel, baseline_for, first_crossing

__all__ = [
    "ENDPOINTS",
    "PROFILES",
    "combined_effect",
    "endpoint",
    "sigmoid_emax",
    "ANAPHYLAXIS",
    "VANCOMYCIN_RATE_RULE",
    "RateHistory",
    "RateRule",
    "Reaction",
    "anaphylaxis",
    "VITALS",
    "Baseline",
    "VitalsModel",
    "baseline_for",
    "first_crossing",
]
