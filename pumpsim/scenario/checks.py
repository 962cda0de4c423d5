"""Checks that span several fields of a scenario, each with its exact field path.

The pydantic schema checks each field on its own; these check how fields fit
together and against what pumpsim knows (drugs, models, routes, pumps), and
say what is allowed. :func:`check_scenario` returns every problem found, so a
user fixes a file in one pass.
"""

from __future__ import annotations

from pumpsim.errors import Problem
from pumpsim.pk.covariates import Covariates
from pumpsim.pk.population import varied_parameters
from pumpsim.pk.registry import DRUGS, get_model, model_keys
from pumpsim.scenario.clinical import check_bedside
from pumpsim.scenario.programming import check_operation, check_steps, step_ends, step_length
from pumpsim.scenario.schema import BolusEvent, OcclusionEvent, Pump, Scenario
from pumpsim.scenario.tci import check_tci

__all__ = ["check_scenario", "covariates", "default_duration", "DEFAULT_MAX_RATE"]

#: highest rate [mL/s] a pump accepts when its settings give none (1200 mL/h)
DEFAULT_MAX_RATE = 1200.0 / 3600.0
#: syringe sizes [mL] the syringe mechanism knows
SYRINGE_RANGE = (1.0, 60.0)


def covariates(sc: Scenario) -> Covariates | None:
    """The PK covariates of the scenario's patient."""
    p = sc.patient
    if p is None:
        return None
    return Covariates(
        age=p.age,
        weight=p.weight,
        height=p.height,
        sex=p.sex,
        opioids=p.opioids,
        lean_body_mass=p.lean_body_mass,
        creatinine=p.creatinine,
    )


def _step_starts(pump: Pump) -> list[float | None]:
    starts: list[float | None] = []
    for i, step in enumerate(pump.program):
        if step.at is not None:
            starts.append(step.at)
        elif i == 0:
            starts.append(0.0)
        else:
            starts.append(None)
    return starts


def default_duration(sc: Scenario) -> float:
    """Duration [s] when the scenario gives none: last scheduled thing + 1 h.

    "Scheduled things" are event times, program step starts and the end of
    steps whose length is known (``duration``, or ``vtbi`` at a volume rate).
    """
    last = 0.0
    for ev in sc.events:
        last = max(last, ev.at + (getattr(ev, "duration", None) or 0.0),
                   getattr(ev, "until", None) or 0.0)  # fmt: skip
    for pump in sc.pumps:
        t = 0.0
        for step in pump.program:
            t = step.at if step.at is not None else t
            length = step_length(step)
            t += length or 0.0
            last = max(last, t)
    return last + 3600.0


def _check_drug(
    path: str,
    drug: str,
    salt: str | None,
    pk_model: str | None,
    route: str,
    problems: list,
    own_absorption: bool = False,
) -> None:
    if drug not in DRUGS:
        problems.append(
            Problem(f"{path}.drug", f"unknown drug {drug!r}; allowed: {', '.join(sorted(DRUGS))}")
        )
        return
    info = DRUGS[drug]
    if salt is not None and salt not in info.salts:
        allowed = ", ".join(sorted(info.salts)) or "none (give the base amount)"
        problems.append(
            Problem(f"{path}.salt", f"unknown salt {salt!r} of {drug}; allowed: {allowed}")
        )
    if info.default_model is None:
        if pk_model is not None:
            problems.append(Problem(f"{path}.pk_model", f"{drug} has no PK model"))
        return
    try:
        spec = get_model(drug, pk_model)
    except KeyError:
        problems.append(
            Problem(
                f"{path}.pk_model",
                f"unknown pk_model {pk_model!r} for {drug}; allowed: {', '.join(model_keys(drug))}",
            )
        )
        return
    if route not in spec.routes and not own_absorption:
        problems.append(
            Problem(
                f"{path}.route",
                f"{spec.key} has no published data for route {route!r}; "
                f"allowed: {', '.join(spec.routes)} (or give 'absorption' parameters)",
            )
        )


def _check_pump(i: int, pump: Pump, sc: Scenario, duration: float, problems: list) -> None:
    path = f"pumps[{i}]"
    _check_drug(path, pump.drug, pump.salt, pump.pk_model, pump.route, problems,
                pump.absorption is not None)  # fmt: skip
    info = DRUGS.get(pump.drug)
    is_fluid = info is not None and info.default_model is None
    if is_fluid and pump.concentration is not None:
        problems.append(Problem(f"{path}.concentration", f"{pump.drug} has no concentration"))
    if info is not None and not is_fluid:
        if pump.concentration is None:
            problems.append(
                Problem(
                    f"{path}.concentration",
                    f"required for {pump.drug}, e.g. '10 {info.amount_unit}/mL'",
                )
            )
        elif pump.concentration.unit != info.amount_unit:
            problems.append(
                Problem(
                    f"{path}.concentration",
                    f"{pump.drug} is dosed in {info.amount_unit}; "
                    f"write e.g. '10 {info.amount_unit}/mL'",
                )
            )
    if pump.kind == "syringe":
        if pump.syringe is None:
            problems.append(Problem(f"{path}.syringe", "required for a syringe pump, e.g. '50 mL'"))
        elif not SYRINGE_RANGE[0] <= pump.syringe <= SYRINGE_RANGE[1]:
            problems.append(
                Problem(f"{path}.syringe", f"syringe size {pump.syringe:g} mL; allowed 1-60 mL")
            )
    elif pump.syringe is not None:
        problems.append(
            Problem(
                f"{path}.syringe",
                f"only a syringe pump has a syringe; use 'container' for {pump.kind}",
            )
        )
    size = pump.syringe if pump.syringe is not None else pump.container
    if pump.fill is not None and size is not None and pump.fill > size + 1e-9:
        problems.append(
            Problem(f"{path}.fill", f"{pump.fill:g} mL is more than the {size:g} mL it fills")
        )
    reservoir = pump.reservoir
    max_rate = pump.settings.max_rate or DEFAULT_MAX_RATE
    total_vtbi = 0.0
    starts = _step_starts(pump)
    weight = sc.patient.weight if sc.patient is not None else None
    for j, step in enumerate(pump.program):
        spath = f"{path}.program[{j}]"
        if starts[j] is None and not step_ends(pump.program[j - 1]):
            problems.append(
                Problem(
                    f"{spath}.at",
                    "required: the step before has neither 'vtbi' nor 'duration', so it never ends",
                )
            )
        if step.at is not None and step.at > duration:
            problems.append(
                Problem(
                    f"{spath}.at",
                    f"{step.at:g} s is after the end of the scenario ({duration:g} s)",
                )
            )
        if j > 0 and step.at is not None:
            previous = [s for s in starts[:j] if s is not None]
            if previous and step.at < max(previous):
                problems.append(Problem(f"{spath}.at", "steps must be in time order"))
        if step.mode != "continuous":  # the other modes (pumpsim.scenario.programming)
            check_steps(f"{path}.program", [step], pump, sc, max_rate, problems, first=j)
        rate = getattr(step, "rate", None) if step.mode == "continuous" else None
        if step.mode == "continuous" and step.dose_rate is not None:
            dr = step.dose_rate
            if pump.concentration is None or is_fluid:
                problems.append(
                    Problem(f"{spath}.dose_rate", "needs the pump's 'concentration' to give a rate")
                )
                continue
            if dr.unit != pump.concentration.unit:
                problems.append(
                    Problem(
                        f"{spath}.dose_rate",
                        f"is in {dr.unit} but the concentration is in {pump.concentration.unit}/mL",
                    )
                )
                continue
            if dr.per_kg and weight is None:
                problems.append(
                    Problem(f"{spath}.dose_rate", "is per kg: the scenario needs a patient")
                )
                continue
            rate = dr.for_weight(weight or 0.0) / pump.concentration.value
        if rate is not None and rate > max_rate * (1 + 1e-9):
            problems.append(
                Problem(
                    f"{spath}.{'rate' if step.rate is not None else 'dose_rate'}",  # type: ignore[union-attr]
                    f"{rate * 3600:.4g} mL/h is above the pump's maximum of "
                    f"{max_rate * 3600:g} mL/h",
                )
            )
        if getattr(step, "vtbi", None) is not None:
            total_vtbi += step.vtbi  # type: ignore[union-attr, operator]
            if reservoir is not None and total_vtbi > reservoir * (1 + 1e-9):
                problems.append(
                    Problem(
                        f"{spath}.vtbi",
                        f"the program's volumes to be infused add up to {total_vtbi:g} mL, more "
                        f"than the {reservoir:g} mL in the pump",
                    )
                )


#: mechanism settings and the pump kinds each applies to
_MECHANISM_FIELDS = {
    "compliance": ("syringe", "volumetric"),
    "free_play": ("syringe",),
    "pulsatility": ("syringe", "volumetric"),
    "stroke_volume": ("volumetric",),
    "shot": ("volumetric",),
    "temperature": ("elastomeric",),
}


def _check_physics(sc: Scenario, problems: list) -> None:
    """Mechanism settings, purge, manifolds and line faults that fit each pump kind."""
    kinds = {p.id: p.kind for p in sc.pumps}
    manifolds = [m.id for m in sc.manifolds]
    for i, m in enumerate(sc.manifolds):
        if m.id in manifolds[:i]:
            problems.append(Problem(f"manifolds[{i}].id", f"manifold id {m.id!r} is used twice"))
    routes: dict[str, tuple[str, int]] = {}
    for i, pump in enumerate(sc.pumps):
        path = f"pumps[{i}]"
        for name in sorted(pump.mechanism.model_fields_set):
            allowed = _MECHANISM_FIELDS[name]
            if pump.kind not in allowed:
                message = f"applies to {' and '.join(allowed)} pumps, not {pump.kind}"
                problems.append(Problem(f"{path}.mechanism.{name}", message))
        if pump.purge and pump.kind != "syringe":
            problems.append(Problem(f"{path}.purge", "only a syringe pump is purged"))
        if pump.kind == "elastomeric":
            if pump.reservoir is None:
                message = "required for an elastomeric pump, e.g. '100 mL'"
                problems.append(Problem(f"{path}.container", message))
            if len(pump.program) != 1:
                message = "an elastomeric pump has one nominal rate: give exactly one step"
                problems.append(Problem(f"{path}.program", message))
        joined = pump.line.manifold
        if joined is None:
            continue
        if joined not in manifolds:
            allowed_ids = ", ".join(manifolds) or "none (the scenario has no manifolds)"
            message = f"no manifold {joined!r}; allowed: {allowed_ids}"
            problems.append(Problem(f"{path}.line.manifold", message))
        elif joined in routes and routes[joined][0] != pump.route:
            first, j = routes[joined]
            message = f"{pump.route!r} differs from {first!r} of pumps[{j}] on manifold {joined!r}"
            problems.append(Problem(f"{path}.route", message))
        routes.setdefault(joined, (pump.route, i))
    for i, ev in enumerate(sc.events):
        if isinstance(ev, OcclusionEvent) and ev.side == "upstream":
            kind = kinds.get(ev.pump)
            if kind in ("syringe", "elastomeric"):
                message = f"a {kind} pump has no upstream line; allowed: downstream"
                problems.append(Problem(f"events[{i}].side", message))
        if ev.type in NO_ELECTRONICS and kinds.get(getattr(ev, "pump", "")) == "elastomeric":
            message = f"an elastomeric pump has no door, power or firmware: no {ev.type}"
            problems.append(Problem(f"events[{i}].type", message))


#: fault events that need a pump with electronics (pumpsim.engine.faults)
NO_ELECTRONICS = ("door_open", "door_close", "mains_lost", "mains_restored")


def check_scenario(sc: Scenario) -> list[Problem]:
    """Every cross-field problem in ``sc``, with field paths and what is allowed."""
    problems: list[Problem] = []
    duration = sc.duration if sc.duration is not None else default_duration(sc)
    ids = [p.id for p in sc.pumps]
    for i, pid in enumerate(ids):
        if pid in ids[:i]:
            problems.append(Problem(f"pumps[{i}].id", f"pump id {pid!r} is used twice"))
    for i, pump in enumerate(sc.pumps):
        _check_pump(i, pump, sc, duration, problems)
    _check_physics(sc, problems)
    check_operation(sc, lambda p: p.settings.max_rate or DEFAULT_MAX_RATE, problems)
    problems += check_bedside(sc)  # clinicians, interlock, PCA demand
    check_tci(sc, problems)  # TCI steps and targets (pumpsim.scenario.tci)
    for i, ev in enumerate(sc.events):
        path = f"events[{i}]"
        if ev.at > duration:
            problems.append(
                Problem(
                    f"{path}.at", f"{ev.at:g} s is after the end of the scenario ({duration:g} s)"
                )
            )
        pump_id = getattr(ev, "pump", None)
        if pump_id is not None and pump_id not in ids:
            allowed = ", ".join(ids) or "none (the scenario has no pumps)"
            problems.append(Problem(f"{path}.pump", f"no pump {pump_id!r}; allowed: {allowed}"))
        if isinstance(ev, BolusEvent):
            _check_drug(path, ev.drug, ev.salt, ev.pk_model, ev.route, problems,
                        ev.absorption is not None)  # fmt: skip
            if ev.duration is not None and ev.at + ev.duration > duration:
                problems.append(Problem(f"{path}.duration", f"the dose would end at "
                                        f"{ev.at + ev.duration:g} s, after the end of the "
                                        f"scenario ({duration:g} s)"))  # fmt: skip
            info = DRUGS.get(ev.drug)
            if info is not None and ev.dose.unit != info.amount_unit:
                problems.append(
                    Problem(f"{path}.dose", f"{ev.drug} is dosed in {info.amount_unit}")
                )
            if ev.dose.per_kg and sc.patient is None:
                problems.append(Problem(f"{path}.dose", "is per kg: the scenario needs a patient"))
    # one patient, one model per drug
    chosen: dict[str, tuple[str, str]] = {}
    items = [(f"pumps[{i}]", p.drug, p.pk_model) for i, p in enumerate(sc.pumps)]
    items += [(f"events[{i}]", e.drug, e.pk_model) for i, e in enumerate(sc.events)
              if isinstance(e, BolusEvent)]  # fmt: skip
    for path, drug, key in items:
        info = DRUGS.get(drug)
        if info is None or info.default_model is None:
            continue
        try:
            spec_key = get_model(drug, key).key
        except KeyError:
            continue
        if drug in chosen and chosen[drug][0] != spec_key:
            problems.append(
                Problem(
                    f"{path}.pk_model",
                    f"{drug} already uses {chosen[drug][0]} (at {chosen[drug][1]}); "
                    "one patient has one model per drug",
                )
            )
        chosen.setdefault(drug, (spec_key, path))
    # one absorption per drug and route
    given_abs: dict[tuple[str, str], tuple[object, str]] = {}
    sources: list[tuple[str, Pump | BolusEvent]] = [
        (f"pumps[{i}]", p) for i, p in enumerate(sc.pumps)
    ]
    sources += [(f"events[{i}]", e) for i, e in enumerate(sc.events) if isinstance(e, BolusEvent)]
    for path, item in sources:
        absorption = getattr(item, "absorption", None)
        if absorption is None:
            continue
        key2 = (item.drug, item.route)
        if key2 in given_abs and given_abs[key2][0] != absorption:
            problems.append(Problem(f"{path}.absorption", f"differs from the {item.drug} "
                                    f"{item.route} absorption at {given_abs[key2][1]}"))
        given_abs.setdefault(key2, (absorption, path))
    if chosen and sc.patient is None:
        problems.append(Problem("patient", "required: the scenario gives drugs with PK"))
    pop = sc.patient.population if sc.patient is not None else None
    cov = covariates(sc)
    for drug, cvs in (pop.variability if pop is not None and cov is not None else {}).items():
        path = f"patient.population.variability.{drug}"
        if drug not in chosen:
            allowed = ", ".join(sorted(chosen)) or "none (no drug with PK is given)"
            problems.append(Problem(path, f"{drug!r} is not a drug with PK in this scenario; "
                                    f"allowed: {allowed}"))  # fmt: skip
            continue
        names = varied_parameters(get_model(drug, chosen[drug][0]), cov)
        if "ke0" not in names and drug in _pd_biophases(sc):  # vitals add an effect site
            names.append("ke0")
        for name in cvs:
            if name not in names:
                problems.append(Problem(f"{path}.{name}", f"{chosen[drug][0]} has no parameter "
                                        f"{name!r}; allowed: {', '.join(names)}"))  # fmt: skip
    if cov is not None:
        for drug, (key, _) in chosen.items():
            spec = get_model(drug, key)
            if spec.check is not None:
                errors, _warnings = spec.check(cov)
                problems += [Problem("patient", e) for e in errors]
    return problems


def _pd_biophases(sc: Scenario) -> dict[str, float]:
    """Drug -> ke0 of the biophase the vitals model adds (empty without vitals)."""
    from pumpsim.engine.physiology import pd_effect_sites  # the engine imports this module

    return pd_effect_sites(sc)
