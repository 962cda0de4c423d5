"""Analysis of simulated or measured pump output (pure numpy/pandas, no SimPy)."""

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
