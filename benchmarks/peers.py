"""Drive three peer pharmacokinetic packages on one plain case description.

This module is the *peer* half of pumpsim's PK cross-check and speed benchmark. It
calls three independent open-source packages and returns their predicted plasma and
effect-site concentrations on a common 1-s grid, so that pumpsim's exact solver can
be compared with them:

* ``python-anesthesia-simulator`` (PAS, GPL-3.0) -- :func:`run_pas`
* ``PyTCI`` (MIT, distribution name ``pytci``) -- :func:`run_pytci`
* ``opentiva`` (MIT) -- :func:`run_opentiva`

The peers are only *called* and their outputs compared; none of their code is
copied here. Each peer is imported lazily inside its function, so this module
imports without them and a missing peer raises :class:`ImportError` with an
install hint. The peers need ``numpy<2``; see ``benchmarks/requirements-peers.txt``.

Case description
----------------
A case is a plain ``dict``::

    {
        "drug": "propofol" | "remifentanil",
        "model": "schnider" | "marsh" | "marsh_modified" | "eleveld" | "minto",
        "opioids": False,          # Eleveld propofol only
        "patient": {"age_y": 40, "weight_kg": 70, "height_cm": 170, "sex": "male"},
        "infusion": [(start_s, end_s, rate), ...],
        "duration_s": 7200,
    }

``rate`` is [mg/min] for propofol and [ug/min] for remifentanil; overlapping
infusions add. Start and end times must be whole seconds in ``[0, duration_s]``
(every peer here works on a 1-s grid or integer seconds). ``sex`` is ``"male"`` /
``"female"`` (``"m"`` / ``"f"`` also accepted).

Output
------
Each ``run_*`` function returns a :class:`pandas.DataFrame` with ``duration_s + 1``
rows and columns ``time_s`` [s] (0, 1, ..., duration_s), ``plasma`` and ``effect``
in the drug's usual unit: propofol [ug/mL] (= mg/L), remifentanil [ng/mL]
(= ug/L). Peer-specific deviations from the published models are listed in
:data:`KNOWN_DEFECTS` and by :func:`known_defects`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "KNOWN_DEFECTS",
    "PEERS",
    "infusion_profile",
    "known_defects",
    "peer_version",
    "run_opentiva",
    "run_pas",
    "run_peer",
    "run_pytci",
]

#: Peer keys, in a fixed order, mapped to (import name, distribution name).
PEERS: dict[str, tuple[str, str]] = {
    "pas": ("python_anesthesia_simulator", "python-anesthesia-simulator"),
    "pytci": ("PyTCI", "pytci"),
    "opentiva": ("opentiva", "opentiva"),
}

_DRUG_MODELS: dict[str, tuple[str, ...]] = {
    "propofol": ("schnider", "marsh", "marsh_modified", "eleveld"),
    "remifentanil": ("minto",),
}

_OPENTIVA_CE = (
    "Effect site stepped from 1-s Cp samples by linear/log-linear interpolation (not "
    "exact), and Ce stays 0 for the first second of drug: Ce lags about 1 s at the "
    "start (about 10 % low at 10 s, 1.3 % at 60 s, under 0.5 % after 2 min)."
)

#: Known deviations of each peer from the published model, keyed by (peer, model).
#: Sources: docs/references.md "Peer implementations" ([PAS] [PyTCI] [opentiva]),
#: plus what was seen when reading the installed peer sources to learn their APIs.
KNOWN_DEFECTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("pas", "schnider"): (),
    ("pas", "marsh"): (
        "k13 0.042 (published 0.0419); V2 = 0.463*WT and V3 = 2.893*WT with "
        "k21 = 0.112*V1/V2 = 0.05515 and k31 = 0.042*V1/V3 = 0.00331 "
        "(published 0.055 and 0.0033).",
    ),
    ("pas", "marsh_modified"): (
        "k13 0.042 (published 0.0419); k21 0.05515 and k31 0.00331 derived from "
        "V2 = 0.463*WT, V3 = 2.893*WT (published 0.055, 0.0033).",
    ),
    ("pas", "eleveld"): (
        "Its Patient class always builds Eleveld with opioids; here CompartmentModel "
        "is called directly with opiate=False/True so both variants are expressed.",
        "Thetas carried to ~13 digits from the NONMEM output (e.g. theta1 "
        "6.2830780766822 vs 6.28 published) -- differences of order 0.1 %.",
    ),
    ("pas", "minto"): (),
    ("pytci", "schnider"): (
        "Uses Schnider's published *rate constants* (k10 0.443 + ..., k12 0.302 - "
        "0.0056*(AGE-53), k13 0.196, k31 0.0035) rather than deriving them from the "
        "clearances and volumes; rounding differences of order 0.1-1 %.",
    ),
    ("pytci", "marsh"): ("k31 0.0031 (published 0.0033); k13 0.042 (published 0.0419).",),
    ("pytci", "marsh_modified"): (
        "k31 0.0031 (published 0.0033); k13 0.042 (published 0.0419).",
        "PyTCI has no modified-Marsh class: Marsh(weight) is built and its keo "
        "attribute set to 1.2/60 per second after setup.",
    ),
    ("pytci", "eleveld"): (
        "Q2 divides the Q3 maturation by its reference value: (1 + theta16*(1 - "
        "fQ3mat/fQ3mat_ref)) instead of (1 + theta16*(1 - fQ3mat)); Q2 about 4.4 % "
        "low for adults.",
    ),
    ("pytci", "eleveld_opioids"): (
        "Q2 divides the Q3 maturation by its reference value (Q2 about 4.4 % low for adults).",
        ".with_opiates() reduces V3 and CL but keeps Q3 computed from the unreduced V3.",
    ),
    ("pytci", "minto"): (),
    ("opentiva", "schnider"): (
        "V2 = 18.9 - 0.391*(AGE-52) (published AGE-53): V2 0.391 L larger.",
        _OPENTIVA_CE,
    ),
    ("opentiva", "marsh"): (_OPENTIVA_CE,),
    ("opentiva", "marsh_modified"): (_OPENTIVA_CE,),
    ("opentiva", "eleveld"): (
        "theta5 entered as 1.83 (published 1.75; 1.83 is the reference "
        "individual's Q2): Q2 about 4.6 % high.",
        "Al-Sallami FFM for males uses (1 - 0.8) in place of (1 - 0.88) and BMI "
        "rounded to 0.1 kg/m2; for adults the FFM/FFM_ref ratio is barely changed.",
        _OPENTIVA_CE,
    ),
    ("opentiva", "minto"): (_OPENTIVA_CE,),
}


# --------------------------------------------------------------------------- helpers


def _import_peer(peer: str) -> ModuleType:
    """Import a peer's top-level package or raise a clean :class:`ImportError`."""
    module_name, dist_name = PEERS[peer]
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"peer {peer!r} needs the {dist_name!r} package, which is not importable "
            f"({exc}); see benchmarks/requirements-peers.txt for how to install the peers"
        ) from exc


def peer_version(peer: str) -> str:
    """Return the installed distribution version of ``peer`` (``"absent"`` if none)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PEERS[peer][1])
    except PackageNotFoundError:
        return "absent"


def _is_male(patient: Mapping[str, Any]) -> bool:
    sex = str(patient["sex"]).strip().lower()
    if sex in ("male", "m"):
        return True
    if sex in ("female", "f"):
        return False
    raise ValueError(f"patient sex must be 'male' or 'female', got {patient['sex']!r}")


def _james_lbm(weight_kg: float, height_cm: float, male: bool) -> float:
    """Lean body mass [kg] by James (1976), as used by Schnider and Minto.

    Male 1.1*WT - 128*(WT/HT)^2; female 1.07*WT - 148*(WT/HT)^2 (docs/references.md [James1976]
    section 1). Needed because PAS's CompartmentModel takes LBM as an argument.
    """
    ratio = weight_kg / height_cm
    return 1.1 * weight_kg - 128 * ratio**2 if male else 1.07 * weight_kg - 148 * ratio**2


def _check_case(case: Mapping[str, Any]) -> tuple[str, str, int]:
    drug = case["drug"]
    model = case["model"]
    if drug not in _DRUG_MODELS:
        raise ValueError(f"drug must be one of {sorted(_DRUG_MODELS)}, got {drug!r}")
    if model not in _DRUG_MODELS[drug]:
        raise ValueError(f"model for {drug} must be one of {_DRUG_MODELS[drug]}, got {model!r}")
    if case.get("opioids", False) and model != "eleveld":
        raise ValueError("'opioids' applies to the Eleveld propofol model only")
    duration = case["duration_s"]
    if int(duration) != duration or duration <= 0:
        raise ValueError(f"duration_s must be a positive whole number, got {duration!r}")
    return drug, model, int(duration)


def infusion_profile(case: Mapping[str, Any]) -> np.ndarray:
    """Return the input as a per-second array ``u`` [dose units/s].

    ``u[k]`` is the constant rate over ``[k, k + 1)`` s for ``k = 0 .. duration_s-1``:
    mg/s for propofol, ug/s for remifentanil (case rates are per minute).
    """
    _, _, duration = _check_case(case)
    u = np.zeros(duration)
    for start, end, rate in case["infusion"]:
        if int(start) != start or int(end) != end:
            raise ValueError(f"infusion times must be whole seconds, got {(start, end)}")
        if not 0 <= start < end <= duration:
            raise ValueError(f"need 0 <= start < end <= duration_s, got {(start, end)}")
        if rate < 0:
            raise ValueError(f"infusion rate must be non-negative, got {rate}")
        u[int(start) : int(end)] += rate / 60.0
    return u


def _frame(plasma: np.ndarray, effect: np.ndarray) -> pd.DataFrame:
    time_s = np.arange(plasma.size, dtype=np.int64)
    return pd.DataFrame({"time_s": time_s, "plasma": np.asarray(plasma, float), "effect": effect})


def known_defects(peer: str, case: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the known deviations from the published model for ``peer`` on ``case``."""
    model = case["model"]
    if peer == "pytci" and model == "eleveld" and case.get("opioids", False):
        model = "eleveld_opioids"
    return KNOWN_DEFECTS.get((peer, model), ())


# ----------------------------------------------------------------------------- peers


def run_pas(case: Mapping[str, Any]) -> pd.DataFrame:
    """Simulate ``case`` with python-anesthesia-simulator (PAS).

    How it is driven
        ``pk_models.CompartmentModel([age, height, weight, gender], lbm,
        drug="Propofol"|"Remifentanil", model=..., ts=1, random=False,
        opiate=<opioids>)`` with ``gender`` 1 male / 0 female, ``lbm`` by James
        (only Schnider and Minto use it), model names ``"Schnider"``,
        ``"Marsh_initial"`` (ke0 0.26), ``"Marsh_modified"`` (ke0 1.2),
        ``"Eleveld"`` (arterial) and ``"Minto"``. Then ``full_sim(u)`` with ``u`` the
        per-second rate [mg/s or ug/s] plus one trailing zero; it runs
        ``control.forced_response`` on the zero-order-hold discretisation (ts = 1 s)
        of the concentration-state model, which is exact for piecewise-constant
        input that changes on whole seconds. State 0 is plasma, state 3 the BIS
        effect site. The ``Patient`` class is bypassed: it draws global
        ``np.random`` noise at construction and always builds Eleveld with opioids.

    Known defects
        Marsh k13 0.042 and k21/k31 derived from rounded V2/V3; Eleveld thetas to
        13 digits (see :data:`KNOWN_DEFECTS`). Schnider and Minto follow the papers.
    """
    drug, model, _ = _check_case(case)
    _import_peer("pas")
    pk_models = importlib.import_module("python_anesthesia_simulator.pk_models")
    names = {
        "schnider": "Schnider",
        "marsh": "Marsh_initial",
        "marsh_modified": "Marsh_modified",
        "eleveld": "Eleveld",
        "minto": "Minto",
    }
    patient = case["patient"]
    male = _is_male(patient)
    age, weight, height = patient["age_y"], patient["weight_kg"], patient["height_cm"]
    pk = pk_models.CompartmentModel(
        [age, height, weight, 1 if male else 0],
        _james_lbm(weight, height, male),
        drug="Propofol" if drug == "propofol" else "Remifentanil",
        model=names[model],
        ts=1,
        random=False,
        opiate=bool(case.get("opioids", False)),
    )
    u = np.append(infusion_profile(case), 0.0)
    states = np.asarray(pk.full_sim(u))
    return _frame(states[0], states[3])


def run_pytci(case: Mapping[str, Any]) -> pd.DataFrame:
    """Simulate ``case`` with PyTCI in its exact (matrix-exponential) mode.

    How it is driven
        Propofol: ``PyTCI.models.propofol.Schnider(age, weight, height, sex)``,
        ``Marsh(weight)`` (keo 0.26; for ``marsh_modified`` the instance's ``keo``
        is set to ``1.2 / 60`` per second after construction -- PyTCI has no such
        class), ``Eleveld(age, weight, height, sex)`` followed by
        ``.with_opiates()`` when ``opioids``. Remifentanil:
        ``PyTCI.models.remifentanil.Minto(age, weight, height, sex)``. ``sex`` is
        ``'m'``/``'f'``. Then ``set_integrator("exact")`` and, for each second,
        ``giveoverseconds(rate_per_s, 1)`` (continuous constant input over the
        second, augmented matrix exponential), reading ``x1`` (plasma) and ``xeo``
        (effect site). The default ``"euler"`` mode is *not* used: it is about
        1.5 % low at the early peak.

    Known defects
        Marsh k31 0.0031 (published 0.0033); Eleveld Q2 divides by the reference
        Q3 maturation; ``.with_opiates()`` keeps Q3 from the unreduced V3; Schnider
        from rounded published rate constants (see :data:`KNOWN_DEFECTS`).
    """
    drug, model, _ = _check_case(case)
    _import_peer("pytci")
    patient = case["patient"]
    sex = "m" if _is_male(patient) else "f"
    age, weight, height = patient["age_y"], patient["weight_kg"], patient["height_cm"]
    if drug == "propofol":
        propofol = importlib.import_module("PyTCI.models.propofol")
        if model == "schnider":
            pk = propofol.Schnider(age, weight, height, sex)
        elif model in ("marsh", "marsh_modified"):
            pk = propofol.Marsh(weight)
            if model == "marsh_modified":
                pk.keo = 1.2 / 60  # PyTCI holds rate constants per second
        else:
            pk = propofol.Eleveld(age, weight, height, sex)
            if case.get("opioids", False):
                pk.with_opiates()
    else:
        remifentanil = importlib.import_module("PyTCI.models.remifentanil")
        pk = remifentanil.Minto(age, weight, height, sex)
    pk.set_integrator("exact")

    u = infusion_profile(case)
    plasma = np.zeros(u.size + 1)
    effect = np.zeros(u.size + 1)
    for k, rate in enumerate(u, start=1):
        pk.giveoverseconds(float(rate), 1)
        plasma[k] = pk.x1
        effect[k] = pk.xeo
    return _frame(plasma, effect)


def run_opentiva(case: Mapping[str, Any]) -> pd.DataFrame:
    """Simulate ``case`` with opentiva's user-infusion mode.

    How it is driven
        A model instance ``opentiva.propofol.Schnider | MarshDiprifusor`` (ke0 0.26)
        ``| MarshModified`` (ke0 1.2) ``| Eleveld(..., opiates_coadministered=)``
        or ``opentiva.remifentanil.Minto``, each called as ``(sex, age, weight,
        height)`` with ``sex`` an int, 0 male / 1 female. Then
        ``opentiva.pump.Pump(model, drug_concentration=1, end_time=duration_s +
        1)`` (the syringe concentration only scales mL/h reports), one
        ``add_infusion(start, rate_per_s, end - start)`` per infusion, and
        ``run()``, which returns rows ``[t, Cp, Ce]`` for t = 0 .. end_time - 1.
        Plasma is the closed-form tri-exponential superposition (exact); the
        effect site is stepped from the 1-s plasma samples with linear (rising) or
        log-linear (falling) interpolation, and is 0 for the first second of drug
        because the step is skipped while the previous Cp is 0.

    Known defects
        Schnider V2 uses (AGE-52); Eleveld theta5 entered as 1.83; approximate
        effect site (see :data:`KNOWN_DEFECTS`).
    """
    drug, model, duration = _check_case(case)
    infusion_profile(case)  # validates the infusion list the same way as the others
    opentiva = _import_peer("opentiva")
    patient = case["patient"]
    sex = 0 if _is_male(patient) else 1
    args = (
        sex,
        float(patient["age_y"]),
        float(patient["weight_kg"]),
        float(patient["height_cm"]),
    )
    if drug == "propofol":
        if model == "schnider":
            pk = opentiva.propofol.Schnider(*args)
        elif model == "marsh":
            pk = opentiva.propofol.MarshDiprifusor(*args)
        elif model == "marsh_modified":
            pk = opentiva.propofol.MarshModified(*args)
        else:
            pk = opentiva.propofol.Eleveld(
                *args, opiates_coadministered=bool(case.get("opioids", False))
            )
    else:
        pk = opentiva.remifentanil.Minto(*args)

    pump = opentiva.pump.Pump(model=pk, drug_concentration=1, end_time=duration + 1)
    for start, end, rate in case["infusion"]:
        pump.add_infusion(start=int(start), dose=rate / 60.0, duration=int(end - start))
    if not case["infusion"]:
        return _frame(np.zeros(duration + 1), np.zeros(duration + 1))
    out = np.asarray(pump.run())
    return _frame(out[:, 1], out[:, 2])


_RUNNERS = {"pas": run_pas, "pytci": run_pytci, "opentiva": run_opentiva}


def run_peer(peer: str, case: Mapping[str, Any]) -> pd.DataFrame:
    """Run ``case`` on the peer named ``peer`` (one of :data:`PEERS`)."""
    try:
        runner = _RUNNERS[peer]
    except KeyError:
        raise ValueError(f"peer must be one of {list(PEERS)}, got {peer!r}") from None
    return runner(case)
