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

from __future__ import annotations

from typing import TYPE_CHECKING

from pumpsim._lazy import lazy_attributes

if TYPE_CHECKING:
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

# public name -> defining module, imported on first use (start-up stays fast)
_LAZY = {
    "ENDPOINTS": "pumpsim.patient.pd",
    "PROFILES": "pumpsim.patient.pd",
    "combined_effect": "pumpsim.patient.pd",
    "endpoint": "pumpsim.patient.pd",
    "sigmoid_emax": "pumpsim.patient.pd",
    "ANAPHYLAXIS": "pumpsim.patient.reactions",
    "VANCOMYCIN_RATE_RULE": "pumpsim.patient.reactions",
    "RateHistory": "pumpsim.patient.reactions",
    "RateRule": "pumpsim.patient.reactions",
    "Reaction": "pumpsim.patient.reactions",
    "anaphylaxis": "pumpsim.patient.reactions",
    "VITALS": "pumpsim.patient.vitals",
    "Baseline": "pumpsim.patient.vitals",
    "VitalsModel": "pumpsim.patient.vitals",
    "baseline_for": "pumpsim.patient.vitals",
    "first_crossing": "pumpsim.patient.vitals",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

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
