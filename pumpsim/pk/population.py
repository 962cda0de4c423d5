"""Virtual populations: inter-individual variability as published, vectorised.

Each model's ``variability`` gives, per parameter, the standard deviation ω of
its logarithm (log-normal inter-individual variability, as NONMEM-style PK
papers report it: ``P_i = P_typical · exp(η_i)``, ``η_i ~ N(0, ω²)``). A CV
reported on the natural scale converts as ``ω = sqrt(ln(1 + CV²))``.
The factors ``exp(η)`` are arrays, one value per patient, so the whole
population is simulated as one batched system.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["sample_factors", "omega_from_cv", "varied_parameters", "with_variability"]


def omega_from_cv(cv: float) -> float:
    """SD of log-parameter for a coefficient of variation ``cv`` (0.1 = 10 %)."""
    return float(np.sqrt(np.log1p(cv**2)))


#: every parameter a population can vary, in the fixed order of its η draws
PARAMETERS = ("v1", "v2", "v3", "cl1", "cl2", "cl3", "ke0", "vmax", "km")


def sample_factors(spec: Any, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``exp(η)`` for each varied parameter of ``spec``, shape (n,).

    One standard normal row is drawn for every name in :data:`PARAMETERS`,
    varied or not, so each parameter's η for a seed does not depend on which
    others are varied: adding a CV to one parameter leaves every patient's
    other parameters as they were (paired "what if" runs).

    Parameters
    ----------
    spec : ModelSpec
        A PK model; ``spec.variability`` maps parameter -> ω (SD of its log) [-].
    n : int
        Number of virtual patients.
    rng : numpy.random.Generator
        The run's generator (no global random state).

    Returns
    -------
    dict of str to ndarray
        Multiplicative factors ``exp(η_i)`` [-], ``η_i ~ N(0, ω²)``.

    References
    ----------
    Published ω per model: docs/references.md [Schnider1998] [Eleveld2018]
    [Minto1997] (the key each model cites).
    """
    unknown = sorted(set(spec.variability) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"{spec.key}: cannot vary {', '.join(unknown)}")
    z = rng.standard_normal((len(PARAMETERS), n))
    return {name: np.exp(z[i] * spec.variability[name])
            for i, name in enumerate(PARAMETERS) if name in spec.variability}  # fmt: skip


def varied_parameters(spec: Any, covariates: Any) -> list[str]:
    """Names of the parameters a population can vary for ``spec`` and this patient
    (those the model has: V1..CL3, ke0 with an effect site, Vmax and Km if saturable)."""
    return list(spec.parameters(covariates).as_dict())


def with_variability(spec: Any, cvs: dict[str, float]) -> Any:
    """``spec`` with user variability ``cvs`` (parameter -> CV [%]) added or replacing."""
    user = {name: omega_from_cv(cv / 100.0) for name, cv in cvs.items()}
    return dataclasses.replace(spec, variability={**spec.variability, **user})
