"""Models with saturable (Michaelis–Menten) elimination, and their ODE solver.

Every other pumpsim model is linear and stepped exactly by
:class:`pumpsim.pk.solver.ExactSolver`. Heparin is not: its clearance falls as
its concentration rises (de Swart 1982), so its half-life grows with the dose.
Such a model is the linear system of :func:`pumpsim.pk.model.build_system`
(depots, central compartment with linear clearance CL1, peripherals) plus one
saturable elimination from the central compartment::

    dx/dt = A·x + w + s(x)·(e_eliminated − e_central)
    s(x)  = Vmax·V1·C/(Km + C),   C = x_central/V1                     [amount/min]

Vmax [amount/(L·min)], Km [amount/L]. The saturable loss is added to the
"eliminated" accumulator, so ``sum(amount states) == total input`` still holds
(a Runge–Kutta step preserves linear invariants, so to rounding).

:class:`NonlinearSolver` has the public methods of ``ExactSolver``
(``set_input``, ``add``, ``state``, ``advance``, ``sample``, ``t``) and
integrates with :func:`scipy.integrate.solve_ivp` between events (Radau, an
implicit method: fast absorption depots next to slow elimination make the system
stiff; rtol 1e-10), keeping each segment's dense output to sample any grid.

Saturable plasma protein binding (ceftriaxone) is the other nonlinearity: with
``bmax`` [amount/L] and ``kd`` [amount/L] the central amount is total drug,
bound to albumin as ``C_b = bmax·C_u/(kd + C_u)``, and every linear flux out of
the central compartment (clearance CL1, distribution CL2, CL3) carries the
unbound concentration ``C_u`` (:func:`unbound_concentration`, the root of
``C = C_u + bmax·C_u/(kd + C_u)``) instead of the total. The disposition's
clearances and peripheral volumes are then unbound quantities; the plasma
concentration reported is total, as assays measure it.

The engine must choose the solver by model type: use :func:`build` to turn a
spec into its system and :func:`make_solver` to get the right solver for it;
``ExactSolver(system.A)`` on a nonlinear system raises an error that says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pumpsim.pk.model import IV, Absorption, Citation, LinearPK, Mammillary, ModelSpec, build_system
from pumpsim.pk.solver import ExactSolver

__all__ = [
    "MichaelisMenten",
    "unbound_concentration",
    "NonlinearPK",
    "NonlinearSpec",
    "NonlinearSolver",
    "build",
    "make_solver",
]


@dataclass(frozen=True)
class MichaelisMenten:
    """A linear disposition plus saturable elimination from its central compartment.

    Attributes
    ----------
    disposition : Mammillary
        Volumes [L] and linear clearances [L/min]; ``cl1`` is the linear
        (first-order) part of the elimination.
    vmax : float or ndarray
        Maximal saturable elimination rate per litre of central volume
        [amount/(L·min)].
    km : float or ndarray
        Concentration at half the maximal saturable rate [amount/L].
    """

    disposition: Mammillary
    vmax: Any
    km: Any
    bmax: Any = None  # saturable plasma binding capacity [amount/L]; None: no binding
    kd: Any = None  # binding dissociation constant [amount/L] (unbound concentration)

    @property
    def v1(self) -> Any:
        return self.disposition.v1

    def _own(self) -> tuple[str, ...]:
        return ("vmax", "km") + (("bmax", "kd") if self.bmax is not None else ())

    def as_dict(self) -> dict[str, Any]:
        out = self.disposition.as_dict()
        for name in self._own():
            arr = np.asarray(getattr(self, name), dtype=float)
            out[name] = float(arr) if arr.ndim == 0 else arr
        return out

    def scaled(self, factors: Mapping[str, Any]) -> MichaelisMenten:
        """A copy with named parameters (Mammillary fields, ``vmax``, ``km``, ``bmax``,
        ``kd``) multiplied."""
        own = {k: factors[k] for k in self._own() if k in factors}
        rest = {k: v for k, v in factors.items() if k not in own}
        kw = {k: np.asarray(getattr(self, k), dtype=float) * f for k, f in own.items()}
        return MichaelisMenten(
            self.disposition.scaled(rest), kw.get("vmax", self.vmax), kw.get("km", self.km),
            kw.get("bmax", self.bmax), kw.get("kd", self.kd),
        )


def unbound_concentration(total: Any, bmax: Any, kd: Any) -> np.ndarray:
    """Unbound concentration [amount/L] at ``total`` for one saturable binding site.

    The positive root of ``C_u² + (bmax + kd − C)·C_u − kd·C = 0`` (from
    ``C = C_u + bmax·C_u/(kd + C_u)``), written to stay accurate when C ≪ kd.
    """
    c = np.maximum(np.asarray(total, dtype=float), 0.0)
    b = bmax + kd - c
    root = np.sqrt(b * b + 4.0 * kd * c)
    # C_u = (−b + root)/2 = 2·kd·C/(b + root): the second form avoids cancellation when b > 0
    return np.where(b > 0, 2.0 * kd * c / np.where(b + root > 0, b + root, 1.0), (root - b) / 2)


@dataclass(frozen=True)
class NonlinearPK:
    """A system ``dx/dt = A·x + w + s(x)`` with saturable elimination ``s``.

    Exposes what the engine reads from :class:`~pumpsim.pk.model.LinearPK`
    (``states``, ``inputs``, ``v1``, ``lags``, ``index()``, ``n``,
    ``amount_states``, ``has_effect``) but deliberately not ``A``: it cannot be
    stepped by the matrix exponential.
    """

    linear: LinearPK
    vmax: np.ndarray  # [amount/(L·min)], batch shape
    km: np.ndarray  # [amount/L], batch shape
    bmax: np.ndarray | None = None  # [amount/L], batch shape; None: no plasma binding
    kd: np.ndarray | None = None  # [amount/L], batch shape

    @property
    def states(self) -> tuple[str, ...]:
        return self.linear.states

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        return self.linear.inputs

    @property
    def v1(self) -> np.ndarray:
        return self.linear.v1

    @property
    def lags(self) -> dict[str, float]:
        return self.linear.lags

    def index(self, name: str) -> int:
        return self.linear.index(name)

    @property
    def n(self) -> int:
        return self.linear.n

    @property
    def has_effect(self) -> bool:
        return self.linear.has_effect

    @property
    def amount_states(self) -> list[int]:
        return self.linear.amount_states

    @property
    def state_shape(self) -> tuple[int, ...]:
        """Shape of the state vector: (batch..., n)."""
        return self.linear.A.shape[:-1]

    @property
    def A(self) -> np.ndarray:
        """Not available: raises, naming the solver to use instead."""
        raise TypeError(
            "this PK system has saturable elimination and no exact matrix solution: "
            "step it with pumpsim.pk.nonlinear.make_solver(system), not ExactSolver(system.A)"
        )

    def rhs(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """dx/dt [amount/s] at state ``x`` (..., n) with input ``w`` (..., n)."""
        dx = np.einsum("...ij,...j->...i", self.linear.A, x) + w
        central = self.linear.index("central")
        eliminated = self.linear.index("eliminated")
        conc = np.maximum(x[..., central], 0.0) / self.linear.v1
        rate = self.vmax * self.linear.v1 * conc / (self.km + conc) / 60.0
        dx[..., central] -= rate
        dx[..., eliminated] += rate
        if self.bmax is not None:  # fluxes out of central carry the unbound concentration
            bound = (conc - unbound_concentration(conc, self.bmax, self.kd)) * self.linear.v1
            dx -= self.linear.A[..., :, central] * bound[..., None]
        return dx


@dataclass(frozen=True)
class NonlinearSpec:
    """A published nonlinear PK model, as data: the counterpart of ModelSpec.

    ``parameters(covariates) -> MichaelisMenten``; the other attributes mean
    what they mean in :class:`~pumpsim.pk.model.ModelSpec`.
    """

    key: str
    drug: str
    parameters: Callable[[Any], MichaelisMenten]
    citations: tuple[Citation, ...]
    aliases: tuple[str, ...] = ()
    check: Callable[[Any], tuple[list[str], list[str]]] | None = None
    variability: dict[str, float] = field(default_factory=dict)
    routes: dict[str, Absorption] = field(default_factory=lambda: {"iv": IV})
    description: str = ""

    def build(self, covariates: Any, factors: Mapping[str, Any] | None = None) -> NonlinearPK:
        """The system for this patient (``factors`` scale parameters, for variability)."""
        mm = self.parameters(covariates)
        if factors:
            mm = mm.scaled(factors)
        own = [getattr(mm, k) for k in ("bmax", "kd") if getattr(mm, k) is not None]
        batch = np.broadcast_shapes(*(np.shape(p) for p in (mm.v1, mm.vmax, mm.km, *own)))
        disp = mm.disposition
        if np.shape(disp.v1) != batch:  # give the linear part the batch axis too
            disp = disp.scaled({"v1": np.ones(batch), "cl1": np.ones(batch)})
        linear = build_system(disp, self.routes)
        vmax = np.broadcast_to(np.asarray(mm.vmax, dtype=float), batch).copy()
        km = np.broadcast_to(np.asarray(mm.km, dtype=float), batch).copy()
        if mm.bmax is None:
            return NonlinearPK(linear, vmax, km)
        bmax = np.broadcast_to(np.asarray(mm.bmax, dtype=float), batch).copy()
        kd = np.broadcast_to(np.asarray(mm.kd, dtype=float), batch).copy()
        return NonlinearPK(linear, vmax, km, bmax, kd)


def build(
    spec: ModelSpec | NonlinearSpec, covariates: Any, factors: Mapping[str, Any] | None = None
) -> LinearPK | NonlinearPK:
    """The PK system of ``spec`` for ``covariates``, linear or not."""
    if isinstance(spec, NonlinearSpec):
        return spec.build(covariates, factors)
    disp = spec.parameters(covariates)
    if factors:
        disp = disp.scaled(factors)
    return build_system(disp, spec.routes)


def make_solver(
    model: LinearPK | NonlinearPK | ModelSpec | NonlinearSpec,
    covariates: Any = None,
    t0: float = 0.0,
) -> ExactSolver | NonlinearSolver:
    """The right solver for a system (or for a spec, built for ``covariates``).

    LinearPK -> :class:`~pumpsim.pk.solver.ExactSolver`; NonlinearPK ->
    :class:`NonlinearSolver`. Both have the same public methods.
    """
    if isinstance(model, (ModelSpec, NonlinearSpec)):
        model = build(model, covariates)
    if isinstance(model, NonlinearPK):
        return NonlinearSolver(model, t0)
    if isinstance(model, LinearPK):
        return ExactSolver(model.A, t0)
    raise TypeError(f"cannot make a PK solver for {type(model).__name__}")


@dataclass
class _Piece:
    t0: float
    t1: float
    sol: Any  # scipy OdeSolution on [t0, t1], flattened state


class _Constant:
    """A 'solution' that stays at ``x`` (the state after the last event)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __call__(self, ts: np.ndarray) -> np.ndarray:
        return np.repeat(self.x[:, None], np.size(ts), axis=1)


class NonlinearSolver:
    """Integrate a :class:`NonlinearPK` through events; the interface of ExactSolver.

    Between events the input is constant and the state follows ``solve_ivp``
    (``method``, ``rtol``, ``atol``); each segment keeps its dense output, so
    :meth:`sample` can read any increasing grid afterwards.
    """

    def __init__(
        self,
        system: NonlinearPK,
        t0: float = 0.0,
        rtol: float = 1e-10,
        atol: float = 1e-9,
        method: str = "Radau",
    ) -> None:
        self.system = system
        self.n = system.n
        self._shape = system.state_shape
        self._x = np.zeros(self._shape)
        self._w = np.zeros(self._shape)
        self.t = float(t0)
        self._t0 = float(t0)
        self._pieces: list[_Piece] = []
        self._opts = {"rtol": rtol, "atol": atol, "method": method}

    # -- stepping -----------------------------------------------------------------
    def _integrate(
        self, t0: float, t1: float, x0: np.ndarray, w: np.ndarray
    ) -> tuple[Any, np.ndarray]:
        """Dense solution on [t0, t1] and the state at t1."""
        shape = self._shape

        def f(_t: float, y: np.ndarray) -> np.ndarray:
            return self.system.rhs(y.reshape(shape), w).reshape(-1)

        from scipy.integrate import solve_ivp

        res = solve_ivp(f, (t0, t1), x0.reshape(-1), dense_output=True, **self._opts)
        if not res.success:
            raise RuntimeError(f"PK integration failed from {t0} s to {t1} s: {res.message}")
        return res.sol, res.y[:, -1].reshape(shape)

    def advance(self, t: float) -> None:
        """Move the state forward to time ``t`` [s] with the current input."""
        t = float(t)
        dt = t - self.t
        if dt < -1e-9:
            raise ValueError(f"cannot step back in time from {self.t} s to {t} s")
        if dt > 0:
            sol, x_end = self._integrate(self.t, t, self._x, self._w.copy())
            self._pieces.append(_Piece(self.t, t, sol))
            self._x = x_end
            self.t = t

    def set_input(self, t: float, w: np.ndarray) -> None:
        """From time ``t`` [s] on, the input rate is ``w`` [amount/s per state]."""
        self.advance(t)
        self._w = np.broadcast_to(np.asarray(w, dtype=float), self._shape).copy()

    def add(self, t: float, dx: np.ndarray) -> None:
        """Add ``dx`` to the state at time ``t`` [s] (a bolus)."""
        self.advance(t)
        self._x = self._x + dx

    @property
    def input(self) -> np.ndarray:
        return self._w.copy()

    def state(self, t: float | None = None) -> np.ndarray:
        """The state at time ``t`` (default: now); advances the solver to ``t``."""
        if t is not None:
            self.advance(t)
        return self._x.copy()

    # -- output -------------------------------------------------------------------
    def sample(self, grid: Sequence[float] | np.ndarray) -> np.ndarray:
        """States on an increasing ``grid`` [s], shape (..., K, n).

        A grid point at the exact time of an event shows the state just after
        it. Points past the last event continue with the last input (without
        moving the solver).
        """
        grid = np.asarray(grid, dtype=float)
        out = np.empty(self._shape[:-1] + (grid.size, self.n))
        if grid.size == 0:
            return out
        if np.any(np.diff(grid) < 0):
            raise ValueError("sample() needs an increasing grid")
        if grid[0] < self._t0 - 1e-9:
            raise ValueError("grid starts before the first segment")
        pieces = list(self._pieces)
        if grid[-1] > self.t:
            end = float(grid[-1])
            sol, _ = self._integrate(self.t, end, self._x, self._w)
            pieces.append(_Piece(self.t, end, sol))
        else:
            pieces.append(_Piece(self.t, self.t, _Constant(self._x.reshape(-1))))
        starts = np.array([p.t0 for p in pieces])
        which = np.clip(np.searchsorted(starts, grid, side="right") - 1, 0, None)
        for k in np.unique(which):
            sel = which == k
            piece = pieces[k]
            ts = np.clip(grid[sel], piece.t0, max(piece.t1, piece.t0))
            vals = np.asarray(piece.sol(ts)).reshape(self._shape + (ts.size,))
            out[..., sel, :] = np.moveaxis(vals, -1, -2)
        return out
