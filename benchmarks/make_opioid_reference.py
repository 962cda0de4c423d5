"""Write opentiva's plasma curves for the fentanyl, alfentanil and sufentanil cases.

Run in the peers' environment (see benchmarks/requirements-peers.txt)::

    /work/venvs/peers/bin/python benchmarks/make_opioid_reference.py tests/data/peers

Each case is a 40 y, 70 kg, 170 cm man given 1 ug/s (3.6 mg/h) for 60 min,
then followed to 120 min. opentiva 1.1.2 is only called; its outputs are
compared with pumpsim's in tests/test_pk_opioids.py. It is driven as in
benchmarks/peers.py: ``opentiva.<drug>.<Model>(sex, age, weight, height)``
with sex 0 = male, then ``opentiva.pump.Pump(model, drug_concentration=1,
end_time=7201)``, ``add_infusion(0, 1.0, 3600)`` and ``run()``, which returns
rows ``[t, Cp, Ce]`` every second; amounts in ug and volumes in L give
concentrations in ug/L = ng/mL.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

CASES = {"fentanyl_shafer": ("fentanyl", "Shafer"), "alfentanil_maitre": ("alfentanil", "Maitre"),
         "sufentanil_gepts": ("sufentanil", "Gepts")}  # fmt: skip


def main(out: Path) -> None:
    import importlib

    from opentiva.pump import Pump

    for name, (module, cls) in CASES.items():
        model = getattr(importlib.import_module(f"opentiva.{module}"), cls)(0, 40.0, 70.0, 170.0)
        pump = Pump(model, drug_concentration=1, end_time=7201)
        pump.add_infusion(0, 1.0, 3600)
        rows = pump.run()
        path = out / f"{name}.opentiva.csv"
        with path.open("w") as f:
            f.write(f"# opentiva {version('opentiva')} {module}.{cls}(0, 40, 70, 170); "
                    "1 ug/s for 3600 s; plasma [ng/mL] every 10 s\n")  # fmt: skip
            f.write("time_s,plasma\n")
            for t, cp, _ce in rows[::10]:
                f.write(f"{t:.0f},{cp:.9g}\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/peers"))
