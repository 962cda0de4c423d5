"""Alarm burden of a ward run: what the nurses heard, how long pumps stood, what it cost.

=============================  ==========================================================
metric                         definition
=============================  ==========================================================
alarms per bed-day             alarms of that priority / (beds x days)
alarms per nurse-hour          alarms of that priority / (nurses x hours)
calls                          nurse visits (alarms of a pump with a call open join it)
wait                           alarm to a nurse setting off (queue time: no nurse free)
time to respond                alarm to the nurse at the bedside (wait + response delay +
                               walk); both from the alarm that gave the call its priority
                               (a waiting near-empty call that becomes "container empty"
                               counts as high priority from the moment it ran dry)
interrupted                    time pumps stood stopped: from a stopping alarm (or the
                               start of a container change) to the end of the nurse's task
not given                      the program's volume over those interruptions [mL]
dry runs                       containers that ran empty (``critical`` pumps apart)
nurse utilisation              time on calls (from setting off to the end of the task) /
                               duration; routine care outside alarms is not modelled
=============================  ==========================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pumpsim.ward.nurses import PRIORITY_RANK

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pumpsim.ward.model import WardModel

__all__ = ["WardResult"]


@dataclass
class WardResult:
    """The outcome of :func:`pumpsim.ward.simulate_ward`."""

    model: WardModel

    # -- tables ---------------------------------------------------------------------------
    def calls(self) -> pd.DataFrame:
        """One row per call: bed, pump, kind, priority, times [s], wait and response [s]
        (from ``priority_since_s``, the alarm that gave the call its priority)."""
        import pandas as pd

        rows = [{"bed": c.bed, "pump": self.model.pumps[c.pump].spec.id, "kind": c.kind,
                 "priority": c.priority, "alarms": c.alarms, "time_s": c.time,
                 "priority_since_s": c.since, "nurse": c.nurse,
                 "wait_s": max(c.dispatched - c.since, 0.0),
                 "response_s": c.arrived - c.since, "done_s": c.done}
                for c in self.model.calls]  # fmt: skip
        return pd.DataFrame(rows)

    def alarms(self) -> pd.DataFrame:
        """One row per alarm: time [s], bed, pump id, kind, priority."""
        import pandas as pd

        pumps = self.model.pumps
        return pd.DataFrame([{"time_s": t, "bed": b, "pump": pumps[k].spec.id, "kind": kind,
                              "priority": prio} for t, b, k, kind, prio in self.model.alarms],
                            columns=["time_s", "bed", "pump", "kind", "priority"])  # fmt: skip

    def burden(self) -> pd.DataFrame:
        """Alarm burden by priority (rows high, medium, low, all): see the module doc."""
        import pandas as pd

        m = self.model
        days = float(m.ward.duration) / 86400.0
        hours = days * 24.0
        beds, nurses = len(m.bed_pos), len(m.nurses)
        rows = []
        for prio in (*PRIORITY_RANK, "all"):
            alarms = [a for a in m.alarms if prio in ("all", a[4])]
            calls = [c for c in m.calls if prio in ("all", c.priority)]
            wait = np.array([max(c.dispatched - c.since, 0.0) for c in calls
                             if not math.isnan(c.dispatched)])  # fmt: skip
            resp = np.array([c.arrived - c.since for c in calls if not math.isnan(c.arrived)])
            rows.append({
                "priority": prio, "alarms": len(alarms),
                "per_bed_day": len(alarms) / (beds * days),
                "per_nurse_hour": len(alarms) / (nurses * hours),
                "calls": len(calls),
                "wait_median_min": _q(wait, 50) / 60, "wait_p90_min": _q(wait, 90) / 60,
                "respond_median_min": _q(resp, 50) / 60, "respond_p90_min": _q(resp, 90) / 60,
                "respond_max_min": (float(resp.max()) if resp.size else math.nan) / 60,
            })  # fmt: skip
        return pd.DataFrame(rows)

    def costs(self) -> dict[str, Any]:
        """What waiting cost: interruptions, volume not given, dry runs, nurse utilisation."""
        m = self.model
        duration = float(m.ward.duration)
        out: dict[str, Any] = {"beds": len(m.bed_pos), "pumps": len(m.pumps),
                               "nurses": len(m.nurses), "days": duration / 86400.0}  # fmt: skip
        for group, pumps in (("all", m.pumps), ("critical", [p for p in m.pumps
                                                             if p.spec.critical])):  # fmt: skip
            spans = [(p, a, b) for p in pumps for a, b, _ in p.interruptions]
            out[f"interrupted_h_{group}"] = sum(b - a for _, a, b in spans) / 3600.0
            out[f"interruptions_{group}"] = len(spans)
            out[f"not_given_mL_{group}"] = sum(p.volume(a, b) for p, a, b in spans)
            out[f"dry_runs_{group}"] = sum(p.dry for p in pumps)
        util = [n.busy_time / duration for n in m.nurses]
        out["nurse_utilisation_mean"] = float(np.mean(util))
        out["nurse_utilisation_max"] = float(np.max(util))
        out["walked_km"] = sum(n.walked for n in m.nurses) / 1000.0
        return out

    # -- output ---------------------------------------------------------------------------
    def report(self) -> str:
        """The burden table and the costs as plain text."""
        b = self.burden()
        c = self.costs()
        lines = [f"{self.model.ward.name}: {c['beds']} beds, {c['pumps']} pumps, "
                 f"{c['nurses']} nurses, {c['days']:g} days (seed {self.model.seed})",
                 b.to_string(index=False, float_format=lambda x: f"{x:.3g}"),
                 f"pumps stood interrupted {c['interrupted_h_all']:.1f} h in "
                 f"{c['interruptions_all']} interruptions ({c['not_given_mL_all']:.0f} mL not "
                 f"given); critical pumps {c['interrupted_h_critical']:.1f} h, "
                 f"{c['dry_runs_critical']} dry runs",
                 f"nurse utilisation on alarms: mean {c['nurse_utilisation_mean']:.1%}, "
                 f"max {c['nurse_utilisation_max']:.1%}; walked {c['walked_km']:.1f} km"]
        return "\n".join(lines)

    def write(self, out: str | Path, force: bool = False) -> None:
        """``burden.csv``, ``costs.json``, ``calls.csv`` and ``alarms.csv`` in ``out``.

        Written whole into a fresh folder and renamed into place
        (:func:`pumpsim.io.output_folder`): a folder of someone else's files is never
        touched, and an earlier pumpsim output is replaced only with ``force``.
        """
        import json

        from pumpsim.io import output_folder

        with output_folder(out, force) as folder:
            self.burden().to_csv(folder / "burden.csv", index=False, float_format="%.6g")
            self.calls().to_csv(folder / "calls.csv", index=False, float_format="%.6g")
            self.alarms().to_csv(folder / "alarms.csv", index=False, float_format="%.6g")
            (folder / "costs.json").write_text(json.dumps(self.costs(), indent=2) + "\n")


def _q(values: np.ndarray, p: float) -> float:
    return float(np.percentile(values, p)) if values.size else math.nan
