"""Generate the peer TCI reference: PyTCI's plasma and effect-site TCI for Schnider.

Run in a venv with the peer (PyTCI 1.2.0, MIT; only called, none of its code copied):

    python3 -m venv /work/venvs/tcipeers
    /work/venvs/tcipeers/bin/pip install pytci==1.2.0 pandas
    /work/venvs/tcipeers/bin/python benchmarks/tci_peer_reference.py

It writes ``tests/data/peers/pytci_schnider_tci.csv``: for the Schnider model of a
53-year-old, 77 kg, 177 cm man (``PyTCI.models.propofol.Schnider(53, 77, 177, "m")``,
``set_integrator("exact")``), the rate [mg/s] PyTCI commands in each 10-s period for the
target sequence 3 ug/mL (0-10 min), 4 ug/mL (10-20 min), 2 ug/mL (20-30 min):

* ``plasma``: ``model.plasma_infusion(target, 10, period=10)`` for each 10-s period
  (it advances the model);
* ``effect``: ``model.effect_target(target, 10, period=10)`` for each period (it
  restores the state, so the rate is then given with ``model.giveoverseconds(rate, 10)``),

with the peer's predicted plasma (``x1``) and effect-site (``xeo``) concentration at the
end of each period, and the model's micro-constants in a header line (``# k10=...``) so
that a test can give pumpsim's firmware the very same model.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "peers" / "pytci_schnider_tci.csv"
TARGETS = (3.0, 4.0, 2.0)
SEGMENT_S, PERIOD_S = 600, 10


def main() -> int:
    from PyTCI.models.propofol import Schnider

    rows = []
    header = ""
    for mode in ("plasma", "effect"):
        model = Schnider(53, 77, 177, "m")
        model.set_integrator("exact")
        if not header:  # per second after setup(); written per minute
            header = (f"# PyTCI {version('pytci')}: Schnider(53, 77, 177, 'm'), "
                      f"set_integrator('exact'); v1={model.v1!r} k10={model.k10 * 60!r} "
                      f"k12={model.k12 * 60!r} k13={model.k13 * 60!r} k21={model.k21 * 60!r} "
                      f"k31={model.k31 * 60!r} keo={model.keo * 60!r} [1/min]")  # fmt: skip
        t = 0
        for target in TARGETS:
            for _ in range(SEGMENT_S // PERIOD_S):  # one period at a time, state carried on
                if mode == "plasma":
                    (rate,) = model.plasma_infusion(target, PERIOD_S, period=PERIOD_S)
                else:
                    (rate,) = model.effect_target(target, PERIOD_S, period=PERIOD_S)
                    model.giveoverseconds(rate, PERIOD_S)  # effect_target restores the state
                rows.append((mode, t, target, rate, model.x1, model.xeo))
                t += PERIOD_S
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as fh:
        fh.write(header + "\n")
        fh.write("mode,start_s,target_ug_mL,rate_mg_s,plasma_end_ug_mL,effect_end_ug_mL\n")
        for r in rows:
            fh.write(f"{r[0]},{r[1]},{r[2]!r},{r[3]!r},{r[4]!r},{r[5]!r}\n")
    print(f"wrote {OUT} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
