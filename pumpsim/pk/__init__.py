"""Pure pharmacokinetics: compartment models, exact solution, published parameter sets.

Nothing here imports SimPy, pumps or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pumpsim._lazy import lazy_attributes

if TYPE_CHECKING:
    from pumpsim.pk.covariates import Covariates
    from pumpsim.pk.model import Absorption, Citation, LinearPK, Mammillary, ModelSpec, build_system
    from pumpsim.pk.registry import DRUGS, Drug, get_drug, get_model, model_keys, models
    from pumpsim.pk.solver import ExactSolver

# public name -> defining module, imported on first use (start-up stays fast)
_LAZY = {
    "Covariates": "pumpsim.pk.covariates",
    "Absorption": "pumpsim.pk.model",
    "Citation": "pumpsim.pk.model",
    "LinearPK": "pumpsim.pk.model",
    "Mammillary": "pumpsim.pk.model",
    "ModelSpec": "pumpsim.pk.model",
    "build_system": "pumpsim.pk.model",
    "DRUGS": "pumpsim.pk.registry",
    "Drug": "pumpsim.pk.registry",
    "get_drug": "pumpsim.pk.registry",
    "get_model": "pumpsim.pk.registry",
    "model_keys": "pumpsim.pk.registry",
    "models": "pumpsim.pk.registry",
    "ExactSolver": "pumpsim.pk.solver",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "Absorption",
    "Citation",
    "Covariates",
    "DRUGS",
    "Drug",
    "ExactSolver",
    "LinearPK",
    "Mammillary",
    "ModelSpec",
    "build_system",
    "get_drug",
    "get_model",
    "model_keys",
    "models",
]
