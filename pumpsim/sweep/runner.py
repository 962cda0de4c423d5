"""``pumpsim.sweep``: run a scenario over a grid of field values, each point a population.

Named steps: read the scenario, build the grid and its seeds, validate every point
(nothing runs if one is bad), open the output folder (or resume it), run the points not
yet written, write each partition as it arrives, then summarise and plot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pumpsim._version import __version__
from pumpsim.errors import Problem, ScenarioError
from pumpsim.sweep.grid import Grid, apply_point, check_points, scenario_hash
from pumpsim.sweep.schedulers import Task, check_scheduler, execute
from pumpsim.sweep.store import SweepStore

__all__ = ["sweep", "SweepResult"]


@dataclass
class SweepResult:
    """What :func:`sweep` did and where its results are.

    Attributes
    ----------
    out : Path
        The output folder (``points/`` Parquet dataset, ``summary.csv``, ``summary.png``).
    ran, skipped : list of int
        Points run now, and points already written by an earlier run (resumed).
    """

    out: Path
    grid: Grid
    ran: list[int]
    skipped: list[int]

    def frame(self) -> Any:
        """Every row of every point (pandas DataFrame)."""
        return SweepStore(self.out).read()

    def summary(self) -> Any:
        """The per-point summary table (pandas DataFrame)."""
        import pandas as pd

        return pd.read_csv(self.out / "summary.csv")


def _raw(scenario: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    from pumpsim.scenario.load import read_file
    from pumpsim.scenario.programming import anchor_paths

    if isinstance(scenario, Mapping):
        return dict(scenario), "<dict>"
    path = Path(scenario)
    return anchor_paths(read_file(path), path.parent), str(path)


def _validator(raw: Mapping[str, Any]) -> Any:
    if "beds" in raw:
        from pumpsim.ward.scenario import load_ward

        return load_ward
    from pumpsim.scenario.load import load_scenario

    return load_scenario


def sweep(
    scenario: str | Path | Mapping[str, Any],
    grid: Sequence[str] | Grid = (),
    out: str | Path = "out/sweep",
    population: int | None = None,
    seed: int = 0,
    replicates: int = 0,
    targets: Mapping[str, str] | None = None,
    scheduler: Any = "synchronous",
    workers: int | None = None,
    progress: bool = False,
    plots: bool = True,
) -> SweepResult:
    """Run ``scenario`` at every point of ``grid`` and write a Parquet dataset to ``out``.

    Parameters
    ----------
    scenario : path or mapping
        A pumpsim scenario (or a ward scenario, :mod:`pumpsim.ward`).
    grid : sequence of str or Grid
        Axes such as ``"pumps[0].program[0].rate=1,2,5 mL/h"`` (see
        :mod:`pumpsim.sweep.grid`).
    out : path
        Output folder; re-running the same sweep there skips points already written.
    population : int, optional
        Virtual patients per point (default: the scenario's own population, else one).
    seed : int
        Entropy of the sweep's SeedSequence (one child per point).
    replicates : int
        Add a ``replicate`` axis with this many values: the same point with other seeds.
    targets : mapping, optional
        Drug -> target plasma range, e.g. ``{"propofol": "2-4 ug/mL"}``.
    scheduler : str or distributed.Client
        ``"synchronous"``, ``"local"``/``"processes"``, ``"threads"``, ``"tcp://HOST:PORT"``
        or a Client (see :mod:`pumpsim.sweep.schedulers`).
    workers : int, optional
        Local workers (default: one per core, at most one per point).
    progress : bool
        Show a progress bar.
    plots : bool
        Write ``summary.png``.

    Raises
    ------
    ScenarioError
        One problem per bad grid point, or a bad axis, target or scheduler; nothing is
        run or written then.
    """
    raw, label = _raw(scenario)
    grid_obj = _grid(grid, seed, replicates, label)
    target_ranges = _targets(targets, label)
    try:
        check_scheduler(scheduler)
    except ValueError as exc:
        raise ScenarioError([Problem("scheduler", str(exc))], label) from None
    if population is not None and ("beds" in raw or not isinstance(raw.get("patient"), dict)):
        what = "a ward" if "beds" in raw else "a scenario without a patient"
        raise ScenarioError([Problem("population", f"{what} has no virtual population; "
                                     "leave --population out")], label)  # fmt: skip
    validate = _validator(raw)
    if "beds" not in raw:  # the population each task will run is part of what is checked
        def validate(data: dict[str, Any], _load: Any = validate) -> Any:
            from pumpsim.sweep.run import with_population

            return _load(with_population(data, population, 0))

    problems = check_points(raw, grid_obj, validate)
    if problems:
        raise ScenarioError(problems, label)
    store = SweepStore(out)
    manifest = {
        "pumpsim_version": __version__,
        "scenario_hash": scenario_hash(raw),
        "grid": grid_obj.describe(),
        "seed": seed,
        "population": population,
        "targets": {k: list(v) for k, v in sorted(target_ranges.items())},
    }
    store.open(manifest)
    done = store.done()
    tasks = [_task(raw, grid_obj, p.index, population, target_ranges)
             for p in grid_obj.points if p.index not in done]  # fmt: skip

    def write(task: Task, table: Any) -> None:
        point = grid_obj.points[task.index]
        store.write(point.name, table, {
            "pumpsim_version": __version__, "scenario_hash": manifest["scenario_hash"],
            "sweep_seed": seed, "point": point.index, "spawn_key": [point.index],
            "run_seed": point.run_seed, "population_seed": point.population_seed,
            "population": population, "overrides": point.overrides,
        })  # fmt: skip

    execute(tasks, scheduler, write, workers, progress, label=Path(label).stem)
    from pumpsim.sweep.summary import write_summary

    write_summary(store, grid_obj, plots)
    return SweepResult(store.out, grid_obj, [t.index for t in tasks], sorted(done))


def _grid(grid: Sequence[str] | Grid, seed: int, replicates: int, label: str) -> Grid:
    if isinstance(grid, Grid):
        return grid
    if isinstance(grid, str):
        grid = [grid]
    try:
        return Grid.from_strings(grid, seed, replicates)
    except ValueError as exc:
        raise ScenarioError([Problem("grid", str(exc))], label) from None


def _targets(targets: Mapping[str, str] | None, label: str) -> dict[str, tuple[str, str]]:
    from pumpsim.sweep.run import parse_target
    from pumpsim.units import parse_amount

    out: dict[str, tuple[str, str]] = {}
    for drug, text in (targets or {}).items():
        try:
            _, lo, hi = parse_target(f"{drug}={text}")
            low, high = (parse_amount(x, "concentration").value for x in (lo, hi))
        except ValueError as exc:
            raise ScenarioError([Problem(f"targets.{drug}", str(exc))], label) from None
        if not 0 <= low < high:
            raise ScenarioError([Problem(f"targets.{drug}", "needs 0 <= LOW < HIGH")], label)
        out[drug] = (lo, hi)
    return out


def _task(raw: Mapping[str, Any], grid: Grid, index: int, population: int | None,
          targets: dict[str, tuple[str, str]]) -> Task:  # fmt: skip
    from pumpsim.sweep.run import run_point

    point = grid.points[index]
    data = apply_point(raw, point)
    args = (data, grid.columns(point), point.index, point.run_seed, point.population_seed,
            population, targets)  # fmt: skip
    return Task(index, run_point, args)
