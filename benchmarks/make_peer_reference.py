"""Write peer PK reference curves, their provenance and peer timings.

Run inside the peers venv (``pip install -r benchmarks/requirements-peers.txt``)::

    python benchmarks/make_peer_reference.py [--out tests/data/peers] [--timing-runs 3]

For every case in :data:`CASES` and every peer in :data:`peers.PEERS` it writes
``<out>/<case>.<peer>.csv`` with columns ``time_s, plasma, effect`` sampled every
10 s (6 significant digits; propofol [ug/mL], remifentanil [ng/mL]), then
``<out>/cases.json`` (the case definitions, machine-readable) and
``<out>/PROVENANCE.md`` (peer versions, modes, known defects per case, skipped
cases, cross-peer plasma differences, and the peers' wall-clock time for the
``propofol_schnider`` case on a 1-s grid). Nothing here is random.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import json
import platform
import statistics
import sys
import time
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402  (sibling module, benchmarks/ is not a package)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "tests" / "data" / "peers"
SAMPLE_EVERY_S = 10
TIMING_CASE = "propofol_schnider"

_ADULT_MALE = {"age_y": 40, "weight_kg": 70, "height_cm": 170, "sex": "male"}
_OLDER_FEMALE = {"age_y": 65, "weight_kg": 55, "height_cm": 160, "sex": "female"}


def _propofol(model: str, patient: Mapping[str, Any], opioids: bool = False) -> dict[str, Any]:
    """Propofol 10 mg/kg/h for 60 min, then off; 2 h simulated."""
    rate_mg_min = 10.0 * patient["weight_kg"] / 60.0
    return {
        "drug": "propofol",
        "model": model,
        "opioids": opioids,
        "patient": dict(patient),
        "infusion": [(0, 3600, rate_mg_min)],
        "duration_s": 7200,
    }


#: The reference cases, keyed by name; rates in mg/min (propofol) or ug/min (remifentanil).
CASES: dict[str, dict[str, Any]] = {
    "propofol_schnider": _propofol("schnider", _ADULT_MALE),
    "propofol_marsh": _propofol("marsh", _ADULT_MALE),
    "propofol_marsh_modified": _propofol("marsh_modified", _ADULT_MALE),
    "propofol_eleveld": _propofol("eleveld", _ADULT_MALE),
    "propofol_eleveld_opioids": _propofol("eleveld", _ADULT_MALE, opioids=True),
    "remifentanil_minto": {
        "drug": "remifentanil",
        "model": "minto",
        "opioids": False,
        "patient": dict(_ADULT_MALE),
        "infusion": [(0, 1800, 0.25 * _ADULT_MALE["weight_kg"])],  # 0.25 ug/kg/min
        "duration_s": 3600,
    },
    "propofol_schnider_female": _propofol("schnider", _OLDER_FEMALE),
}

_CASE_TEXT = {
    "propofol_schnider": "Schnider, 10 mg/kg/h (700 mg/h) for 60 min then off, 2 h.",
    "propofol_marsh": "Marsh, ke0 0.26/min (original), same infusion.",
    "propofol_marsh_modified": "Marsh, ke0 1.2/min (modified, Struys 2000), same infusion.",
    "propofol_eleveld": "Eleveld 2018 arterial, no opioids, same infusion.",
    "propofol_eleveld_opioids": "Eleveld 2018 arterial, with opioids, same infusion.",
    "remifentanil_minto": "Minto, 0.25 ug/kg/min (17.5 ug/min) for 30 min then off, 60 min.",
    "propofol_schnider_female": (
        "Schnider, 65 y 55 kg 160 cm female, 10 mg/kg/h (550 mg/h) for 60 min then off, 2 h."
    ),
}

#: How each peer was driven (the full call sequence is in the peers.run_* docstrings).
MODES = {
    "pas": (
        "pk_models.CompartmentModel(..., ts=1, random=False, opiate=<case>).full_sim(u): "
        "zero-order-hold discretisation at 1 s (exact for inputs changing on whole "
        "seconds); plasma = state 0, effect = state 3."
    ),
    "pytci": (
        "set_integrator('exact'); giveoverseconds(rate_per_s, 1) each second "
        "(augmented matrix exponential, continuous input); plasma = x1, effect = xeo."
    ),
    "opentiva": (
        "pump.Pump(model, 1, duration_s + 1).add_infusion(start, rate_per_s, length); "
        "run(): closed-form tri-exponential plasma (exact); effect site stepped from "
        "1-s plasma samples by linear/log-linear interpolation (approximate)."
    ),
}


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def run_all(
    cases: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[tuple[str, str], pd.DataFrame], dict[tuple[str, str], str]]:
    """Run every (case, peer); return the 1-s frames and the reasons for any skips."""
    results: dict[tuple[str, str], pd.DataFrame] = {}
    skipped: dict[tuple[str, str], str] = {}
    for name, case in cases.items():
        for peer in peers.PEERS:
            try:
                results[name, peer] = peers.run_peer(peer, case)
            except ImportError as exc:
                skipped[name, peer] = f"peer not installed: {exc}"
    return results, skipped


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` sampled every :data:`SAMPLE_EVERY_S` s with 6 significant digits."""
    sampled = frame[frame["time_s"] % SAMPLE_EVERY_S == 0]
    sampled.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")


def max_relative_difference(a: np.ndarray, b: np.ndarray, floor: float = 1e-3) -> float:
    """Largest ``|a - b| / max(a, b)`` over points where ``max(a, b)`` exceeds ``floor``
    times the larger curve's peak (drops t = 0, where both are zero)."""
    top = np.maximum(a, b)
    mask = top > floor * top.max()
    return float(np.max(np.abs(a[mask] - b[mask]) / top[mask]))


def time_peers(case: Mapping[str, Any], runs: int) -> dict[str, float]:
    """Median wall-clock seconds of ``runs`` calls per peer (imports done beforehand)."""
    timings: dict[str, float] = {}
    for peer in peers.PEERS:
        try:
            peers.run_peer(peer, case)  # import the peer; its import time is excluded
        except ImportError:
            continue
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            peers.run_peer(peer, case)
            samples.append(time.perf_counter() - start)
        timings[peer] = statistics.median(samples)
    return timings


def _case_json(cases: Mapping[str, Mapping[str, Any]]) -> str:
    plain = {
        name: {**case, "infusion": [list(item) for item in case["infusion"]]}
        for name, case in cases.items()
    }
    return json.dumps(plain, indent=2, sort_keys=True) + "\n"


def _provenance(
    cases: Mapping[str, Mapping[str, Any]],
    results: Mapping[tuple[str, str], pd.DataFrame],
    skipped: Mapping[tuple[str, str], str],
    timings: Mapping[str, float],
    timing_runs: int,
) -> str:
    lines = [
        "# Peer PK reference data -- provenance",
        "",
        f"Generated {_dt.date.today().isoformat()} by `benchmarks/make_peer_reference.py` "
        "(driver functions in `benchmarks/peers.py`). Regenerate inside the peers venv "
        "(`pip install -r benchmarks/requirements-peers.txt`).",
        "",
        "The peers were only *called*; none of their code is copied into pumpsim. "
        "python-anesthesia-simulator is GPL-3.0, PyTCI and opentiva are MIT.",
        "",
        "## Files",
        "",
        f"`<case>.<peer>.csv`: columns `time_s` [s], `plasma`, `effect`, sampled every "
        f"{SAMPLE_EVERY_S} s, 6 significant digits. Units: propofol ug/mL (= mg/L), "
        "remifentanil ng/mL (= ug/L). `plasma` is arterial/central concentration C1, "
        "`effect` the effect-site concentration. `cases.json` holds the case "
        "definitions below in machine-readable form (rates in mg/min or ug/min).",
        "",
        "## Environment",
        "",
        f"- Python {platform.python_version()}, numpy {_dist_version('numpy')}, "
        f"scipy {_dist_version('scipy')}, pandas {_dist_version('pandas')}, "
        f"control {_dist_version('control')} (used by PAS)",
        "",
        "| peer | distribution | version | mode used |",
        "| --- | --- | --- | --- |",
    ]
    for peer, (_, dist) in peers.PEERS.items():
        lines.append(f"| {peer} | {dist} | {peers.peer_version(peer)} | {MODES[peer]} |")
    lines += [
        "",
        "Install note: opentiva 1.1.2's sdist ships a Cython 0.x `pkpd.c` that does not "
        "compile on Python >= 3.11 (`longintrepr.h`); with Cython installed and "
        "`pip install --no-build-isolation opentiva==1.1.2` it is re-cythonised from "
        "`pkpd.pyx` and builds.",
        "",
        "## Cases",
        "",
        "Patient 40 y, 70 kg, 170 cm, male unless stated. Infusion list entries are "
        "(start_s, end_s, rate).",
        "",
        "| case | description | drug / model | opioids | patient | infusion | duration_s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, case in cases.items():
        p = case["patient"]
        patient = f"{p['age_y']} y, {p['weight_kg']} kg, {p['height_cm']} cm, {p['sex']}"
        unit = "mg/min" if case["drug"] == "propofol" else "ug/min"
        infusion = "; ".join(f"{s}-{e} s at {r:.6g} {unit}" for s, e, r in case["infusion"])
        lines.append(
            f"| `{name}` | {_CASE_TEXT.get(name, '')} | {case['drug']} / {case['model']} | "
            f"{'yes' if case.get('opioids') else 'no'} | {patient} | {infusion} | "
            f"{case['duration_s']} |"
        )

    lines += ["", "## Known peer defects per case", ""]
    lines.append(
        "From docs/references.md ([PAS] [PyTCI] [opentiva]) and from reading the peer sources; "
        "where peers "
        "disagree, the published paper decides, not a majority of peers."
    )
    for name, case in cases.items():
        lines += ["", f"### `{name}`", ""]
        for peer in peers.PEERS:
            defects = peers.known_defects(peer, case)
            text = " ".join(defects) if defects else "none known (follows the paper)."
            lines.append(f"- **{peer}**: {text}")
    lines += [
        "",
        "Other peer quirks: PAS's `Patient` class draws unseeded `np.random` noise when "
        "built and always uses Eleveld with opioids, so it is bypassed. PyTCI's default "
        "`euler` mode (one dose increment then one Euler step per second) is about 1.5 % "
        "low at the early peak; its exact mode is used. PyTCI holds rate constants per "
        "second after construction. opentiva takes sex as int 0 = male, 1 = female and "
        "returns t = 0 .. end_time - 1.",
        "",
        "## Skipped",
        "",
    ]
    if skipped:
        for (name, peer), why in sorted(skipped.items()):
            lines.append(f"- `{name}` on {peer}: {why}")
    else:
        lines.append(
            "None: every peer expressed every case. Two needed a workaround, both through "
            "the peer's public objects: `propofol_marsh_modified` on PyTCI (Marsh built, "
            "then `keo` set to 1.2/min) and `propofol_eleveld` (no opioids) on PAS "
            "(`CompartmentModel(..., opiate=False)` rather than `Patient`)."
        )

    lines += [
        "",
        "## Cross-peer plasma differences",
        "",
        "Largest |a - b| / max(a, b) of plasma concentration over the 1-s grid (points "
        "below 0.1 % of the peak excluded), and each peer's peak plasma value.",
        "",
        "| case | "
        + " | ".join(f"{a} vs {b}" for a, b in itertools.combinations(peers.PEERS, 2))
        + " | "
        + " | ".join(f"peak {p}" for p in peers.PEERS)
        + " |",
        "| --- " * (1 + 3 + len(peers.PEERS)) + "|",
    ]
    for name in cases:
        cells = []
        for a, b in itertools.combinations(peers.PEERS, 2):
            if (name, a) in results and (name, b) in results:
                diff = max_relative_difference(
                    results[name, a]["plasma"].to_numpy(), results[name, b]["plasma"].to_numpy()
                )
                cells.append(f"{100 * diff:.3g} %")
            else:
                cells.append("n/a")
        for p in peers.PEERS:
            cells.append(
                f"{results[name, p]['plasma'].max():.5g}" if (name, p) in results else "n/a"
            )
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")

    lines += [
        "",
        "## Timing",
        "",
        f"Wall-clock time of one `run_<peer>(CASES['{TIMING_CASE}'])` call on a 1-s grid "
        f"(7201 points incl. model construction; median of {timing_runs} runs after one "
        f"untimed call that imports the peer), on {platform.machine()} "
        f"{platform.system()} with Python {platform.python_version()}.",
        "",
        "| peer | median seconds |",
        "| --- | --- |",
    ]
    for peer, seconds in timings.items():
        lines.append(f"| {peer} | {seconds:.4g} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--timing-runs", type=int, default=3, help="timed runs per peer")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    results, skipped = run_all(CASES)
    for (name, peer), frame in results.items():
        write_csv(frame, args.out / f"{name}.{peer}.csv")
    (args.out / "cases.json").write_text(_case_json(CASES))
    timings = time_peers(CASES[TIMING_CASE], args.timing_runs)
    provenance = _provenance(CASES, results, skipped, timings, args.timing_runs)
    (args.out / "PROVENANCE.md").write_text(provenance)
    print(f"wrote {len(results)} CSV files, cases.json and PROVENANCE.md to {args.out}")
    for (name, peer), why in skipped.items():
        print(f"skipped {name} on {peer}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
