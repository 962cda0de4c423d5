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

__all__ = ["Result", "build_result", "exposure_metrics"]


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
    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    events: list[EventRecord]
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def citations(self) -> list[str]:
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
        """The overview figure (see :func:`pumpsim.plot.overview`)."""
        from pumpsim.plot import overview

        return overview(self, **kwargs)

    def save(self, out_dir: str | Path, plots: bool = True) -> Path:
        """Write the run's files into ``out_dir`` (see :func:`pumpsim.io.write_result`)."""
        from pumpsim.io import write_result

        return write_result(self, out_dir, plots=plots)


def exposure_metrics(time_s: np.ndarray, conc: np.ndarray) -> dict[str, float]:
    """Cmax, Tmax [s] and the time of the last positive value, on the output grid."""
    if conc.size == 0:
        return {"cmax": 0.0, "tmax_s": 0.0}
    i = int(np.argmax(conc))
    return {"cmax": float(conc[i]), "tmax_s": float(time_s[i])}


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
    for pump in sc.pumps:
        rt = sim.pumps[pump.id]
        columns[f"pump.{pump.id}.flow[mL/h]"] = rt.flow.evaluate(grid) * 3600.0
        columns[f"pump.{pump.id}.infused[mL]"] = rt.infused_signal.evaluate(grid)
        columns[f"pump.{pump.id}.state"] = rt.state.evaluate(grid)
        entry: dict[str, Any] = {
            "kind": pump.kind,
            "drug": pump.drug,
            "route": pump.route,
            "volume_infused_mL": rt.infused,
            "final_state": rt.state.values[-1],
            "alarms": sum(1 for a in alarms if a["source"] == rt.source),
        }
        if pump.concentration is not None:
            entry["amount_infused"] = {
                "value": rt.infused * pump.concentration.value,
                "unit": pump.concentration.unit,
            }
        pumps_summary[pump.id] = entry

    drugs_summary: dict[str, Any] = {}
    citations: list[str] = []
    for name, ch in sim.patient.channels.items():
        states = ch.solver.sample(grid)
        system = ch.system
        unit = ch.drug.plasma_unit
        factor = ch.drug.plasma_factor
        plasma = states[..., system.index("central")] / system.v1 * factor
        columns[f"patient.{name}.plasma[{unit}]"] = plasma
        if system.has_effect:
            columns[f"patient.{name}.effect[{unit}]"] = states[..., system.index("effect")] * factor
        final = ch.solver.state(sim.duration)
        amounts = final[..., system.amount_states]
        in_body = float(
            np.sum(final[[i for i, s in enumerate(system.states) if s not in
                          ("effect", "auc", "eliminated", "not_absorbed")]])
        )  # fmt: skip
        metrics = exposure_metrics(grid, plasma)
        drugs_summary[name] = {
            "model": ch.spec.key,
            "plasma_unit": unit,
            "cmax": metrics["cmax"],
            "tmax_s": metrics["tmax_s"],
            "auc": float(final[system.index("auc")]) * factor / 3600.0,
            "auc_unit": f"{unit}*h",
            "amount_unit": ch.drug.amount_unit,
            "given": ch.given,
            "in_body": in_body,
            "eliminated": float(final[system.index("eliminated")]),
            "not_absorbed": float(final[system.index("not_absorbed")]),
            "mass_balance_error": float(np.sum(amounts) - ch.given),
            "citations": [str(c) for c in ch.spec.citations],
        }
        for c in ch.spec.citations:
            if str(c) not in citations:
                citations.append(str(c))
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
    }
    return Result(sc, sim.seed, frame, list(sim.log.records), summary, warnings)
