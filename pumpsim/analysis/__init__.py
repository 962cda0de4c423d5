"""Analysis of simulated or measured pump output (pure numpy/pandas, no SimPy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pumpsim._lazy import lazy_attributes

if TYPE_CHECKING:
    from pumpsim.analysis.iec60601 import (
        PROFILES,
        AccuracyProfile,
        BalanceLog,
        StartupGraph,
        TrumpetResult,
        TrumpetWindow,
        flow_from_mass,
        load_balance_csv,
        startup_graph,
        trumpet_curve,
    )
    from pumpsim.analysis.requirements import REQUIREMENTS, Verdict, check_requirements, evaluate

# public name -> defining module, imported on first use (start-up stays fast)
_LAZY = {
    "PROFILES": "pumpsim.analysis.iec60601",
    "AccuracyProfile": "pumpsim.analysis.iec60601",
    "BalanceLog": "pumpsim.analysis.iec60601",
    "StartupGraph": "pumpsim.analysis.iec60601",
    "TrumpetResult": "pumpsim.analysis.iec60601",
    "TrumpetWindow": "pumpsim.analysis.iec60601",
    "flow_from_mass": "pumpsim.analysis.iec60601",
    "load_balance_csv": "pumpsim.analysis.iec60601",
    "startup_graph": "pumpsim.analysis.iec60601",
    "trumpet_curve": "pumpsim.analysis.iec60601",
    "REQUIREMENTS": "pumpsim.analysis.requirements",
    "Verdict": "pumpsim.analysis.requirements",
    "check_requirements": "pumpsim.analysis.requirements",
    "evaluate": "pumpsim.analysis.requirements",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "REQUIREMENTS",
    "Verdict",
    "check_requirements",
    "evaluate",
    "PROFILES",
    "AccuracyProfile",
    "BalanceLog",
    "StartupGraph",
    "TrumpetResult",
    "TrumpetWindow",
    "flow_from_mass",
    "load_balance_csv",
    "startup_graph",
    "trumpet_curve",
]
