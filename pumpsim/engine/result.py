"""What a run returns: time series, event log, summary, plot.

Columns are named ``<path>[<unit>]`` (``pump.A.flow[mL/h]``,
``patient.propofol.plasma[ug/mL]``); the index is ``time_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pumpsim._version import __version__
from pumpsim.engine.recorder import EventRecord

if TYPE_CHECKING:  # pragma: no cover
    from pumpsim.engine.simulation import Simulation
    from pumpsim.scenario.schema import Scenario

__all__ = ["Result", "Summary", "build_result", "exposure_metrics"]


class Summary(dict):  # type: ignore[type-arg]
    """The run's summary: a plain dict whose ``"requirements"`` entry (the safety-requirement
    verdicts) is computed the first time anything reads it, not during the run.

    Reading another key (``summary["drugs"]``) computes nothing; iterating, ``items()``,
    ``json.dumps`` or ``summary["requirements"]`` compute the verdicts once and keep them.
    """

    def __init__(self, data: dict[str, Any], lazy: dict[str, Any] | None = None) -> None:
        super().__init__(data)
        self._lazy: dict[str, Any] = dict(lazy or {})  # key -> callable returning its value

    def _fill(self, key: Any = None) -> None:
        for k in list(self._lazy) if key is None else [key]:
            make = self._lazy.pop(k, None)
            if make is not None:
                dict.__setitem__(self, k, make())

    def __getitem__(self, key: Any) -> Any:
        if key in self._lazy:
            self._fill(key)
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self._lazy:
            self._fill(key)
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._lazy or dict.__contains__(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._lazy.pop(key, None)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        if self._lazy.pop(key, None) is None:
            dict.__delitem__(self, key)

    def __len__(self) -> int:
        return dict.__len__(self) + len(self._lazy)

    def _whole(self) -> Summary:
        self._fill()
        return self

    def __iter__(self) -> Any:
        return dict.__iter__(self._whole())

    def keys(self) -> Any:
        return dict.keys(self._whole())

    def items(self) -> Any:
        return dict.items(self._whole())

    def values(self) -> Any:
        return dict.values(self._whole())

    def copy(self) -> dict[str, Any]:
        return dict(self.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Summary):
            other._fill()
        return dict.__eq__(self._whole(), other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return dict.__repr__(self._whole())

    def __reduce__(self) -> Any:
        return (Summary, (dict(self.items()),))


class _Verdicts:
    """The oracles' inputs for one run, and their verdicts once asked (computed once)."""

    def __init__(
        self,
        sc: Any,
        records: list[EventRecord],
        frame: pd.DataFrame,
        motors: dict[str, Any],
        duration: float,
        pressures: dict[str, Any],
    ) -> None:
        self.args = (sc, records, frame, motors, duration, pressures)
        self.value: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        if self.value is None:
            from pumpsim.analysis.requirements import evaluate  # safety-requirement oracles

            self.value = evaluate(*self.args)
        return self.value

    def as_dicts(self) -> dict[str, Any]:
        return {rid: v.as_dict() for rid, v in self().items()}


@dataclass
class Result:
    """The outcome of :func:`pumpsim.simulate`.

    Attributes
    ----------
    scenario : Scenario
        The validated scenario that ran (duration resolved).
    seed : int
    timeseries : pandas.DataFrame
        One row per output time (index ``time_s``), columns ``<path>[<unit>]``.
    events : list of EventRecord
        The event log: ``time_s``, ``source``, ``kind``, ``details``.
    summary : dict
        Volumes, alarms, exposure metrics per drug, citations, warnings.
    population : dict
        For a virtual population: drug -> {"plasma", "effect"} arrays of shape
        (patients, times), in the drug's plasma unit; the time series then holds
        percentiles.
    warnings : list of str
        What the run could not honour exactly, one line each.

    Notes
    -----
    Units: time [s]; volumes [mL]; flows [mL/h]; pressures [mmHg]; plasma and
    effect-site concentrations in each drug's customary unit (named in the
    column, e.g. ``[ug/mL]``, ``[ng/mL]``, ``[IU/mL]``); vitals HR and RR
    [1/min], MAP [mmHg], SpO2 [%]. Column names are ``<path>[<unit>]``.

    The safety-requirement verdicts (:attr:`requirements`, ``summary["requirements"]``) are
    computed the first time they are read, not during :func:`pumpsim.simulate`.

    References
    ----------
    The result format: docs/design.md ("Pinned public interfaces"). Each model a
    run used is listed in ``summary["citations"]`` (its docs/references.md entry).
    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    events: list[EventRecord]
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    population: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    _verdicts: _Verdicts | None = field(default=None, repr=False, compare=False)

    @property
    def requirements(self) -> dict[str, Any]:
        """Every safety requirement's :class:`~pumpsim.analysis.runview.Verdict` on this run
        (from the motor's exact breakpoints; computed on first use, then kept)."""
        if self._verdicts is None:  # a result built elsewhere: judge its sampled flows
            from pumpsim.analysis.requirements import check_requirements

            end = self.scenario.duration
            end = float(end) if end is not None else float(self.timeseries.index[-1])
            self._verdicts = _Verdicts(self.scenario, self.events, self.timeseries, {}, end, {})
            self._verdicts.value = check_requirements(self)
        return self._verdicts()

    @property
    def citations(self) -> list[str]:
        """Full citations of the models this run used (see docs/references.md)."""
        return list(self.summary.get("citations", []))

    def events_frame(self) -> pd.DataFrame:
        """The event log as a DataFrame (one row per record)."""
        return pd.DataFrame(
            [
                {"time_s": e.time_s, "source": e.source, "kind": e.kind, "details": e.details}
                for e in self.events
            ]  # fmt: skip
        )

    def plot(self, **kwargs: Any) -> Any:
        """The overview figure (see :func:`pumpsim.plot.overview`).

        Returns
        -------
        matplotlib.figure.Figure
            Flow [mL/h], pressure [mmHg], concentrations and vitals against time.
        """
        from pumpsim.plot import overview

        return overview(self, **kwargs)

    def save(self, out_dir: str | Path, plots: bool = True, force: bool = False) -> Path:
        """Write the run's files into the new or empty folder ``out_dir`` (see
        :func:`pumpsim.io.write_result`).

        Parameters
        ----------
        out_dir : str or pathlib.Path
            Folder for ``timeseries.csv``, ``events.jsonl``, ``summary.json``,
            ``scenario.resolved.yaml`` and ``plots/*.png``.
        plots : bool
            Also draw the figures.
        force : bool
            Replace an earlier pumpsim output in ``out_dir``.

        Returns
        -------
        pathlib.Path
            The folder written.
        """
        from pumpsim.io import write_result

        return write_result(self, out_dir, plots=plots, force=force)


def exposure_metrics(time_s: np.ndarray, conc: np.ndarray) -> dict[str, Any]:
    """Cmax and Tmax [s] on the output grid, per patient along the last axis."""
    if conc.shape[-1] == 0:
        return {"cmax": np.zeros(conc.shape[:-1]), "tmax_s": np.zeros(conc.shape[:-1])}
    i = np.argmax(conc, axis=-1)
    return {"cmax": np.max(conc, axis=-1), "tmax_s": np.asarray(time_s)[i]}


def _concentrations(ch: Any, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Plasma and effect-site concentration in the drug's plasma unit, shape (..., K)."""
    system = ch.system
    names = ["central"] + (["effect"] if system.has_effect else [])
    rows = np.zeros((len(names), system.n))
    for r, name in enumerate(names):
        rows[r, system.index(name)] = 1.0
    solver = ch.solver
    y = None
    dynamic = [i for i, s in enumerate(system.states)
               if s not in ("eliminated", "not_absorbed", "auc")]  # fmt: skip
    if hasattr(solver, "sample_modal") and np.ndim(system.v1) > 0:  # a population: fastest
        try:
            y = solver.sample_modal(grid, rows, dynamic)
        except ValueError:  # repeated rates (transit chains): the general exact path
            y = None
    if y is None:
        if hasattr(solver, "sample_modal"):  # the exact linear solver: only what feeds back
            y = solver.sample(grid, rows, dynamic)
        else:
            try:
                y = solver.sample(grid, rows)
            except TypeError:  # a solver that returns full states
                y = solver.sample(grid) @ rows.T
    factor = ch.drug.plasma_factor
    plasma = y[..., 0] / np.asarray(system.v1)[..., None] * factor
    effect = y[..., 1] * factor if system.has_effect else None
    return plasma, effect


def _tci_and_bis(sim: Simulation, frame: pd.DataFrame, population: dict[str, Any],
                 summary: dict[str, Any]) -> None:  # fmt: skip
    """Varvel metrics of TCI predictions (``summary["tci"]``) and BIS control metrics
    (``summary["bis"]``) (:mod:`pumpsim.analysis.tci_metrics`)."""
    from pumpsim.analysis.tci_metrics import closed_loop_metrics, tci_summary

    tci, arrays = tci_summary(frame, population, {p.id: p.drug for p in sim.scenario.pumps})
    if tci:
        summary["tci"] = tci
        population["tci"] = arrays
    for col in ("monitor.bis[1]", "patient.bis[1]"):
        if col in frame:
            summary["bis"] = {"column": col, **closed_loop_metrics(frame[col], frame.index)}
            break


def build_result(sim: Simulation) -> Result:
    """Sample every recorded signal on the output grid and summarise the run."""
    sc = sim.scenario
    interval = sc.output.interval
    grid = np.arange(0.0, sim.duration + 1e-9 * interval, interval)
    columns: dict[str, np.ndarray] = {}
    pumps_summary: dict[str, Any] = {}
    alarms = [
        {"time_s": e.time_s, "source": e.source, **e.details}
        for e in sim.log.records
        if e.kind == "alarm"
    ]
    lost: dict[str, float] = {}  # key (vol:<pump>, drug) -> lost at a disconnected site
    for site in sim.faults.sites() if hasattr(sim, "faults") else []:
        for k, v in site.lost.items():
            lost[k] = lost.get(k, 0.0) + v
    for pump in sc.pumps:
        rt = sim.pumps[pump.id]
        columns[f"pump.{pump.id}.flow[mL/h]"] = rt.flow.evaluate(grid) * 3600.0
        columns[f"pump.{pump.id}.infused[mL]"] = rt.infused_signal.evaluate(grid)
        columns[f"pump.{pump.id}.state"] = rt.state.evaluate(grid)
        columns.update(rt.columns(grid))  # pressure, delivered, line... (pumps with physics)
        if hasattr(rt.controller, "columns"):  # a controller's own signals (TCI predictions)
            columns.update(rt.controller.columns(grid))
        entry: dict[str, Any] = {
            "kind": pump.kind,
            "drug": pump.drug,
            "route": pump.route,
            "volume_infused_mL": rt.infused,
            "final_state": rt.state.values[-1],
            "alarms": sum(1 for a in alarms if a["source"] == rt.source),
            "lost_mL": lost.get(f"vol:{pump.id}", 0.0),  # left the tip while disconnected
            **rt.summary(),
        }
        if pump.concentration is not None:
            entry["amount_infused"] = {
                "value": rt.infused * pump.concentration.value,
                "unit": pump.concentration.unit,
            }
        pumps_summary[pump.id] = entry
    for manifold in getattr(sim, "manifolds", {}).values():
        columns.update(manifold.columns(grid))

    drugs_summary: dict[str, Any] = {}
    citations: list[str] = []
    population: dict[str, dict[str, np.ndarray]] = {}
    pop = sc.patient.population if sc.patient is not None else None
    exposure: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}  # for the vitals
    for name, ch in sim.patient.channels.items():
        system = ch.system
        unit = ch.drug.plasma_unit
        factor = ch.drug.plasma_factor
        plasma, effect = _concentrations(ch, grid)
        exposure[name] = (plasma, effect)
        final = ch.solver.state(sim.duration)
        idx = {s: i for i, s in enumerate(system.states)}
        not_body = ("effect", "auc", "eliminated", "not_absorbed")
        body = [i for s, i in idx.items() if s not in not_body]
        auc = final[..., idx["auc"]] * factor / 3600.0
        if pop is None:
            columns[f"patient.{name}.plasma[{unit}]"] = plasma
            if effect is not None:
                columns[f"patient.{name}.effect[{unit}]"] = effect
        else:
            population[name] = {"plasma": plasma}
            if effect is not None:
                population[name]["effect"] = effect
            for kind, values in population[name].items():
                bands = np.percentile(values, pop.percentiles, axis=0)  # one partition for all
                for pct, band in zip(pop.percentiles, bands, strict=True):
                    columns[f"patient.{name}.{kind}.p{pct:g}[{unit}]"] = band
        metrics = exposure_metrics(grid, plasma)
        absorption = {route: ch.spec.routes[route] for route in sorted(ch.routes_used)
                      if route in ch.spec.routes}  # fmt: skip
        cites = list(ch.spec.citations) + [a.citation for a in absorption.values() if a.citation]
        balance = np.sum(final[..., system.amount_states], axis=-1) - ch.given
        drug_entry: dict[str, Any] = {
            "model": ch.spec.key,
            "plasma_unit": unit,
            "cmax": float(np.median(metrics["cmax"])),
            "tmax_s": float(np.median(metrics["tmax_s"])),
            "auc": float(np.median(auc)),
            "auc_unit": f"{unit}*h",
            "amount_unit": ch.drug.amount_unit,
            "given": ch.given,
            "lost": lost.get(name, 0.0),  # left a disconnected line: never given
            "in_body": float(np.median(np.sum(final[..., body], axis=-1))),
            "eliminated": float(np.median(final[..., idx["eliminated"]])),
            "not_absorbed": float(np.median(final[..., idx["not_absorbed"]])),
            "mass_balance_error": float(np.max(np.abs(balance))),
            "routes": {route: {"bioavailability": a.bioavailability, "lag_s": a.lag * 60.0}
                       for route, a in absorption.items()},  # fmt: skip
            "citations": list(dict.fromkeys(str(c) for c in cites)),
        }
        if pop is not None:
            drug_entry["population"] = {
                "n": pop.n,
                "percentiles": {
                    key: {f"p{p:g}": float(np.percentile(values, p)) for p in pop.percentiles}
                    for key, values in (("cmax", metrics["cmax"]), ("tmax_s", metrics["tmax_s"]),
                                        ("auc", auc))
                },
                "variability": {k: float(v) for k, v in ch.spec.variability.items()},
                "variability_from_scenario": sorted(pop.variability.get(name, {})),
            }  # fmt: skip
        drugs_summary[name] = drug_entry
        for c in cites:
            if str(c) not in citations:
                citations.append(str(c))
    vitals: dict[str, Any] = {}
    if getattr(sim, "physiology", None) is not None:  # from the concentrations above
        cols, arrays, vitals = sim.physiology.columns(grid, exposure,
                                                      pop.percentiles if pop else None)
        columns.update(cols)
        if arrays:
            population["vitals"] = arrays
        citations += [c for c in vitals.get("citations", []) if c not in citations]
    from pumpsim.engine.bismonitor import bis_columns  # BIS: noise-free and as measured

    columns.update(bis_columns(sim, grid, exposure, pop.percentiles if pop else None))
    frame = pd.DataFrame(columns, index=pd.Index(grid, name="time_s"))
    warnings = list(sim.patient.warnings)
    summary = {
        "scenario": sc.name,
        "pumpsim_version": __version__,
        "seed": sim.seed,
        "duration_s": sim.duration,
        "pumps": pumps_summary,
        "drugs": drugs_summary,
        "alarms": alarms,
        "citations": citations,
        "warnings": warnings,
        **({"vitals": vitals} if vitals else {}),
    }
    _tci_and_bis(sim, frame, population, summary)  # TCI prediction and closed-loop metrics
    team = getattr(sim, "clinicians", None)  # pumpsim.engine.clinician
    if team is not None:
        summary["clinicians"] = team.summary()
    # the safety-requirement oracles run when their verdicts are first read (Result.requirements)
    motors = {pid: (sig.times, sig.values) for pid, rt in sim.pumps.items()
              for sig in [getattr(rt, "rate_signal", rt.flow)]}  # fmt: skip
    pressures = {pid: (sig.times, sig.values, sig.slopes) for pid, rt in sim.pumps.items()
                 if getattr(rt, "physics", False) for sig in [rt.pressure_signal]}  # fmt: skip
    records = list(sim.log.records)
    verdicts = _Verdicts(sc, records, frame, motors, sim.duration, pressures)
    lazy = Summary(summary, {"requirements": verdicts.as_dicts})
    return Result(sc, sim.seed, frame, records, lazy, warnings, population, verdicts)
