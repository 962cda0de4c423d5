"""Target-controlled infusion (TCI): the pump's own PK model and the rate it commands.

A TCI pump carries a pharmacokinetic model in its firmware (Diprifusor: Marsh; Base
Primea and Alaris PK: Marsh, Schnider, Minto...). It builds the model from the patient
as keyed in (age, weight, height, sex), and every ``update`` seconds it computes the
rate that brings the model's plasma or effect-site concentration to the target. The
simulated patient keeps its own model and parameters (a virtual population differs
from the firmware's typical patient), so what the pump predicts and what the patient
has can differ: that difference is what :mod:`pumpsim.analysis.tci_metrics` measures.

This module may import the pure model functions of :mod:`pumpsim.pk` (the firmware's
model), never the patient's PK instance (docs/design.md).

Algorithms (docs/references.md [Shafer1992], [Jacobs1990], [VanPoucke2004]):

* **plasma**: over the next interval Δ the rate R is constant, and the plasma
  concentration at its end is ``Cp_free(Δ) + R·Cp_unit(Δ)`` (free decay of the current
  state plus the response to a unit rate). R is chosen so that this equals the target
  (Shafer & Gregg 1992); for a one-compartment model this gives the closed form
  ``R0 = CL·C_T/(1 − e^{−kΔ})`` then ``R = CL·C_T`` exactly (the limit Δ → 0 of the first
  interval is the bolus V·C_T).
* **effect**: R over the next Δ (zero after) is the largest rate whose effect-site curve
  ``Ce_free(τ) + R·Ce_unit(τ)`` does not exceed the target at any later τ, i.e. ``R =
  min_τ (C_T − Ce_free(τ)) / Ce_unit(τ)``: the peak of the effect-site curve touches the
  target (Shafer & Gregg 1992; Jacobs 1990's search for the time of peak effect). The
  minimum is found on a grid of the look-ahead horizon and refined on three finer grids
  around it (sums of exponentials, vectorised). Once the effect site has reached the
  target (at its peak Cp = Ce = target), the rate is the smaller of that rate and the
  plasma rate for the same target: this holds both at the target, where the effect-site
  rule alone alternates between a burst and zero on successive intervals (pumpsim's
  choice for maintenance, documented here). Van Poucke 2004's plasma-overshoot limit is
  available as ``plasma_limit`` (a multiple of the target; None: no limit).

R is clipped to [0, the pump's maximum rate]; the model is advanced with the rate the
motor was actually commanded (a rate the pump could not give, a stop by an alarm, an
empty syringe), so the predicted concentration follows what was delivered as the
firmware knows it. Mechanical start-up delay and dead volume are not in the firmware's
model: that is why a TCI through an unpurged 50 mL syringe at low rate lags its
prediction.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import expm
from scipy.optimize import minimize_scalar  # tpeak only

from pumpsim.pk.model import Mammillary
from pumpsim.pk.registry import get_drug, get_model
from pumpsim.pump.controller import Hardware, OperatorInput, PumpConfig
from pumpsim.pump.reference import ReferenceController

__all__ = ["FirmwareModel", "plasma_rate", "effect_rate", "TciController", "firmware_model"]

_PLASMA, _EFFECT = 0, 3


class FirmwareModel:
    """A 1-3 compartment mammillary model with an effect site, as a TCI pump holds it.

    States: central, peripheral 2, peripheral 3 amounts [amount], effect-site
    concentration [amount/L]; absent compartments have zero exchange. Time [s],
    input an amount rate [amount/s] into the central compartment.

    Parameters
    ----------
    params : Mammillary
        Volumes [L], clearances [L/min], ke0 [1/min] (scalars).
    """

    def __init__(self, params: Mammillary) -> None:
        p = params.as_dict()
        if any(np.ndim(v) for v in p.values()):
            raise ValueError("a firmware model has one patient: scalar parameters only")
        self.params = params
        self.v1 = float(p["v1"])
        self.ke0 = p.get("ke0")
        per_s = 1.0 / 60.0
        A = np.zeros((4, 4))
        A[0, 0] = -p["cl1"] / self.v1
        for i, (v, cl) in ((1, ("v2", "cl2")), (2, ("v3", "cl3"))):
            if v in p and cl in p:
                k1p, kp1 = p[cl] / self.v1, p[cl] / p[v]
                A[0, 0] -= k1p
                A[i, 0] += k1p
                A[0, i] += kp1
                A[i, i] -= kp1
            else:  # absent: a decoupled state that stays empty (keeps A diagonalisable)
                A[i, i] = -1.0 - i
        if self.ke0 is not None:
            A[3, 0] = self.ke0 / self.v1
            A[3, 3] = -self.ke0
        else:
            A[3, 3] = -4.0  # an unused, decoupled state keeps the matrix diagonalisable
        self.A = A * per_s
        self.b = np.array([1.0, 0.0, 0.0, 0.0])
        lam, vec = np.linalg.eig(self.A)
        self._lam = lam.real
        self._V = vec.real
        self._Vinv = np.linalg.inv(self._V)
        self._beta = self._Vinv @ self.b
        # the eigen-solution must reproduce the matrix exponential (else a defective matrix)
        probe = self.propagate(np.array([1.0, 0.5, 0.25, 0.1]), np.array([60.0]), 0.3)[0]
        aug = np.zeros((5, 5))
        aug[:4, :4], aug[:4, 4] = self.A * 60.0, self.b * 60.0
        ref = (expm(aug) @ np.array([1.0, 0.5, 0.25, 0.1, 0.3]))[:4]
        if np.max(np.abs(lam.imag)) > 0 or not np.allclose(probe, ref, rtol=1e-9, atol=1e-12):
            raise ValueError("firmware model: the system matrix is not diagonalisable")

    @property
    def has_effect(self) -> bool:
        return self.ke0 is not None

    def propagate(self, x: np.ndarray, tau: np.ndarray, rate: Any) -> np.ndarray:
        """States after ``tau`` [s] (array) from ``x`` with constant ``rate`` [amount/s]
        (a scalar or one per ``tau``): shape (len(tau), 4)."""
        tau = np.asarray(tau, dtype=float)
        e = np.exp(np.multiply.outer(tau, self._lam))
        z0 = np.asarray(x, dtype=float) @ self._Vinv.T
        r = np.asarray(rate, dtype=float)
        gain = (e - 1.0) / self._lam * self._beta
        z = e * z0 + (gain * r[..., None] if r.ndim else gain * r)
        out: np.ndarray = z @ self._V.T
        return out

    def plasma(self, x: np.ndarray) -> Any:
        """Plasma concentration [amount/L] of state(s) ``x``."""
        return np.asarray(x)[..., _PLASMA] / self.v1

    def effect(self, x: np.ndarray) -> Any:
        """Effect-site concentration [amount/L] of state(s) ``x``."""
        return np.asarray(x)[..., _EFFECT]

    def tpeak(self, duration: float = 1e-3) -> float:
        """Time [s] of the effect-site peak after a short infusion of ``duration`` [s]
        (a bolus in the limit), from its start."""
        x1 = self.propagate(np.zeros(4), np.array([duration]), 1.0)[0]
        f = lambda t: -float(self.effect(self.propagate(x1, np.array([t]), 0.0)[0]))  # noqa: E731
        hi = 20.0 * 60.0 / float(self.ke0 or 1.0)
        grid = np.linspace(0.0, hi, 4001)
        k = int(np.argmax(self.effect(self.propagate(x1, grid, 0.0))))
        lo, up = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
        res = minimize_scalar(f, bounds=(lo, up), method="bounded", options={"xatol": 1e-7})
        return float(res.x) + duration


def firmware_model(drug: str, key: str | None, covariates: Any) -> FirmwareModel:
    """The firmware's model ``key`` (or the drug's default) of ``drug`` for the patient
    as keyed in (``covariates``: a :class:`pumpsim.pk.Covariates`)."""
    spec = get_model(drug, key)
    if not hasattr(spec, "parameters"):
        raise ValueError(f"{spec.key} is not a linear compartment model; TCI needs one")
    return FirmwareModel(spec.parameters(covariates))


def plasma_rate(model: FirmwareModel, x: np.ndarray, target: float, dt: float) -> float:
    """Shafer & Gregg 1992: the constant rate [amount/s] over the next ``dt`` [s] that
    brings the plasma concentration to ``target`` [amount/L] at its end (unclipped)."""
    free = float(model.plasma(model.propagate(x, np.array([dt]), 0.0)[0]))
    unit = float(model.plasma(model.propagate(np.zeros(4), np.array([dt]), 1.0)[0]))
    return (target - free) / unit


def effect_rate(
    model: FirmwareModel,
    x: np.ndarray,
    target: float,
    dt: float,
    horizon: float | None = None,
    plasma_limit: float | None = None,
) -> float:
    """Effect-site targeting (Shafer & Gregg 1992, Jacobs 1990): the largest rate
    [amount/s] over the next ``dt`` [s] (zero after) whose effect-site curve stays at or
    below ``target`` [amount/L] over ``horizon`` [s] (default ``max(10 min, 5·ln2/ke0)``),
    touching it at its peak. With ``plasma_limit`` the plasma concentration at the end
    of the interval is also kept at or below ``plasma_limit × target`` (Van Poucke 2004).
    Negative when the effect site will exceed the target anyway (the caller clips)."""
    if not model.has_effect:
        raise ValueError("effect-site targeting needs a model with ke0")
    ke0 = float(model.ke0)  # type: ignore[arg-type]
    h = horizon if horizon is not None else max(600.0, 5.0 * math.log(2.0) / ke0 * 60.0)
    lam, v_e = model._lam, model._V[_EFFECT]
    c_free = v_e * (model._Vinv @ np.asarray(x, dtype=float))
    x_unit = model.propagate(np.zeros(4), np.array([dt]), 1.0)[0]
    c_after = v_e * (model._Vinv @ x_unit)
    c_during = v_e * model._beta / lam

    def ratio(tau: np.ndarray) -> np.ndarray:
        """(target − Ce_free(τ)) / Ce_unit(τ), as sums of exponentials (inf where the
        unit response is nil)."""
        free = np.exp(np.multiply.outer(tau, lam)) @ c_free
        during = (np.exp(np.multiply.outer(np.minimum(tau, dt), lam)) - 1.0) @ c_during
        after = np.exp(np.multiply.outer(np.maximum(tau - dt, 0.0), lam)) @ c_after
        unit = np.where(tau <= dt, during, after)
        ok = unit > 1e-12 * max(float(np.max(unit)), 1e-300)
        out: np.ndarray = np.where(ok, (target - free) / np.where(ok, unit, 1.0), np.inf)
        return out

    # the minimum on a grid over the horizon, then three finer grids around it
    lo, hi, n = h / 600.0, h, 600
    for _ in range(4):
        tau = np.linspace(lo, hi, n + 1)
        r = ratio(tau)
        k = int(np.argmin(r))
        rate = float(r[k])
        step = tau[1] - tau[0]
        lo, hi, n = max(tau[k] - step, 1e-9), tau[k] + step, 100
    if plasma_limit is not None:
        rate = min(rate, plasma_rate(model, x, plasma_limit * target, dt))
    return rate


@dataclass
class _Trace:
    """What the firmware model did: breakpoints (time [s], state, amount rate)."""

    model: FirmwareModel
    factor: float  # amount/L -> the drug's plasma unit
    times: list[float] = field(default_factory=list)
    states: list[np.ndarray] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)

    def evaluate(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted plasma and effect [plasma unit] on ``grid`` (NaN before the start)."""
        times = np.asarray(self.times)
        idx = np.searchsorted(times, grid, side="right") - 1
        valid = idx >= 0
        i = np.clip(idx, 0, None)
        states = np.asarray(self.states)[i]
        tau = grid - times[i]
        e = np.exp(tau[:, None] * self.model._lam)
        z0 = states @ self.model._Vinv.T
        gain = (e - 1.0) / self.model._lam * self.model._beta
        x = (e * z0 + gain * np.asarray(self.rates)[i][:, None]) @ self.model._V.T
        cp = np.where(valid, self.model.plasma(x) * self.factor, np.nan)
        ce = np.where(valid, self.model.effect(x) * self.factor, np.nan)
        return cp, ce


class TciController(ReferenceController):
    """The reference controller with a ``mode: tci`` program step.

    Everything else (alarms, drug library, boluses, other program modes) is the
    reference controller's. During a TCI step the rate of the running phase is
    recomputed every ``update`` seconds (timer ``tci``) and on a ``tci_target`` input
    (``details["target"]`` [amount/L]). The firmware model starts, from zero, when the
    first TCI step begins (a TCI pump knows nothing given before it).

    Attributes
    ----------
    plasma_limit : float or None
        Van Poucke 2004 limit on the plasma overshoot in effect-site mode, as a
        multiple of the target (None: none).
    caps_to_ders : bool
        Cap the TCI rate at the drug library's upper hard limit for continuous rates
        (off: a library's continuous limits do not describe a TCI induction).
    """

    plasma_limit: float | None = None
    caps_to_ders: bool = False

    def __init__(self, config: PumpConfig | list[Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.firmware: FirmwareModel | None = None
        self._model_key: str | None = None
        self._x = np.zeros(4)
        self._t = 0.0
        self._amount_rate = 0.0
        self._traces: list[_Trace] = []
        self._target_times: list[float] = []
        self._target_values: list[float] = []
        self.target: float | None = None  # [amount/L]
        self.site = "plasma"
        self.update = 10.0
        self._limited = False
        self._reached = False  # effect site has reached the target since it was set

    # -- the firmware model follows what the motor is commanded -------------------------
    def _sync(self, hw: Hardware) -> None:
        """Advance the firmware state to now at the rate commanded since the last call."""
        now = hw.now
        if self.firmware is not None and now > self._t:
            self._x = self.firmware.propagate(self._x, np.array([now - self._t]),
                                              self._amount_rate)[0]  # fmt: skip
        self._t = now

    def _apply(self, hw: Hardware) -> None:
        self._sync(hw)
        super()._apply(hw)
        if self.firmware is None:
            return
        conc = self.config.concentration or 0.0
        rate = 0.0 if self._finishing else hw.rate * conc
        if rate != self._amount_rate or not self._traces[-1].times:
            self._amount_rate = rate
            tr = self._traces[-1]
            if tr.times and tr.times[-1] == self._t:
                tr.states[-1], tr.rates[-1] = self._x.copy(), rate
            else:
                tr.times.append(self._t)
                tr.states.append(self._x.copy())
                tr.rates.append(rate)

    def _remaining(self, hw: Hardware, rate: float) -> tuple[float | None, str | None]:
        """No time remaining is predicted during a TCI step: the firmware changes the rate
        every update (and may pause at zero after an effect-site load), so the record
        says so (``basis: tci``) instead of predicting an end that is not planned."""
        if self._tci_step() is not None and self.state == "running":
            return None, "tci"
        return super()._remaining(hw, rate)

    # -- TCI steps ------------------------------------------------------------------------
    def _tci_step(self) -> Any:
        from pumpsim.pump.program import TciStep

        step = self.program[self.index] if self.index is not None else None
        return step if isinstance(step, TciStep) and self._secondary is None else None

    def _begin(self, hw: Hardware, index: int) -> None:
        from pumpsim.pump.program import TciStep

        self._sync(hw)
        step = self.program[index]
        if not isinstance(step, TciStep):
            if step.mode != "secondary":  # a piggyback only interrupts the TCI step
                hw.cancel("tci")
            super()._begin(hw, index)
            return
        self._start_model(hw, step)
        self._set_target(hw, step.target)
        self.site, self.update = step.site, step.update
        self._limited = False
        self.index = index  # so that the first rate is computed for this step
        rate = self._tci_rate(hw)
        self.program[index] = dataclasses.replace(step, rate=rate)
        super()._begin(hw, index)
        hw.set_timer("tci", hw.now + self.update)

    def _start_model(self, hw: Hardware, step: Any) -> None:
        cfg = self.config
        key = step.pk_model
        if self.firmware is not None and key == self._model_key:
            return
        if cfg.covariates is None:
            raise ValueError(f"pump {cfg.pump_id}: a TCI step needs the patient's covariates")
        self.firmware = firmware_model(cfg.drug, key, cfg.covariates)
        self._model_key = key
        self._x = np.zeros(4)  # a new model knows nothing given before it
        self._amount_rate = 0.0
        drug = get_drug(cfg.drug)
        self._traces.append(_Trace(self.firmware, drug.plasma_factor))
        hw.log("tci_model", pk_model=get_model(cfg.drug, key).key, site=step.site,
               v1_L=self.firmware.v1, ke0_per_min=self.firmware.ke0)  # fmt: skip

    def _set_target(self, hw: Hardware, target: float, quiet: bool = False) -> None:
        """A new target [amount/L]; ``quiet``: not logged (a closed loop's small steps).
        A change of more than 5 % restarts the effect-site approach (greedy rule); smaller
        steps keep holding with the plasma rule."""
        old = self.target
        self.target = float(target)
        if old is None or abs(self.target - old) > 0.05 * old:
            self._reached = False
        if self._target_times and self._target_times[-1] == hw.now:
            self._target_values[-1] = self.target
        else:
            self._target_times.append(hw.now)
            self._target_values.append(self.target)
        if not quiet:
            hw.log("tci_target", target=self.target, site=self.site)

    def _max_amount_rate(self) -> float:
        cfg = self.config
        conc = cfg.concentration or 0.0
        cap = cfg.max_rate
        entry = cfg.ders
        limits = entry.continuous if (entry is not None and self.caps_to_ders) else None
        if limits is not None and limits.upper_hard is not None:
            per = limits.canonical(1.0, cfg.concentration, cfg.weight)
            if per:
                cap = min(cap, limits.upper_hard / per)
        return cap * conc

    def _tci_rate(self, hw: Hardware) -> float:
        """The volume rate [mL/s] for the next interval (clipped to what the pump may do)."""
        model, target = self.firmware, self.target
        conc = self.config.concentration or 0.0
        if model is None or target is None or conc <= 0:
            return 0.0
        if self.site == "effect":
            amount = effect_rate(model, self._x, target, self.update,
                                 plasma_limit=self.plasma_limit)  # fmt: skip
            if not self._reached and abs(model.effect(self._x) - target) <= 1e-3 * target:
                self._reached = True  # at the effect-site peak Cp = Ce = target
            if self._reached:  # hold both (no alternate-interval ringing)
                amount = min(amount, plasma_rate(model, self._x, target, self.update))
        else:
            amount = plasma_rate(model, self._x, target, self.update)
        top = self._max_amount_rate()
        if amount < 1e-9 * top:  # round-off around zero
            amount = 0.0
        if amount > top * (1 + 1e-12) and not self._limited:
            self._limited = True
            hw.log("tci_rate_limited", wanted_mL_h=amount / conc * 3600,
                   max_mL_h=top / conc * 3600)  # fmt: skip
        return min(max(amount, 0.0), top) / conc

    def _tci_update(self, hw: Hardware) -> None:
        from pumpsim.pump.program import TciStep

        step = self.program[self.index] if self.index is not None else None
        if not isinstance(step, TciStep):
            return  # the TCI step has ended: no more updates
        hw.set_timer("tci", hw.now + self.update)
        if self._secondary is not None or self._phase is None:
            return  # a piggyback runs: the primary's TCI resumes when it is back
        rate = self._tci_rate(hw)
        self._phase = dataclasses.replace(self._phase, rate=rate)
        if self.state == "paused" and self._held_by is None and rate > 0:
            self._go(hw, "running", "TCI rate above zero")

    # -- callbacks ------------------------------------------------------------------------
    def on_timer(self, hw: Hardware, name: str) -> None:
        self._sync(hw)
        if name == "tci":
            self._tci_update(hw)
        super().on_timer(hw, name)

    def on_input(self, hw: Hardware, event: OperatorInput) -> None:
        self._sync(hw)
        if event.kind == "tci_target":
            if self._tci_step() is None:
                hw.log("input_ignored", input="tci_target", reason="no TCI step running")
                self._apply(hw)
                return
            self._set_target(hw, float(event.details["target"]))
            self._limited = False
            self._tci_update(hw)  # recompute now; the update clock restarts
            self._apply(hw)
            return
        super().on_input(hw, event)

    # -- what the engine records ------------------------------------------------------------
    def columns(self, grid: np.ndarray) -> dict[str, np.ndarray]:
        """``pump.<id>.tci.*`` columns: the firmware's predicted plasma and effect-site
        concentrations and the target, in the drug's plasma unit (none without TCI)."""
        if not self._traces:
            return {}
        drug = get_drug(self.config.drug)
        unit, factor = drug.plasma_unit, drug.plasma_factor
        cp = np.full(grid.shape, np.nan)
        ce = np.full(grid.shape, np.nan)
        for tr in self._traces:  # a later model takes over from its first breakpoint
            if not tr.times:
                continue
            p, e = tr.evaluate(grid)
            after = grid >= tr.times[0]
            cp, ce = np.where(after, p, cp), np.where(after, e, ce)
        name = f"pump.{self.config.pump_id}.tci"
        idx = np.searchsorted(np.asarray(self._target_times), grid, side="right") - 1
        target = np.where(idx >= 0, np.asarray(self._target_values)[np.clip(idx, 0, None)]
                          * factor, np.nan)  # fmt: skip
        out = {f"{name}.predicted_plasma[{unit}]": cp, f"{name}.target[{unit}]": target}
        if any(tr.model.has_effect for tr in self._traces):
            out[f"{name}.predicted_effect[{unit}]"] = ce
        return out
