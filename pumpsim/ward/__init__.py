"""A ward: beds, each with a patient and pumps, and nurses who answer the pumps' alarms.

>>> from pumpsim.ward import load_ward, simulate_ward
>>> res = simulate_ward(load_ward("scenarios/ward_medsurg_4nurses.yaml"))  # doctest: +SKIP
>>> res.burden()        # alarms per bed-day and per nurse-hour by priority, response times
>>> res.costs()         # interrupted hours, volume not given, dry runs, nurse utilisation

The model (:mod:`pumpsim.ward.model`) is a SimPy event model of the ward's pumps and
nurses; it does not run a PK model per bed (pumpsim's engine does that for one patient:
``pumpsim run``). Many wards, or one ward with many seeds, go through the sweep machinery:
``pumpsim sweep ward.yaml --grid "nurses.count=3,4,5" --replicates 8``.

Where the numbers in the shipped ward files come from (docs/references.md):

* pump alarm rate and mix: 0.18 alarms per infusion-hour, downstream occlusion 22.94 %
  of alarms, "hold expired" (pump left on hold) 27.18 %, KVO (volume to be infused done)
  33.77 %; mean alarm duration 2 min 38 s, 60 % addressed within 1 min 8 s - 987,240
  alarms, 29 US hospitals [Vitoux2018];
* a pediatric/neonatal ICU cross-check: 0.39 alarms per infusion-hour, 26.1 % occlusion,
  38.4 % door open / syringe disengaged, 3.1 % air in line [FonzoChriste2020];
* response delay: log-normal, median 45 s and geometric SD 4.8, chosen so that its 60th
  percentile is 68 s and its mean 158 s, the two numbers [Vitoux2018] reports for the
  whole alarm duration (response, walk and task together: an upper bound for the delay
  alone); a busier ward: median response 10.4 min to monitor alarms [Bonafide2017];
* walking speed 1.2 m/s, below the comfortable gait speeds of 1.27-1.46 m/s of healthy
  adults [Bohannon1997] (indoors, with stops);
* task times (2 min to clear an occlusion, 5 min to change a container), the bed spacing
  and the layout are illustrative assumptions, not from a study.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pumpsim.ward.metrics import WardResult
from pumpsim.ward.model import WardModel
from pumpsim.ward.scenario import Ward, load_ward

__all__ = ["Ward", "WardModel", "WardResult", "load_ward", "simulate_ward"]


def simulate_ward(ward: Ward | str | Path | dict[str, Any], seed: int | None = None) -> WardResult:
    """Run a ward scenario (a Ward, a file or a mapping) and return its WardResult."""
    return WardResult(WardModel(load_ward(ward), seed).run())
