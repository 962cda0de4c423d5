"""One sweep task: run one grid point (with its whole virtual population) to a table.

A task is a plain function of picklable arguments, so the same function runs in this
process, in a local worker process or on a Dask worker elsewhere. It returns a
:class:`pyarrow.Table` (one row per patient and drug; for a ward, one row per alarm
priority, see :mod:`pumpsim.ward.sweep`); the client writes it (:mod:`pumpsim.sweep.store`),
so workers need no shared file system.

Per-patient metrics
-------------------
``cmax`` and ``tmax_s`` are read on the scenario's output grid (as in a run's summary);
``auc`` is the exact integral of the plasma concentration (the solver's AUC state, the
same number a run's summary reports); ``time_in_range_s`` is the time the sampled plasma
concentration spends inside the target range, each sample (but the last) standing for the
output interval after it (so its resolution is the scenario's ``output.interval``). ``alarms`` and
``volume_mL`` are the run's (the pumps do not differ between the patients of a
population), repeated on each row.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

__all__ = ["run_point", "with_population", "parse_target", "METRICS"]

#: per-row metrics of a scenario point, in column order
METRICS = ("cmax", "tmax_s", "auc", "time_in_range_s", "alarms", "alarms_high", "volume_mL")


def parse_target(text: str) -> tuple[str, str, str]:
    """``"propofol=2-4 ug/mL"`` -> ``("propofol", "2 ug/mL", "4 ug/mL")``."""
    import re

    m = re.fullmatch(r"\s*(\w+)\s*=\s*([-+.\deE]+)\s*-\s*([-+.\deE]+)\s*(\S+)\s*", text)
    if m is None:
        raise ValueError(f"{text!r}: write a target range as DRUG=LOW-HIGH UNIT, "
                         "e.g. 'propofol=2-4 ug/mL'")  # fmt: skip
    return m[1], f"{m[2]} {m[4]}", f"{m[3]} {m[4]}"


def with_population(data: Mapping[str, Any], n: int | None, seed: int) -> dict[str, Any]:
    """The raw scenario with a population of ``n`` (or its own) drawn from ``seed``."""
    out = copy.deepcopy(dict(data))
    patient = out.get("patient")
    if not isinstance(patient, dict):
        return out
    pop = patient.get("population")
    if n is not None:
        pop = {**(pop if isinstance(pop, dict) else {}), "n": n}
    if isinstance(pop, dict):
        patient["population"] = {**pop, "seed": seed}
    return out


def _target_in(unit: str, target: tuple[str, str] | None) -> tuple[float, float] | None:
    """The target range converted into the drug's plasma ``unit``."""
    if target is None:
        return None
    from pumpsim.units import parse_amount

    one = parse_amount(f"1 {unit}", "concentration").value
    lo, hi = (parse_amount(t, "concentration").value / one for t in target)
    return lo, hi


def run_point(
    data: dict[str, Any],
    columns: dict[str, Any],
    point: int,
    run_seed: int,
    population_seed: int,
    n: int | None,
    targets: dict[str, tuple[str, str]] | None = None,
) -> pa.Table:
    """Run one grid point and return its rows (see the module docstring).

    Parameters
    ----------
    data : dict
        The raw scenario of this point (overrides applied, validated by the caller).
    columns : dict
        Grid-value columns of this point (repeated on every row).
    point : int
        The point's index.
    run_seed, population_seed : int
        From the point's child of the sweep's SeedSequence.
    n : int, optional
        Virtual population size (default: the scenario's population, else one patient).
    targets : dict, optional
        Drug -> (low, high) target plasma concentration, with units.
    """
    if "beds" in data:  # a ward scenario: the ward's own task
        from pumpsim.ward.sweep import run_ward_point

        return run_ward_point(data, columns, point, run_seed)
    import pyarrow as pa

    from pumpsim.engine.result import exposure_metrics
    from pumpsim.engine.simulation import Simulation
    from pumpsim.scenario.load import load_scenario

    sc = load_scenario(with_population(data, n, population_seed))
    sim = Simulation(sc, seed=run_seed)
    res = sim.run()
    grid = np.asarray(res.timeseries.index, dtype=float)
    interval = float(sc.output.interval)
    alarms = res.summary["alarms"]
    high = sum(1 for a in alarms if a.get("priority") == "high")
    volume = float(sum(p["volume_infused_mL"] for p in res.summary["pumps"].values()))
    rows: dict[str, list[Any]] = {k: [] for k in ("patient", "drug", "plasma_unit", *METRICS)}
    for name, ch in sim.patient.channels.items():
        unit = ch.drug.plasma_unit
        if name in res.population:
            plasma = np.atleast_2d(res.population[name]["plasma"])
        else:
            plasma = np.asarray(res.timeseries[f"patient.{name}.plasma[{unit}]"])[None, :]
        metrics = exposure_metrics(grid, plasma)
        idx = ch.system.states.index("auc")
        final = ch.solver.state(sim.duration)
        auc = np.broadcast_to(final[..., idx] * ch.drug.plasma_factor / 3600.0, plasma.shape[:1])
        rng = _target_in(unit, (targets or {}).get(name))
        if rng is None:
            tir = np.full(plasma.shape[0], np.nan)
        else:
            inside = (plasma[:, :-1] >= rng[0]) & (plasma[:, :-1] <= rng[1])
            tir = inside.sum(axis=1) * interval  # each sample stands for the interval after it
        m = plasma.shape[0]
        rows["patient"] += range(m)
        rows["drug"] += [name] * m
        rows["plasma_unit"] += [unit] * m
        rows["cmax"] += metrics["cmax"].tolist()
        rows["tmax_s"] += np.asarray(metrics["tmax_s"], dtype=float).tolist()
        rows["auc"] += np.asarray(auc, dtype=float).tolist()
        rows["time_in_range_s"] += tir.tolist()
        rows["alarms"] += [len(alarms)] * m
        rows["alarms_high"] += [high] * m
        rows["volume_mL"] += [volume] * m
    size = len(rows["patient"])
    table: dict[str, Any] = {"point": pa.array([point] * size, pa.int32())}
    for col, value in columns.items():
        table[col] = [value] * size
    for key in ("patient", "alarms", "alarms_high"):
        table[key] = pa.array(rows[key], pa.int32())
    for key in ("drug", "plasma_unit"):
        table[key] = pa.array(rows[key], pa.string())
    for key in ("cmax", "tmax_s", "auc", "time_in_range_s", "volume_mL"):
        table[key] = pa.array(rows[key], pa.float64())
    return pa.table(table)
