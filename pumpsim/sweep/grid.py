"""Sweep grids: axes over scenario fields, their points, and one seed per point.

An axis is written like a variant override (:mod:`pumpsim.scenario.variants`) with several
values: ``"pumps[0].program[0].rate=1,2,5 mL/h"`` is the field path, ``=``, the values
separated by commas and (optionally) one unit after the last number, which every value
takes. Values that are not numbers are kept as written (``"pumps[0].route=iv,sc"``).
The special axis ``replicate`` changes nothing in the scenario: its points differ only by
their seeds, which is how one large population (or ward) is spread over many tasks.

Every point is applied to the raw scenario and validated exactly like a scenario file
before anything runs; :func:`check_points` returns one problem per bad point.

Seeds
-----
One :class:`numpy.random.SeedSequence` (entropy = the sweep's ``seed``) is spawned into one
child per point, in point order. A point's run seed and population seed are drawn from its
child only, so a point's result depends on the sweep seed and its index, never on the
scheduler, the number of workers or the order in which tasks finish.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pumpsim.errors import Problem, ScenarioError

__all__ = ["Axis", "Grid", "Point", "parse_axis", "scenario_hash", "REPLICATE"]

#: the axis name that only changes seeds
REPLICATE = "replicate"

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBERS = re.compile(rf"\s*({_NUM}(?:\s*,\s*{_NUM})*)(?:\s*([^\s,\d.+-][^,]*?))?\s*")


@dataclass(frozen=True)
class Axis:
    """One grid axis: a field path and its values (as they go into the scenario).

    ``unit`` is the unit written after the numbers (``"mL/h"``), empty when none;
    ``numbers`` holds the numeric magnitudes when every value is a number.
    """

    path: str
    values: tuple[Any, ...]
    unit: str = ""
    numbers: tuple[float, ...] | None = None

    @property
    def column(self) -> str:
        """The results column of this axis: ``<path>[<unit>]`` (or the path alone)."""
        return f"{self.path}[{self.unit}]" if self.unit else self.path

    def column_value(self, i: int) -> Any:
        """The value of point ``i`` on this axis as stored in the results column (the
        number without its unit; plain numbers and words as written)."""
        return self.numbers[i] if self.numbers is not None and self.unit else self.values[i]


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and re.fullmatch(r"[-+]?\d+", text) else value


def parse_axis(text: str) -> Axis:
    """``"patient.weight=50,70,90 kg"`` -> an :class:`Axis`.

    Raises
    ------
    ValueError
        If the text has no ``=``, no values, a bad field path or a repeated value.
    """
    from pumpsim.scenario.variants import _split

    path, eq, rhs = text.partition("=")
    path = path.strip()
    if not eq or not path:
        raise ValueError(f"{text!r}: write an axis as PATH=V1,V2,... e.g. "
                         "'pumps[0].program[0].rate=1,2,5 mL/h'")  # fmt: skip
    if path != REPLICATE:
        _split(path)  # raises ValueError naming the allowed form
    m = _NUMBERS.fullmatch(rhs)
    if m is not None:
        raw = [x.strip() for x in m[1].split(",")]
        unit = m[2] or ""
        numbers = tuple(float(x) for x in raw)
        values: tuple[Any, ...] = (
            tuple(f"{x} {unit}" for x in raw) if unit else tuple(_number(x) for x in raw)
        )
    else:
        values = tuple(x.strip() for x in rhs.split(","))
        unit, numbers = "", None
        if any(not v for v in values):
            raise ValueError(f"{text!r}: empty value; write e.g. 'pumps[0].route=iv,sc'")
    if len(set(values)) != len(values):
        raise ValueError(f"{text!r}: a value is repeated")
    if path == REPLICATE and (numbers is None or unit):
        raise ValueError(f"{text!r}: replicates are plain integers, e.g. 'replicate=0,1,2'")
    return Axis(path, values, unit, numbers)


@dataclass(frozen=True)
class Point:
    """One grid point: its index, its field overrides and its seeds."""

    index: int
    overrides: dict[str, Any]
    run_seed: int
    population_seed: int

    @property
    def label(self) -> str:
        """``"pumps[0].program[0].rate=2 mL/h, patient.weight=70 kg"``."""
        return ", ".join(f"{k}={v}" for k, v in self.overrides.items()) or "(base scenario)"

    @property
    def name(self) -> str:
        """The partition directory name: ``point=0007``."""
        return f"point={self.index:04d}"


@dataclass
class Grid:
    """The product of several axes; points are numbered in row-major (C) order.

    Parameters
    ----------
    axes : sequence of Axis
        The first axis varies slowest.
    seed : int
        Entropy of the sweep's :class:`numpy.random.SeedSequence`.
    """

    axes: Sequence[Axis]
    seed: int = 0
    points: list[Point] = field(init=False)

    def __post_init__(self) -> None:
        paths = [a.path for a in self.axes]
        if len(set(paths)) != len(paths):
            raise ValueError(f"an axis is given twice: {', '.join(paths)}")
        combos = list(itertools.product(*(a.values for a in self.axes)))
        children = np.random.SeedSequence(self.seed).spawn(len(combos))
        self.points = []
        for i, (combo, child) in enumerate(zip(combos, children, strict=True)):
            run_seed, pop_seed = (int(x) for x in child.generate_state(2, dtype=np.uint32))
            overrides = dict(zip(paths, combo, strict=True))
            self.points.append(Point(i, overrides, run_seed, pop_seed))

    @classmethod
    def from_strings(cls, axes: Iterable[str], seed: int = 0, replicates: int = 0) -> Grid:
        """A grid from ``--grid`` texts (and ``replicates`` > 0 adds a replicate axis)."""
        parsed = [parse_axis(t) for t in axes]
        if replicates > 0:
            if any(a.path == REPLICATE for a in parsed):
                raise ValueError("give replicates either as an axis or as a count, not both")
            reps = tuple(range(replicates))
            parsed.append(Axis(REPLICATE, reps, "", tuple(float(r) for r in reps)))  # ints
        return cls(parsed, seed)

    def columns(self, point: Point) -> dict[str, Any]:
        """Results columns of ``point``'s grid values (one per axis)."""
        idx = np.unravel_index(point.index, [len(a.values) for a in self.axes])
        return {a.column: a.column_value(int(i)) for a, i in zip(self.axes, idx, strict=True)}

    def describe(self) -> list[dict[str, Any]]:
        """The axes as JSON-able records (for the sweep's manifest)."""
        return [{"path": a.path, "values": list(a.values), "unit": a.unit} for a in self.axes]


def apply_point(raw: Mapping[str, Any], point: Point) -> dict[str, Any]:
    """A copy of the raw scenario mapping with ``point``'s overrides applied."""
    from pumpsim.scenario.variants import apply_variant

    overrides = {k: v for k, v in point.overrides.items() if k != REPLICATE}
    base = {k: v for k, v in raw.items() if k not in ("variants", "compare")}
    data = apply_variant({**copy.deepcopy(base), "variants": {"point": overrides}}, "point")
    data["name"] = f"{raw.get('name', 'unnamed scenario')} [{point.label}]"
    return data


def check_points(raw: Mapping[str, Any], grid: Grid, validate: Any) -> list[Problem]:
    """One problem per grid point whose scenario is not valid (empty when all are).

    ``validate(data)`` validates one raw scenario mapping and raises ScenarioError.
    """
    problems: list[Problem] = []
    for point in grid.points:
        try:
            validate(apply_point(raw, point))
        except ScenarioError as exc:
            why = "; ".join(f"{p.path}: {p.message}" if p.path else p.message
                            for p in exc.problems)  # fmt: skip
            problems.append(Problem(f"grid point {point.index} ({point.label})", why))
    return problems


def scenario_hash(raw: Mapping[str, Any]) -> str:
    """SHA-256 of the raw scenario mapping as canonical JSON (sorted keys)."""
    text = json.dumps(raw, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
