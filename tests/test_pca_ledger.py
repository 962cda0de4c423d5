"""The PCA ledger's window look-ups (by bisection) against the definition, scanned."""

from __future__ import annotations

import numpy as np

from pumpsim.pump.pca import PcaLedger


def test_window_lookups_equal_a_full_scan() -> None:
    rng = np.random.default_rng(5)
    ledger = PcaLedger(demand=1.0, lockout=300.0, limit=30.0, window=4 * 3600.0)
    t = 0.0
    for _ in range(300):
        t += float(rng.choice([0.0, 300.0, rng.uniform(1, 900)]))  # repeats at one instant too
        ledger.record(t, float(rng.uniform(0.5, 2.0)), demand=bool(rng.integers(2)))
    for q in np.concatenate((rng.uniform(0, t + 5 * 3600, 200), [d for d, _ in ledger.doses])):
        start = q - 4 * 3600.0
        # the definition: every dose started after the window's start (1e-9 s: one instant)
        inside = [(s, v) for s, v in ledger.doses if s > start + 1e-9]
        assert ledger.window_volume(q) == sum(v for _, v in inside)
        assert ledger.next_free(q) == (min(s for s, _ in inside) + 4 * 3600.0 if inside else None)
