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

__all__ = [
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
