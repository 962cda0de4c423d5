"""Side-by-side agreement with independent peer implementations.

Reference curves were produced by calling python-anesthesia-simulator 1.0.0
(PAS), PyTCI 1.2.0 (exact mode) and opentiva 1.1.2 through
``benchmarks/make_peer_reference.py``; versions, modes, dates and each peer's
known defects are in ``tests/data/peers/PROVENANCE.md``. Only peer/case pairs
where the peer implements the published model are compared; the excluded
pairs and why:

- opentiva Schnider: V2 uses (AGE − 52), published (AGE − 53);
- opentiva Eleveld: θ5 entered as 1.83 (published 1.75);
- opentiva effect site: stepped from 1-s plasma samples (approximate);
- PyTCI Marsh: k31 0.0031 (published 0.0033);
- PyTCI Eleveld: Q2 divided by the reference maturation; with opioids Q3
  from the unreduced V3.

Tolerance 0.5 % (the issue's criterion): PAS's Marsh constants are rounded
(k13 0.042; 0.13 %), PyTCI's Schnider uses rounded rate constants (≈0.3 %);
the CSVs hold 6 significant digits. Points below 1 % of the peak are not
compared relatively (they are dominated by that rounding).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pumpsim import simulate
from tests.conftest import DATA

PEERS = DATA / "peers"
CASES = json.loads((PEERS / "cases.json").read_text())
MODEL_KEYS = {"schnider": "schnider1998", "marsh": "marsh1991",
              "marsh_modified": "marsh1991_modified", "eleveld": "eleveld2018",
              "minto": "minto1997"}  # fmt: skip

#: (case, peer, compare effect site too)
PAIRS = [
    ("propofol_schnider", "pas", True),
    ("propofol_schnider", "pytci", True),
    ("propofol_schnider_female", "pas", True),
    ("propofol_schnider_female", "pytci", True),
    ("propofol_marsh", "pas", True),
    ("propofol_marsh", "opentiva", False),
    ("propofol_marsh_modified", "pas", True),
    ("propofol_marsh_modified", "opentiva", False),
    ("propofol_eleveld", "pas", True),
    ("propofol_eleveld_opioids", "pas", True),
    ("remifentanil_minto", "pas", True),
    ("remifentanil_minto", "pytci", True),
    ("remifentanil_minto", "opentiva", False),
]


def scenario_for(case: dict) -> dict:
    """The pumpsim scenario equivalent to a peer case (ideal pump, 1 mg/mL or 1 ug/mL)."""
    unit = "mg" if case["drug"] == "propofol" else "ug"
    p = case["patient"]
    program = []
    for start, end, rate in case["infusion"]:
        # concentration 1 <unit>/mL, so the volume rate in mL/min equals the dose rate
        program.append({"at": f"{start} s", "rate": f"{rate!r} mL/min"})
        program.append({"at": f"{end} s", "rate": "0 mL/h"})
    return {
        "name": f"peer case {case['drug']} {case['model']}",
        "duration": f"{case['duration_s']} s",
        "output": {"interval": "10 s"},
        "patient": {"age": f"{p['age_y']} y", "weight": f"{p['weight_kg']} kg",
                    "height": f"{p['height_cm']} cm", "sex": p["sex"],
                    "opioids": bool(case.get("opioids", False))},  # fmt: skip
        "pumps": [{"id": "A", "drug": case["drug"], "pk_model": MODEL_KEYS[case["model"]],
                   "concentration": f"1 {unit}/mL", "program": program}],  # fmt: skip
    }


@pytest.fixture(scope="module")
def runs() -> dict:
    return {name: simulate(scenario_for(case)) for name, case in CASES.items()}


def _rel_err(ours: np.ndarray, theirs: np.ndarray) -> float:
    mask = np.abs(theirs) > 0.01 * np.abs(theirs).max()
    return float(np.max(np.abs(ours[mask] / theirs[mask] - 1.0)))


@pytest.mark.parametrize(("case", "peer", "effect"), PAIRS)
def test_agrees_with_peer(runs: dict, case: str, peer: str, effect: bool) -> None:
    theirs = pd.read_csv(PEERS / f"{case}.{peer}.csv")
    res = runs[case]
    drug = CASES[case]["drug"]
    unit = "ug/mL" if drug == "propofol" else "ng/mL"
    ours = res.timeseries.loc[theirs["time_s"].to_numpy(dtype=float)]
    assert _rel_err(ours[f"patient.{drug}.plasma[{unit}]"].to_numpy(),
                    theirs["plasma"].to_numpy()) < 0.005  # fmt: skip
    if effect:
        assert _rel_err(ours[f"patient.{drug}.effect[{unit}]"].to_numpy(),
                        theirs["effect"].to_numpy()) < 0.005  # fmt: skip


def test_pas_schnider_and_minto_agree_to_csv_rounding(runs: dict) -> None:
    """PAS implements Schnider and Minto exactly as published: agreement to the CSV's
    6 significant digits (relative 1e-5), far inside the 0.5 % criterion."""
    for case, drug, unit in [("propofol_schnider", "propofol", "ug/mL"),
                             ("remifentanil_minto", "remifentanil", "ng/mL")]:  # fmt: skip
        theirs = pd.read_csv(PEERS / f"{case}.pas.csv")
        ours = runs[case].timeseries.loc[theirs["time_s"].to_numpy(dtype=float)]
        column = f"patient.{drug}.plasma[{unit}]"
        err = _rel_err(ours[column].to_numpy(), theirs["plasma"].to_numpy())
        assert err < 1e-5


def test_known_peer_defect_is_visible(runs: dict) -> None:
    """opentiva's Schnider V2 uses (AGE−52): it differs from the paper by more than our
    tolerance, which is why that pair is excluded above (the paper decides)."""
    theirs = pd.read_csv(PEERS / "propofol_schnider.opentiva.csv")
    ours = runs["propofol_schnider"].timeseries.loc[theirs["time_s"].to_numpy(dtype=float)]
    assert _rel_err(ours["patient.propofol.plasma[ug/mL]"].to_numpy(),
                    theirs["plasma"].to_numpy()) > 0.005  # fmt: skip
