"""Running several arms of one scenario and setting them side by side.

An arm is a named variant of a scenario (:mod:`pumpsim.scenario.variants`).
:func:`run_comparison` runs every arm with the same seed; the
:class:`Comparison` gives one exposure table and one figure with all arms on
shared axes. :func:`compare_routes` builds the classic teaching case — the
same dose by IV, SC, IM, IO and epidural — from a drug and a dose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pumpsim.engine.result import Result
from pumpsim.engine.simulation import simulate
from pumpsim.errors import Problem, ScenarioError
from pumpsim.pk.registry import get_drug, get_model
from pumpsim.scenario.load import _raw, load_scenario
from pumpsim.scenario.variants import variant_names

__all__ = ["Comparison", "run_comparison", "compare_routes", "time_above"]


def time_above(time_s: np.ndarray, conc: np.ndarray, threshold: float) -> float:
    """Time [s] the sampled concentration spends at or above ``threshold``.

    Each output interval counts when its left sample is at or above the
    threshold (resolution: the output interval).
    """
    if time_s.size < 2:
        return 0.0
    dt = np.diff(time_s)
    return float(np.sum(dt[conc[:-1] >= threshold]))


#: (line style, marker) of the arms, in order: no two of the first six alike
ARM_STYLES: tuple[tuple[Any, str], ...] = (
    ("-", ""), ((0, (5, 2)), "o"), ((0, (1, 1.5)), "s"), ("-.", "^"),
    ((0, (8, 2, 1, 2, 1, 2)), "D"), ((0, (3, 3)), "v"),
)  # fmt: skip


@dataclass
class Comparison:
    """Results of several arms of one scenario, by arm name."""

    results: dict[str, Result]

    def drugs(self) -> list[str]:
        names: list[str] = []
        for res in self.results.values():
            names += [d for d in res.summary["drugs"] if d not in names]
        return names

    def _unit(self, drug: str) -> str:
        """The plasma unit of ``drug`` (from the first arm that gives it)."""
        for res in self.results.values():
            if drug in res.summary["drugs"]:
                return str(res.summary["drugs"][drug]["plasma_unit"])
        return ""

    def table(self, thresholds: Mapping[str, float] | None = None) -> pd.DataFrame:
        """Exposure per arm and drug: route(s), F, Cmax, Tmax [min], AUC, time above.

        Numbers are numbers: ``F`` is the bioavailability (a fraction; NaN when
        an arm gives a drug by several routes, which a ``F by route`` column then
        lists). Each concentration column names its unit, e.g. ``Cmax [ng/mL]``.
        ``thresholds`` maps drug -> plasma concentration in the drug's plasma
        unit; with it, the table has a ``time_above_min`` column.
        """
        rows = []
        for arm, res in self.results.items():
            t = res.timeseries.index.to_numpy(dtype=float)
            for drug, d in res.summary["drugs"].items():
                routes = d.get("routes", {})
                bio = [float(r["bioavailability"]) for r in routes.values()]
                row: dict[str, Any] = {
                    "arm": arm,
                    "drug": drug,
                    "route": ",".join(routes) or "-",
                    "F": bio[0] if len(bio) == 1 else float("nan"),  # several: F by route
                    f"Cmax [{d['plasma_unit']}]": d["cmax"],
                    "Tmax [min]": d["tmax_s"] / 60.0,
                    f"AUC [{d['auc_unit']}]": d["auc"],
                    "model": d["model"],
                }
                if len(bio) > 1:
                    row["F by route"] = ", ".join(f"{r} {f:.3g}" for r, f in zip(routes, bio,
                                                                                strict=True))
                if thresholds and drug in thresholds:
                    conc = res.timeseries[f"patient.{drug}.plasma[{d['plasma_unit']}]"].to_numpy()
                    row["time_above_min"] = time_above(t, conc, thresholds[drug]) / 60.0
                rows.append(row)
        return pd.DataFrame(rows)

    def citations(self) -> list[str]:
        out: list[str] = []
        for res in self.results.values():
            out += [c for c in res.citations if c not in out]
        return out

    def plot(self, drug: str | None = None, ax: Any = None, log: bool = False,
             threshold: float | None = None) -> Any:  # fmt: skip
        """Plasma concentration of ``drug`` (default: the first) for every arm, one axes.

        ``log=True`` draws a logarithmic concentration axis, which shows absorption
        and terminal phases that an IV peak would flatten. Each arm has its own
        colour, line style and marker, so arms whose curves nearly coincide (IV and
        IO) stay apart in print and for colour-blind readers. ``threshold`` (in the
        drug's plasma unit) is drawn as a horizontal dashed line.
        """
        from pumpsim.plot import display_unit

        drug = drug or self.drugs()[0]
        if ax is None:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
        else:
            fig = ax.figure
        unit = self._unit(drug)
        arms = [arm for arm, res in self.results.items() if drug in res.summary["drugs"]]
        for i, arm in enumerate(arms):
            res = self.results[arm]
            t = res.timeseries.index.to_numpy(dtype=float) / 60.0
            ls, marker = ARM_STYLES[i % len(ARM_STYLES)]
            ax.plot(t, res.timeseries[f"patient.{drug}.plasma[{unit}]"], label=arm, ls=ls,
                    marker=marker, markevery=(0.02 * (i % 5), 0.1), ms=4,
                    color=f"C{i % 10}", lw=1.4)  # fmt: skip
        ax.set_xlabel("time [min]")
        ax.set_ylabel(display_unit(f"{drug} plasma [{unit}]"))
        if log:
            ax.set_yscale("log")
            top = max(float(np.nanmax(line.get_ydata())) for line in ax.get_lines())
            ax.set_ylim(top * 1e-3, top * 2)
        if threshold is not None:
            ax.axhline(threshold, color="k", ls=(0, (6, 3)), lw=1.0, gid="threshold",
                       label=display_unit(f"threshold {threshold:.4g} {unit}"))  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(title="arm", fontsize="small")
        return fig

    def figure(self, drug: str | None = None, fig: Any = None,
               threshold: float | None = None) -> Any:  # fmt: skip
        """Linear and logarithmic panels side by side, titled, with the citations under them
        (wrapped, never cut); ``threshold`` [plasma unit] drawn on both panels."""
        from pumpsim.plot import add_citations

        drug = drug or self.drugs()[0]
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(12, 5.5), layout="constrained")
        left, right = fig.subplots(1, 2)
        self.plot(drug, ax=left, threshold=threshold)
        _clip_spikes(left, self._unit(drug))
        self.plot(drug, ax=right, log=True, threshold=threshold)
        first = next(iter(self.results.values()))
        fig.suptitle(first.scenario.name.split(" [")[0], fontsize="medium")
        add_citations(fig, self.citations())
        return fig

    def save(self, out_dir: str | Path, thresholds: Mapping[str, float] | None = None,
             plots: bool = True, force: bool = False, formats: Sequence[str] = ("png",),
             dpi: int = 110) -> Path:  # fmt: skip
        """Each arm's files under ``arms/<arm>/``, ``comparison.csv``, ``plots/comparison.png``,
        into the new or empty folder ``out_dir`` as a whole (see :func:`pumpsim.io.output_folder`;
        ``force`` replaces an earlier pumpsim output). ``formats`` adds SVG / PDF copies of
        each figure; ``dpi`` is the PNG resolution; ``thresholds`` are drawn."""
        from pumpsim.io import output_folder, write_files

        with output_folder(out_dir, force) as tmp:
            for arm, res in self.results.items():
                write_files(res, tmp / "arms" / arm, plots=False)
            self.table(thresholds).to_csv(tmp / "comparison.csv", index=False,
                                          float_format="%.6g")  # fmt: skip
            if plots:
                from matplotlib.figure import Figure

                from pumpsim.plot import save_figure

                (tmp / "plots").mkdir()
                for drug in self.drugs():
                    fig = self.figure(drug, fig=Figure(figsize=(12, 5.5), layout="constrained"),
                                      threshold=(thresholds or {}).get(drug))  # fmt: skip
                    name = "comparison.png" if drug == self.drugs()[0] else f"comparison_{drug}.png"
                    save_figure(fig, tmp / "plots" / name, formats, dpi)
        return Path(out_dir)


def _clip_spikes(ax: Any, unit: str, ratio: float = 5.0) -> None:
    """Keep the slower arms readable on a linear axis: when an arm peaks more than
    ``ratio`` times the median arm peak (IV and IO pushes against absorption routes),
    cap the axis at 1.3 x that median and name, with its peak, every arm it cuts."""
    lines = [line for line in ax.get_lines() if line.get_gid() != "threshold"]
    peaks = [float(np.nanmax(line.get_ydata())) for line in lines]
    if len(peaks) < 3 or max(peaks) <= ratio * float(np.median(peaks)):
        return
    cap = 1.3 * float(np.median(peaks))
    cut = [(line.get_label(), p) for line, p in zip(lines, peaks, strict=True) if p > cap]
    ax.set_ylim(0.0, cap)
    text = ", ".join(f"{arm} {p:.4g}" for arm, p in cut)
    from pumpsim.plot import display_unit

    ax.text(0.98, 0.98, display_unit(f"off scale: {text} {unit} (peaks; the log panel shows all)"),
            transform=ax.transAxes, ha="right", va="top", fontsize="x-small")  # fmt: skip
    ax.legend(title="arm", fontsize="small", loc="center right")


def run_comparison(
    source: Any,
    seed: int | None = None,
    arms: Sequence[str] | None = None,
    controller: Any = None,
    progress: Callable[[str], None] | None = None,
    **load_options: Any,
) -> Comparison:
    """Run the arms of a scenario (default: every variant) with the same seed.

    Parameters
    ----------
    source : path, mapping
        A scenario that declares ``variants:``.
    seed : int, optional
        One seed for every arm, so arms differ only by their variant.
    arms : sequence of str, optional
        Variant names to run (default: all).

    Returns
    -------
    Comparison
        One :class:`~pumpsim.engine.result.Result` per arm; ``table()`` gives
        Cmax [plasma unit], Tmax [min], AUC [plasma unit·h] per arm.

    Notes
    -----
    The unmodified scenario runs as arm ``base`` unless one of its variants
    is empty (``{}``), which then names the base arm. ``controller`` (a factory or
    ``"module:Class"``) runs every pump of every arm, as in :func:`pumpsim.simulate`;
    ``progress`` is called with each arm's name once it has run; ``load_options``
    go to :func:`pumpsim.load_scenario` (``allow_controller``, ``allow_paths``, ``limits``).

    References
    ----------
    Route data behind each arm: docs/references.md, the keys the model cites
    (``pumpsim models``).
    """
    raw, label = _raw(source)
    names = list(arms) if arms is not None else variant_names(raw)
    if not names:
        raise ScenarioError([Problem("variants", "a comparison needs variants; none declared")],
                            label)  # fmt: skip
    variants = raw.get("variants") or {}
    has_empty = any(variants.get(n) == {} for n in names)
    if isinstance(controller, str):
        from pumpsim.pump.controller import load_controller

        controller = load_controller(controller)  # imported once, for every arm
    plan = ([("base", None)] if arms is None and not has_empty else []) + [(n, n) for n in names]
    scenarios = {arm: load_scenario(source, variant=v, **load_options) for arm, v in plan}
    results: dict[str, Result] = {}
    for arm, sc in scenarios.items():
        results[arm] = simulate(sc, seed=seed, controller=controller)
        if progress is not None:
            progress(arm)
    return Comparison(results)


def compare_routes(
    drug: str,
    dose: str,
    routes: Sequence[str] | None = None,
    patient: Mapping[str, Any] | None = None,
    duration: str = "4 h",
    interval: str = "30 s",
    salt: str | None = None,
    pk_model: str | None = None,
    seed: int | None = None,
    over: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """The same ``dose`` of ``drug`` by each route, one arm per route.

    Parameters
    ----------
    drug : str
        A drug the library knows (``pumpsim models``).
    dose : str
        With its unit, e.g. ``"10 mg"`` or ``"0.1 mg/kg"``.
    routes : sequence of str, optional
        Among ``iv``, ``sc``, ``im``, ``io``, ``epidural``; default every route
        the drug's model has published data for.
    patient : mapping, optional
        Scenario ``patient:`` block; default a 40-year-old, 70 kg, 170 cm man.
    duration, interval : str
        Simulated time and output interval, with units (default ``"4 h"``, ``"30 s"``).
    salt : str, optional
        The dose is of this salt (e.g. ``"sulfate"``: 10 mg morphine sulfate is
        7.52 mg base, docs/references.md [MorphineSalt]).
    pk_model : str, optional
        A model key (default: the drug's default model).
    seed : int, optional
    over : str, optional
        Give each dose at a constant rate over this time (e.g. ``"1 min"``);
        without it each dose is an instantaneous push, whose IV peak is the
        model's dose/V1 at time zero.

    Returns
    -------
    Comparison
        ``table()`` (F, Cmax, Tmax [min], AUC, time above a threshold [min]) and
        ``figure()``.

    References
    ----------
    Morphine routes: docs/references.md [Sarton2000] [StuartHarris2000]
    [Stanski1978] [Nordberg1984] [VonHoff2008]; other drugs: the keys their model cites.
    """
    spec = get_model(drug, pk_model)
    get_drug(drug)
    routes = list(routes) if routes is not None else list(spec.routes)
    patient = dict(patient or {"age": "40 y", "weight": "70 kg", "height": "170 cm",
                               "sex": "male"})  # fmt: skip
    event: dict[str, Any] = {"at": "0 min", "type": "bolus", "drug": drug, "dose": dose,
                             "route": routes[0]}  # fmt: skip
    if salt:
        event["salt"] = salt
    if pk_model:
        event["pk_model"] = pk_model
    if over:
        event["duration"] = over
    scenario = {
        "name": f"{dose} {drug}{' ' + salt if salt else ''}{' over ' + over if over else ''} "
        f"by {', '.join(routes)}",
        "duration": duration,
        "output": {"interval": interval},
        "patient": patient,
        "events": [event],
        "variants": {route: {"events[0].route": route} for route in routes},
        "compare": True,
    }
    try:
        return run_comparison(scenario, seed=seed, arms=routes, progress=progress)
    except ScenarioError as exc:  # name the arguments, not the scenario built from them
        raise ScenarioError([Problem(_ROUTES_ARGS.get(p.path, p.path), p.message)
                             for p in exc.problems], "compare_routes") from None  # fmt: skip


#: scenario fields built by :func:`compare_routes` -> the argument they came from
_ROUTES_ARGS = {"events[0].duration": "over", "events[0].dose": "dose", "events[0].salt": "salt",
                "events[0].drug": "drug", "events[0].route": "routes", "duration": "duration",
                "events[0].pk_model": "pk_model"}  # fmt: skip
