"""Linear compartment models as matrices.

A disposition model (:class:`Mammillary`: central compartment with up to two
peripheral ones and an optional effect site) and the absorption of each route
(:class:`Absorption`: parallel first-order pathways, each an optional transit
chain, with bioavailability and lag) are assembled into one linear system
``dx/dt = A·x + w`` (:class:`LinearPK`) that :mod:`pumpsim.pk.solver` steps
exactly. Parameters may be numpy arrays (one value per virtual patient); the
matrices then carry a leading patient axis.

State vector (amounts in the drug's amount unit, mg or IU, unless stated)::

    [depot states of each route..., central, peripheral 2, peripheral 3,
     effect site [amount/L], eliminated, not absorbed, AUC [amount·s/L]]

"eliminated" and "not absorbed" accumulate what left the body and what a
route's bioavailability F < 1 never let in, so that at every instant
``sum(amount states) == total input`` (mass balance).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Citation",
    "Mammillary",
    "Pathway",
    "Absorption",
    "IV",
    "LinearPK",
    "ModelSpec",
    "build_system",
]


@dataclass(frozen=True)
class Citation:
    """A published source: ``text`` in Vancouver style and its DOI if it has one."""

    key: str
    text: str
    doi: str | None = None

    def __str__(self) -> str:
        return f"{self.text} doi:{self.doi}" if self.doi else self.text


@dataclass(frozen=True)
class Mammillary:
    """Disposition parameters of a 1-, 2- or 3-compartment mammillary model.

    Volumes [L], clearances [L/min], ke0 [1/min]. A peripheral compartment is
    absent when its volume is None. Fields may be arrays of equal shape (one
    value per patient).
    """

    v1: Any
    cl1: Any
    v2: Any = None
    cl2: Any = None
    v3: Any = None
    cl3: Any = None
    ke0: Any = None

    @classmethod
    def from_rate_constants(
        cls,
        v1: Any,
        k10: float,
        k12: float = 0.0,
        k21: float = 0.0,
        k13: float = 0.0,
        k31: float = 0.0,
        ke0: float | None = None,
    ) -> Mammillary:
        """Build from micro rate constants [1/min] and V1 [L].

        V2 = V1·k12/k21, V3 = V1·k13/k31, CL1 = k10·V1, CL2 = k12·V1, CL3 = k13·V1.
        """
        v1 = np.asarray(v1, dtype=float)
        kw: dict[str, Any] = {"v1": v1, "cl1": k10 * v1, "ke0": ke0}
        if k12 and k21:
            kw.update(v2=v1 * k12 / k21, cl2=k12 * v1)
        if k13 and k31:
            kw.update(v3=v1 * k13 / k31, cl3=k13 * v1)
        return cls(**kw)

    def as_dict(self) -> dict[str, Any]:
        """The parameters that are present, as floats (or arrays)."""
        out = {}
        for name in ("v1", "v2", "v3", "cl1", "cl2", "cl3", "ke0"):
            value = getattr(self, name)
            if value is not None:
                arr = np.asarray(value, dtype=float)
                out[name] = float(arr) if arr.ndim == 0 else arr
        return out

    def scaled(self, factors: Mapping[str, Any]) -> Mammillary:
        """A copy with named parameters multiplied by ``factors`` (for variability)."""
        kw = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for name, f in factors.items():
            if kw.get(name) is not None:
                kw[name] = np.asarray(kw[name], dtype=float) * f
        return Mammillary(**kw)


@dataclass(frozen=True)
class Pathway:
    """One first-order absorption pathway from a dosing site.

    ``fraction`` of the dose takes this path; it passes through ``chain``
    compartments in series, each emptying with rate constant ``ka`` [1/min],
    then enters the central compartment.
    """

    fraction: float
    ka: float
    chain: int = 1

    @classmethod
    def from_half_life(cls, fraction: float, half_life_min: float, chain: int = 1) -> Pathway:
        """ka = ln 2 / t½ for absorption half-life ``half_life_min`` [min]."""
        return cls(fraction, np.log(2.0) / half_life_min, chain)


@dataclass(frozen=True)
class Absorption:
    """How a dose given by one route reaches the central compartment.

    No pathways means directly into the central compartment with
    bioavailability ``f_direct`` (IV: 1). Otherwise the bioavailability is the
    sum of the pathway fractions. ``lag`` [min] delays every input.
    """

    pathways: tuple[Pathway, ...] = ()
    lag: float = 0.0
    f_direct: float = 1.0
    citation: Citation | None = None

    @property
    def bioavailability(self) -> float:
        if not self.pathways:
            return self.f_direct
        return float(sum(p.fraction for p in self.pathways))


IV = Absorption()


@dataclass(frozen=True)
class LinearPK:
    """A linear PK system ``dx/dt = A·x + w`` ready for exact stepping.

    Attributes
    ----------
    states : tuple of str
        Names of the states, in order.
    A : ndarray, shape (..., n, n)
        System matrix [1/s].
    inputs : dict of str to ndarray, shape (..., n)
        Per route, the fraction of an input that enters each state.
    v1 : ndarray
        Central volume [L] (plasma concentration = x[central] / v1).
    lags : dict of str to float
        Per route, the input lag [s].
    """

    states: tuple[str, ...]
    A: np.ndarray
    inputs: dict[str, np.ndarray]
    v1: np.ndarray
    lags: dict[str, float] = field(default_factory=dict)

    def index(self, name: str) -> int:
        return self.states.index(name)

    @property
    def n(self) -> int:
        return len(self.states)

    @property
    def has_effect(self) -> bool:
        return "effect" in self.states

    @property
    def amount_states(self) -> list[int]:
        """Indices of the states holding drug amounts (for mass balance)."""
        return [i for i, s in enumerate(self.states) if s not in ("effect", "auc")]


def build_system(disp: Mammillary, routes: Mapping[str, Absorption]) -> LinearPK:
    """Assemble the system matrix of ``disp`` with a depot chain per route.

    Rates in ``disp`` and the pathways are per minute; the matrix is per second.
    """
    present = [np.asarray(v, dtype=float) for v in disp.as_dict().values()]
    batch = np.broadcast_shapes(*(p.shape for p in present))  # one system per patient
    v1 = np.broadcast_to(np.asarray(disp.v1, dtype=float), batch)
    names: list[str] = []
    depot_links: list[tuple[int, float]] = []  # (state index, ka) for each depot state
    route_entry: dict[str, list[tuple[int, float]]] = {}
    for route, absorption in routes.items():
        entries: list[tuple[int, float]] = []
        for p_idx, path in enumerate(absorption.pathways):
            for c in range(path.chain):
                names.append(f"depot.{route}.{p_idx}.{c}")
                depot_links.append((len(names) - 1, path.ka))
                if c == 0:
                    entries.append((len(names) - 1, path.fraction))
        route_entry[route] = entries
    # chains: each depot empties into the next depot of its pathway, or into central
    central = len(names)
    names.append("central")
    has2 = disp.v2 is not None
    has3 = disp.v3 is not None
    if has2:
        names.append("peripheral2")
    if has3:
        names.append("peripheral3")
    if disp.ke0 is not None:
        names.append("effect")
    names += ["eliminated", "not_absorbed", "auc"]
    n = len(names)
    idx = {s: i for i, s in enumerate(names)}
    A = np.zeros(batch + (n, n))
    per_min = 1.0 / 60.0

    def put(i: int, j: int, value: Any) -> None:
        A[..., i, j] += np.asarray(value, dtype=float) * per_min

    for state, ka in depot_links:
        put(state, state, -ka)
        name = names[state]
        d_route, d_path, chain_pos = name.split(".")[1:]
        nxt = f"depot.{d_route}.{d_path}.{int(chain_pos) + 1}"
        put(idx.get(nxt, central), state, ka)
    k10 = np.asarray(disp.cl1, dtype=float) / v1
    put(central, central, -k10)
    put(idx["eliminated"], central, k10)
    for comp, vol, cl in (("peripheral2", disp.v2, disp.cl2), ("peripheral3", disp.v3, disp.cl3)):
        if vol is None:
            continue
        p = idx[comp]
        k1p = np.asarray(cl, dtype=float) / v1
        kp1 = np.asarray(cl, dtype=float) / np.asarray(vol, dtype=float)
        put(central, central, -k1p)
        put(p, central, k1p)
        put(central, p, kp1)
        put(p, p, -kp1)
    if disp.ke0 is not None:
        e = idx["effect"]
        ke0 = np.asarray(disp.ke0, dtype=float)
        put(e, central, ke0 / v1)
        put(e, e, -ke0)
    A[..., idx["auc"], central] += 1.0 / v1

    inputs: dict[str, np.ndarray] = {}
    lags: dict[str, float] = {}
    for route, absorption in routes.items():
        vec = np.zeros(n)
        if absorption.pathways:
            for state, fraction in route_entry[route]:
                vec[state] += fraction
            f = absorption.bioavailability
        else:
            vec[central] = absorption.f_direct
            f = absorption.f_direct
        vec[idx["not_absorbed"]] = 1.0 - f
        inputs[route] = vec
        lags[route] = absorption.lag * 60.0
    return LinearPK(tuple(names), A, inputs, v1, lags)


@dataclass(frozen=True)
class ModelSpec:
    """A published PK parameter set, as data.

    Attributes
    ----------
    key : str
        Author and year, e.g. ``"schnider1998"``.
    drug : str
        The drug it describes.
    parameters : callable
        ``parameters(covariates) -> Mammillary``.
    citations : tuple of Citation
        Sources of every number the model uses.
    aliases : tuple of str
        Short names a scenario may use (``"schnider"``).
    check : callable, optional
        ``check(covariates) -> (errors, warnings)``: covariates outside what
        the model supports.
    variability : dict of str to float
        Inter-individual variability as the SD of log-parameter (ω), per
        Mammillary field.
    routes : dict of str to Absorption
        Absorption for each route the model has published data for
        (``"iv"`` always).
    description : str
        One line for tables and listings.
    """

    key: str
    drug: str
    parameters: Callable[[Any], Mammillary]
    citations: tuple[Citation, ...]
    aliases: tuple[str, ...] = ()
    check: Callable[[Any], tuple[list[str], list[str]]] | None = None
    variability: dict[str, float] = field(default_factory=dict)
    routes: dict[str, Absorption] = field(default_factory=lambda: {"iv": IV})
    description: str = ""
