"""Pure pharmacokinetics: compartment models, exact solution, published parameter sets.

Nothing here imports SimPy, pumps or matplotlib.
"""

from pumpsim.pk.covariates import Covariates
from pumpsim.pk.model import Absorption, Citation, LinearPK, Mammillary, ModelSpec, build_system
from pumpsim.pk.registry import DRUGS, Drug, get_drug, get_model, model_keys, models
from pumpsim.pk.solver import ExactSolver

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
