"""Exact piecewise solution of a linear system with piecewise-constant input.

Between two events the input ``w`` is constant, so the state of
``dx/dt = A·x + w`` follows exactly from the matrix exponential of the
augmented system::

    d/dt [x; w] = [[A, I], [0, 0]] · [x; w]   =>   [x; w](t+τ) = exp(M·τ) · [x; w](t)

(Van Loan 1978; Moler & Van Loan, SIAM Review 2003;45:3–49,
doi:10.1137/S00361445024180). No step size, no truncation error: the only
error is floating-point rounding of ``scipy.linalg.expm``.

Output on a uniform grid is evaluated per segment in O(log K) vectorised
matrix products: with Φ = exp(M·Δt), the states at K consecutive grid points
are ``Φ^k·z0``, built by doubling (``Z[m:2m] = Φ^m·Z[0:m]``).

Matrices may carry a leading batch axis (one system per virtual patient);
every operation broadcasts over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pumpsim.pk.blas import single_threaded

__all__ = ["ExactSolver", "expm_batched", "powers_apply"]


def powers_apply(phi: np.ndarray, z0: np.ndarray, k: int) -> np.ndarray:
    """Return ``Z`` with ``Z[..., i, :] = phi^i · z0`` for ``i = 0..k-1``.

    Parameters
    ----------
    phi : ndarray, shape (..., m, m)
    z0 : ndarray, shape (..., m)
    k : int
        Number of points.
    """
    m = z0.shape[-1]
    out = np.empty(z0.shape[:-1] + (k, m))
    if k == 0:
        return out
    out[..., 0, :] = z0
    power = phi
    filled = 1
    while filled < k:
        take = min(filled, k - filled)
        # rows are state vectors: Z_new = Z_old · powerᵀ
        out[..., filled : filled + take, :] = out[..., :take, :] @ np.swapaxes(power, -1, -2)
        filled += take
        if filled < k:
            power = power @ power
    return out


#: Padé [13/13] coefficients and the 1-norm bound below which it is accurate to double
#: precision without scaling (docs/references.md [Higham2005], Table 2.3 and eq. 2.1)
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)  # fmt: skip
_THETA13 = 5.371920351148152


def expm_batched(M: np.ndarray) -> np.ndarray:
    """The matrix exponential of ``M`` (shape (..., m, m)).

    One matrix: :func:`scipy.linalg.expm`. A batch (one matrix per virtual
    patient): scaling and squaring with the [13/13] Padé approximant
    (docs/references.md [Higham2005]) in batched NumPy products and one batched
    solve, instead of SciPy's loop over the matrices; each matrix gets its own
    scaling, so each result is what the same algorithm gives that matrix alone.
    """
    if M.ndim == 2:
        from scipy.linalg import expm

        return np.asarray(expm(M))
    norm = np.max(np.sum(np.abs(M), axis=-2), axis=-1)  # 1-norm of each matrix
    with np.errstate(divide="ignore"):
        s = np.maximum(0, np.ceil(np.log2(norm / _THETA13))).astype(int)
    A = M / (2.0 ** s)[..., None, None]
    b = _PADE13
    eye = np.broadcast_to(np.eye(M.shape[-1]), M.shape)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2)
             + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)  # fmt: skip
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    R = np.linalg.solve(V - U, V + U)
    for j in range(int(s.max(initial=0))):  # undo the scaling: square s times, each its own
        square = R @ R
        R = np.where((j < s)[..., None, None], square, R)
    return R


@dataclass
class _Segment:
    t: float
    z: np.ndarray  # augmented state [x; w] at the start of the segment


class ExactSolver:
    """Advance ``dx/dt = A·x + w`` exactly through events and sample it on a grid.

    Use :meth:`set_input` when the input changes, :meth:`add` for an
    instantaneous dose, :meth:`state` to read the state at any event time,
    and :meth:`sample` at the end for a uniform output grid.
    """

    def __init__(self, A: np.ndarray, t0: float = 0.0) -> None:
        A = np.asarray(A, dtype=float)
        self.n = A.shape[-1]
        batch = A.shape[:-2]
        n = self.n
        M = np.zeros(batch + (2 * n, 2 * n))
        M[..., :n, :n] = A
        M[..., :n, n:] = np.eye(n)
        self._M = M
        self._cache: dict[float, np.ndarray] = {}
        self.t = float(t0)
        self._z = np.zeros(batch + (2 * n,))
        self._segments: list[_Segment] = [_Segment(self.t, self._z.copy())]

    # -- stepping -----------------------------------------------------------------
    def _phi(self, dt: float) -> np.ndarray:
        phi = self._cache.get(dt)
        if phi is None:
            phi = expm_batched(self._M * dt)
            if len(self._cache) < 256:
                self._cache[dt] = phi
        return phi

    @staticmethod
    def _apply(phi: np.ndarray, z: np.ndarray) -> np.ndarray:
        if z.ndim == 1:  # one patient: a plain matrix-vector product (the per-event case)
            return phi @ z
        return np.einsum("...ij,...j->...i", phi, z)

    def advance(self, t: float) -> None:
        """Move the state forward to time ``t`` [s] with the current input."""
        dt = float(t) - self.t
        if dt < -1e-9:
            raise ValueError(f"cannot step back in time from {self.t} s to {t} s")
        if dt > 0:
            self._z = self._apply(self._phi(dt), self._z)
        self.t = max(self.t, float(t))

    def _mark(self) -> None:
        last = self._segments[-1]
        if last.t == self.t:
            last.z = self._z.copy()
        else:
            self._segments.append(_Segment(self.t, self._z.copy()))

    def set_input(self, t: float, w: np.ndarray) -> None:
        """From time ``t`` [s] on, the input rate is ``w`` [amount/s per state]."""
        self.advance(t)
        self._z[..., self.n :] = w
        self._mark()

    def add(self, t: float, dx: np.ndarray) -> None:
        """Add ``dx`` to the state at time ``t`` [s] (a bolus)."""
        self.advance(t)
        self._z[..., : self.n] += dx
        self._mark()

    @property
    def input(self) -> np.ndarray:
        return self._z[..., self.n :].copy()

    def state(self, t: float | None = None) -> np.ndarray:
        """The state at time ``t`` (default: now); advances the solver to ``t``."""
        if t is not None:
            self.advance(t)
        return self._z[..., : self.n].copy()

    # -- output -------------------------------------------------------------------
    def _pieces(self, grid: np.ndarray) -> list[tuple[int, int, _Segment]]:
        """Split the grid into runs of points inside one segment: (first, stop, segment)."""
        starts = np.array([s.t for s in self._segments])
        # segment index of each grid point (right-continuous at event times)
        seg_of = np.searchsorted(starts, grid, side="right") - 1
        if seg_of[0] < 0:
            raise ValueError("grid starts before the first segment")
        bounds = np.flatnonzero(np.diff(seg_of)) + 1
        firsts = np.concatenate(([0], bounds))
        stops = np.concatenate((bounds, [grid.size]))
        pairs = zip(firsts, stops, strict=True)
        return [(int(a), int(b), self._segments[seg_of[a]]) for a, b in pairs]

    @staticmethod
    def _step(grid: np.ndarray) -> float:
        if grid.size < 2:
            return 1.0
        steps = np.diff(grid)
        dt = float(steps[0])
        if not np.allclose(steps, dt, rtol=1e-9, atol=1e-9):
            raise ValueError("sample() needs a uniform grid")
        return dt

    def _one_patient(self) -> ExactSolver | None:
        """A single-system copy when every patient of the batch is the same system
        with the same history (a model without variability), else None."""
        batch = self._z.shape[:-1]
        if not batch:
            return None
        first = (0,) * len(batch)
        if not (self._M == self._M[first]).all():
            return None
        if not all((s.z == s.z[first]).all() for s in self._segments):
            return None
        return self._derived(self._M[first][: self.n, : self.n], lambda z: z[first])

    def _restricted(self, keep: np.ndarray) -> ExactSolver | None:
        """The same solver on the states ``keep`` only, if no other state feeds them
        (accumulators such as eliminated amount and AUC feed nothing), else None."""
        n = self.n
        drop = np.setdiff1d(np.arange(n), keep)
        if drop.size == 0 or np.any(self._M[..., keep[:, None], drop[None, :]]):
            return None
        idx = np.concatenate((keep, n + keep))
        return self._derived(self._M[..., keep[:, None], keep[None, :]], lambda z: z[..., idx])

    def _derived(self, A: np.ndarray, pick: Callable[[np.ndarray], np.ndarray]) -> ExactSolver:
        """A solver for matrix ``A`` whose history is ``pick`` of each saved state."""
        sub = ExactSolver(A, self._segments[0].t)
        sub._segments = [_Segment(s.t, pick(s.z).copy()) for s in self._segments]
        sub._z, sub.t = pick(self._z).copy(), self.t
        return sub

    @single_threaded
    def sample(
        self,
        grid: np.ndarray,
        outputs: np.ndarray | None = None,
        dynamic: list[int] | None = None,
    ) -> np.ndarray:
        """States (or outputs ``outputs @ x``) on a uniform, increasing ``grid`` [s].

        Returns shape (..., K, n), or (..., K, m) for an ``outputs`` matrix of
        shape (m, n). A grid point at the exact time of an event shows the
        state just after it. Points past the last event continue with the
        last input. The work is done in blocks of grid points, so memory stays
        bounded for long grids and many patients. Identical patients are
        solved once and copied. With ``dynamic`` (the states that feed back)
        and ``outputs`` that read only those, the other states are left out
        of the work: the answer is the same, the matrices smaller.
        """
        one = self._one_patient()
        if one is not None:
            y = one.sample(grid, outputs, dynamic)
            return np.broadcast_to(y, self._z.shape[:-1] + y.shape).copy()
        if dynamic is not None and outputs is not None:
            keep = np.unique(np.asarray(dynamic, dtype=int))
            others = np.setdiff1d(np.arange(self.n), keep)
            sub = None if np.any(outputs[:, others]) else self._restricted(keep)
            if sub is not None:
                return sub.sample(grid, outputs[:, keep])
        grid = np.asarray(grid, dtype=float)
        k_total = grid.size
        batch = self._z.shape[:-1]
        m = self.n if outputs is None else outputs.shape[0]
        out = np.empty(batch + (k_total, m))
        if k_total == 0:
            return out
        dt = self._step(grid)
        phi_dt = self._phi(dt)
        patients = int(np.prod(batch)) if batch else 1
        block = max(64, int(2**22 // (patients * 2 * self.n)))
        for a, b, seg in self._pieces(grid):
            z = self._apply(self._phi(float(grid[a] - seg.t)), seg.z)
            for c in range(a, b, block):
                d = min(c + block, b)
                zs = powers_apply(phi_dt, z, d - c + 1)
                x = zs[..., : d - c, : self.n]
                out[..., c:d, :] = x if outputs is None else x @ outputs.T
                z = zs[..., d - c, :]
        return out

    def value_at(self, t: float, row: np.ndarray) -> np.ndarray:
        """``row · x(t)`` at one time ``t`` [s], exactly (does not advance the solver).

        Like :meth:`sample`, right-continuous at event times and continuing
        the last input past the last event.
        """
        starts = [s.t for s in self._segments]
        i = int(np.searchsorted(starts, t, side="right")) - 1
        if i < 0:
            raise ValueError(f"{t} s is before the first segment")
        seg = self._segments[i]
        z = self._apply(self._phi(float(t) - seg.t), seg.z)
        return z[..., : self.n] @ np.asarray(row, dtype=float)

    def first_crossing(
        self, t0: float, t1: float, row: np.ndarray, level: float, step: float = 10.0
    ) -> float | None:
        """First time in (t0, t1] [s] at which ``row · x`` crosses ``level``, or None.

        The exact solution is sampled on a grid of spacing <= ``step`` [s]
        from ``t0``; the first interval whose ends lie on opposite sides of
        ``level`` (relative to the side at ``t0``) is refined with
        :func:`scipy.optimize.brentq` on :meth:`value_at` to 1e-6 s. Inputs
        after the last event are taken as continuing, so a caller re-asks
        whenever an input changes. A crossing and re-crossing inside one step
        is not seen. One system only (no patient axis).
        """
        from scipy.optimize import brentq

        if self._z.ndim != 1:
            raise ValueError("first_crossing works on a single system, not a population")
        if t1 <= t0:
            return None
        row = np.asarray(row, dtype=float)
        k = max(2, int(np.ceil((t1 - t0) / step)) + 1)
        grid = np.linspace(t0, t1, k)
        g = self.sample(grid, row[None, :])[:, 0] - level
        side = np.sign(g[0])
        if side == 0:  # on the level at t0: the first departure decides the side
            off = np.flatnonzero(g != 0)
            if off.size == 0:
                return None
            side = np.sign(g[off[0]])
            g[: off[0]] = side
        flipped = np.flatnonzero(np.sign(g) == -side)
        if flipped.size == 0:
            return None
        j = int(flipped[0])

        def f(t: float) -> float:
            return float(self.value_at(t, row)) - level

        a, b = float(grid[j - 1]), float(grid[j])
        if f(a) * f(b) > 0:  # rounding at a bracket end
            return b
        return float(brentq(f, a, b, xtol=1e-6))

    @single_threaded
    def sample_modal(
        self, grid: np.ndarray, outputs: np.ndarray, dynamic: list[int], max_cond: float = 1e8
    ) -> np.ndarray:
        """Outputs on ``grid`` by eigen-decomposition: fast for many patients.

        Only the ``dynamic`` states (those that feed back: depots, central,
        peripheral, effect; not accumulators) enter. With ``A_d = V·Λ·V⁻¹`` and
        constant input ``w`` in a segment, ``x(τ) = x_ss + V·(e^{Λτ} ⊙ V⁻¹(x0 − x_ss))``
        with ``x_ss = −A_d⁻¹·w``, so each output is a sum of exponentials
        evaluated on the whole segment at once. Compartmental systems have real
        eigenvalues; a defective or ill-conditioned system (repeated rates, as
        in a transit chain) raises ValueError so the caller uses :meth:`sample`.
        """
        one = self._one_patient()
        if one is not None:
            y = one.sample(grid, outputs)
            return np.broadcast_to(y, self._z.shape[:-1] + y.shape).copy()
        grid = np.asarray(grid, dtype=float)
        self._step(grid)
        n = self.n
        dyn = np.asarray(dynamic)
        A = self._M[..., :n, :n][..., dyn[:, None], dyn[None, :]]
        lam, vec = np.linalg.eig(A)
        if np.max(np.abs(lam.imag)) > 1e-9 * max(1.0, float(np.max(np.abs(lam.real)))):
            raise ValueError("complex eigenvalues: not a compartmental system")
        lam, vec = lam.real, vec.real
        if np.max(np.linalg.cond(vec)) > max_cond:
            raise ValueError("ill-conditioned eigenvectors (repeated rates)")
        vinv = np.linalg.inv(vec)
        cv = np.einsum("mi,...ij->...mj", outputs[:, dyn], vec)
        batch = self._z.shape[:-1]
        # outputs-major storage: each output's (patients, times) block is contiguous
        out = np.empty(batch + (outputs.shape[0], grid.size))
        patients = int(np.prod(batch)) if batch else 1
        # blocks of ~2^19 numbers keep the exponentials in cache (measured fastest)
        block = max(16, int(2**19 // (patients * len(dyn))))
        buf = np.empty(lam.shape + (block,))
        # e^{λ·k·Δt} for one block, computed once: each block is then this times e^{λ·τ_c}
        steps = np.exp(lam[..., :, None] * (np.arange(block) * self._step(grid)))
        for a, b, seg in self._pieces(grid):
            x0 = seg.z[..., :n][..., dyn]
            w = seg.z[..., n:][..., dyn]
            x_ss = -np.linalg.solve(A, w[..., None])[..., 0]
            q0 = np.einsum("...ij,...j->...i", vinv, x0 - x_ss)
            y_ss = x_ss @ outputs[:, dyn].T  # (..., m)
            coef = cv * q0[..., None, :]  # (..., m, i)
            for c in range(a, b, block):
                d = min(c + block, b)
                e = buf[..., : d - c]
                np.multiply(steps[..., : d - c], np.exp(lam * (grid[c] - seg.t))[..., None], out=e)
                np.add(coef @ e, y_ss[..., :, None], out=out[..., c:d])
        return np.swapaxes(out, -1, -2)
