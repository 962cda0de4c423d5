"""The registry of PK models and the drugs they describe.

Models are chosen by key (author + year, ``"schnider1998"``) or alias
(``"schnider"``); each drug names its default model. No if/elif chain: a new
parameter module registers itself by being listed in
:data:`pumpsim.pk.params.MODULES`.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from pumpsim.pk.drugs import DRUGS, Drug
from pumpsim.pk.model import ModelSpec
from pumpsim.pk.nonlinear import NonlinearSpec
from pumpsim.pk.params import MODULES

__all__ = ["Drug", "DRUGS", "models", "get_model", "get_drug", "model_keys"]


@lru_cache(maxsize=1)
def models() -> dict[str, ModelSpec]:
    """Every registered model by key and by alias."""
    table: dict[str, ModelSpec] = {}
    for name in MODULES:
        module = importlib.import_module(f"pumpsim.pk.params.{name}")
        for value in vars(module).values():
            if isinstance(value, (ModelSpec, NonlinearSpec)):
                for key in (value.key, *value.aliases):
                    if key in table and table[key] is not value:
                        raise RuntimeError(f"PK model key {key!r} registered twice")
                    table[key] = value  # type: ignore[assignment]  # NonlinearSpec too
    return table


def model_keys(drug: str | None = None) -> list[str]:
    """Canonical model keys, for one drug or all."""
    return sorted({m.key for m in models().values() if drug is None or m.drug == drug})


def get_drug(name: str) -> Drug:
    """The drug called ``name``; KeyError lists the known ones."""
    try:
        return DRUGS[name]
    except KeyError:
        raise KeyError(f"unknown drug {name!r}; known: {', '.join(sorted(DRUGS))}") from None


def get_model(drug: str, key: str | None = None) -> ModelSpec:
    """The model ``key`` (or the drug's default) for ``drug``."""
    d = get_drug(drug)
    key = key or d.default_model
    if key is None:
        raise KeyError(f"drug {drug!r} has no PK model")
    spec = models().get(key)
    if spec is None or spec.drug != drug:
        raise KeyError(
            f"unknown pk_model {key!r} for {drug}; allowed: {', '.join(model_keys(drug))}"
        )
    return spec
