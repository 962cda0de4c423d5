"""Checks that span several fields of a scenario, each with its exact field path.

The pydantic schema checks each field on its own; these check how fields fit
together and against what pumpsim knows (drugs, models, routes, pumps), and
say what is allowed. :func:`check_scenario` returns every problem found, so a
user fixes a file in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from pumpsim.errors import Problem
from pumpsim.pk.covariates import Covariates
from pumpsim.pk.population import varied_parameters
from pumpsim.pk.registry import DRUGS, get_model, model_keys
from pumpsim.scenario.clinical import check_bedside
from pumpsim.scenario.programming import check_operation, check_steps, step_ends, step_length
from pumpsim.scenario.schema import BolusEvent, OcclusionEvent, Pump, Scenario
from pumpsim.scenario.tci import check_tci

__all__ = ["check_scenario", "check_size", "covariates", "default_duration", "DEFAULT_MAX_RATE",
           "Limits", "BMI_RANGE"]

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
    _check_body(sc, problems)
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


#: body-mass index [kg/m^2] a patient may have: a plausibility bound chosen by pumpsim (not a
#: published limit) to refuse bodies that cannot exist (70 kg at 30 cm) while keeping every
#: real one: below the median preterm infant at 22 weeks on the preterm growth charts
#: (docs/references.md [Fenton2013]: about 0.5 kg at 28 cm, BMI about 6) and above the
#: heaviest adults reported in the medical literature (BMI well under 200)
BMI_RANGE = (4.0, 200.0)


def _check_body(sc: Scenario, problems: list) -> None:
    """A body that can exist (BMI, lean mass within the weight, creatinine) and seeds >= 0.

    Each PK model's own fitted ranges are checked by its ``check`` (errors and warnings).
    """
    if sc.seed is not None and sc.seed < 0:
        problems.append(Problem("seed", f"{sc.seed} is negative; a seed is 0 or more"))
    p = sc.patient
    if p is None:
        return
    pop = p.population
    if pop is not None and pop.seed is not None and pop.seed < 0:
        problems.append(Problem("patient.population.seed",
                                f"{pop.seed} is negative; a seed is 0 or more"))  # fmt: skip
    bmi = p.weight / (p.height / 100.0) ** 2
    if not BMI_RANGE[0] <= bmi <= BMI_RANGE[1]:
        problems.append(Problem("patient.weight", f"{p.weight:g} kg at {p.height:g} cm is a "
                                f"body-mass index of {bmi:.3g} kg/m2; allowed "
                                f"{BMI_RANGE[0]:g}-{BMI_RANGE[1]:g} (no person measured "
                                "lies outside)"))  # fmt: skip
    _check_amounts(sc, problems)
    lbm = p.lean_body_mass
    if lbm is not None and not 0.0 < lbm <= p.weight:
        problems.append(Problem("patient.lean_body_mass", f"{lbm:g} kg in a {p.weight:g} kg "
                                "patient; allowed: above 0 and at most the weight"))  # fmt: skip
    if p.creatinine is not None and not p.creatinine > 0.0:
        problems.append(Problem("patient.creatinine", "must be greater than zero, "
                                "e.g. '1.0 mg/dL' or '88 umol/L'"))  # fmt: skip


#: most drug per mL [mg/mL]: a solution holds less solute than its own mass (water: 1000 mg/mL),
#: so twice that cannot be a real concentration
MAX_MG_PER_ML = 2000.0
#: most international units per mL and per dose: plausibility bounds chosen by pumpsim, far
#: above any product (heparin vials hold up to tens of thousands of IU/mL)
MAX_IU_PER_ML = 1e6
MAX_IU_DOSE = 1e9


def _check_amounts(sc: Scenario, problems: list) -> None:
    """Concentrations a solution can hold, and single doses no larger than the patient."""
    weight = sc.patient.weight if sc.patient is not None else None
    for i, pump in enumerate(sc.pumps):
        c = pump.concentration
        top = MAX_MG_PER_ML if c is not None and c.unit == "mg" else MAX_IU_PER_ML
        if c is not None and not 0.0 < c.value <= top:
            problems.append(Problem(f"pumps[{i}].concentration", f"{c.value:g} {c.unit}/mL; "
                                    f"allowed: above 0 and at most {top:g} {c.unit}/mL (no "
                                    "solution holds more than its own mass)"))  # fmt: skip
    for i, ev in enumerate(sc.events):
        if not isinstance(ev, BolusEvent) or weight is None:
            continue
        dose = ev.dose.for_weight(weight)
        top = weight * 1e6 if ev.dose.unit == "mg" else MAX_IU_DOSE
        if dose > top:
            what = f"the patient's body mass ({weight:g} kg)" if ev.dose.unit == "mg" else (
                f"{top:g} IU")
            problems.append(Problem(f"events[{i}].dose", f"{dose:g} {ev.dose.unit} is more than "
                                    f"{what}"))  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """How much one run may produce, checked before it starts (raise them to go further).

    Attributes
    ----------
    max_output_rows : int
        Rows of the time series (duration / output interval); the values kept
        (rows x columns, every patient of a population counted) may be at most
        :data:`CELLS_PER_ROW` times this.
    max_events : int
        Simulated events: PCA presses, expected stochastic demands, volumetric
        pump strokes, scripted events.
    """

    max_output_rows: int = 1_000_000
    max_events: int = 1_000_000


#: values per time-series row allowed on average: max cells = max_output_rows x this
CELLS_PER_ROW = 40


def _columns(sc: Scenario) -> tuple[int, int]:
    """Estimated (time-series columns, values per row kept per patient of a population)."""
    drugs = {p.drug for p in sc.pumps} | {e.drug for e in sc.events if isinstance(e, BolusEvent)}
    vitals = sc.patient is not None and sc.patient.vitals is not None
    pop = sc.patient.population if sc.patient is not None else None
    per_drug = 2 * (len(pop.percentiles) if pop is not None else 1)
    columns = 8 * len(sc.pumps) + 2 * len(sc.manifolds) + per_drug * len(drugs) + 10 * vitals
    per_patient = (2 * len(drugs) + 6 * vitals) if pop is not None else 0
    return columns + 1, per_patient


def _events(sc: Scenario, duration: float) -> list[tuple[float, str]]:
    """(estimated simulated events, field path) for every source of many events."""
    out: list[tuple[float, str]] = [(float(len(sc.events)), "events")]
    for i, ev in enumerate(sc.events):
        until = getattr(ev, "until", None)
        end = min(until if until is not None else duration, duration)
        every = getattr(ev, "every", None)
        if ev.type == "pca_press" and every:
            out.append((max(end - ev.at, 0.0) / every + 1, f"events[{i}].every"))
        elif ev.type == "pca_demand":
            mean = ev.rate * max(end - ev.at, 0.0)  # type: ignore[union-attr]
            out.append((mean + 10.0 * mean**0.5, f"events[{i}].rate"))
    for i, pump in enumerate(sc.pumps):
        if pump.kind != "volumetric":
            continue
        from pumpsim.pump.mechanism import STROKE_VOLUME

        stroke = pump.mechanism.stroke_volume or STROKE_VOLUME
        rates = [getattr(step, "rate", None) for step in pump.program]
        top = (max(r for r in rates if r is not None) if all(r is not None for r in rates)
               and rates else pump.settings.max_rate or DEFAULT_MAX_RATE)  # fmt: skip
        out.append((2.0 * top * duration / stroke, f"pumps[{i}].mechanism.stroke_volume"))
    return out


def check_size(sc: Scenario, limits: Limits) -> list[Problem]:
    """The output and event count a run of ``sc`` would produce, against ``limits``."""
    problems: list[Problem] = []
    duration = sc.duration if sc.duration is not None else default_duration(sc)
    rows = duration / sc.output.interval + 1
    columns, per_patient = _columns(sc)
    n = sc.patient.population.n if sc.patient and sc.patient.population else 0
    cells = rows * (columns + n * per_patient)
    raise_it = "or raise the limit (pumpsim run --max-output-rows N; Python: limits=Limits(...))"
    if rows > limits.max_output_rows:
        problems.append(Problem("output.interval", f"the run would record {rows:.3g} rows "
                                f"({duration:g} s every {sc.output.interval:g} s), more than "
                                f"the limit of {limits.max_output_rows}: lengthen the interval, "
                                f"shorten the duration, {raise_it}"))  # fmt: skip
    elif cells > limits.max_output_rows * CELLS_PER_ROW:
        problems.append(Problem("output.interval", f"the run would keep about {cells:.3g} values "
                                f"({rows:.3g} rows x {columns + n * per_patient} columns and "
                                f"patients), more than the limit of "
                                f"{limits.max_output_rows * CELLS_PER_ROW:.3g}: lengthen the "
                                f"interval, shorten the duration or the population, "
                                f"{raise_it}"))  # fmt: skip
    total = sum(count for count, _ in _events(sc, duration))
    if total > limits.max_events:
        count, where = max(_events(sc, duration))
        problems.append(Problem(where, f"the run would simulate about {total:.3g} events "
                                f"({count:.3g} from here), more than the limit of "
                                f"{limits.max_events}: space them out, shorten the duration, or "
                                "raise the limit (pumpsim run --max-events N; Python: "
                                "limits=Limits(max_events=N))"))  # fmt: skip
    return problems
