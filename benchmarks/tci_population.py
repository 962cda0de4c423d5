"""Speed: a 1000-patient propofol TCI population for 2 h, pumpsim against PyTCI looped.

The task, the same for both: a Schnider effect-site TCI (3 ug/mL, then 4 ug/mL at
30 min, 2.5 ug/mL at 80 min, 10-s updates) computed by the pump's firmware for the
typical patient (53 y, 77 kg, 177 cm, male), delivered to 1000 virtual patients whose
Schnider parameters vary (published CVs: V1 4 %, V3 14 %, CL1 10 %, CL3 12 %,
log-normal), and each patient's plasma concentration every 10 s.

* pumpsim: one run of the scenario (``population: {n: 1000}``): the TCI controller
  computes the rates once; the population's PK is one batched exact system.
* PyTCI 1.2.0 (MIT, only called): ``Schnider(53, 77, 177, "m")`` with
  ``set_integrator("exact")`` plans the rates (``effect_target(target, 10, period=10)``
  then ``giveoverseconds(rate, 10)``, per period); then, for each patient, a
  ``Schnider`` whose ``v1, k10, k12, k13, k21, k31`` are scaled by that patient's
  factors replays the rates with ``giveoverseconds(rate, 10)``, reading ``x1`` after
  each period (PyTCI has no population mode). PyTCI is timed on ``--peer-patients``
  patients and scaled to 1000 (printed as such).

Both sides' median plasma concentration is printed as a check that they did the same
work. Run in a venv with both installed (see tci_peer_reference.py)::

    /work/venvs/tcipeers/bin/python benchmarks/tci_population.py [--peer-patients 100]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core each: the comparison is per core

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402

import pumpsim  # noqa: E402

N = 1000
TARGETS = ((0, 3.0), (1800, 4.0), (4800, 2.5))  # (from [s], ug/mL)
DURATION, PERIOD = 7200, 10
CV = {"v1": 0.04, "v3": 0.14, "cl1": 0.10, "cl3": 0.12}  # Schnider 1998 (docs/references.md)


def scenario(n: int) -> dict:
    return {
        "name": f"benchmark: TCI in {n} patients",
        "duration": "2 h",
        "output": {"interval": "10 s"},
        "patient": {"age": "53 y", "weight": "77 kg", "height": "177 cm", "sex": "male",
                    "population": {"n": n, "seed": 1}},
        "pumps": [{"id": "P", "kind": "ideal", "drug": "propofol", "concentration": "10 mg/mL",
                   "settings": {"max_rate": "100000 mL/h"},  # PyTCI's planner is unlimited
                   "program": [{"mode": "tci", "target": "3 ug/mL", "site": "effect",
                                "pk_model": "schnider1998"}]}],
        "events": [{"at": f"{t} s", "type": "tci_target", "pump": "P", "target": f"{c} ug/mL"}
                   for t, c in TARGETS[1:]],
    }  # fmt: skip


def run_pumpsim(n: int) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    res = pumpsim.simulate(scenario(n))
    elapsed = time.perf_counter() - t0
    return elapsed, res.population["propofol"]["plasma"]


def run_pytci(n: int, seed: int = 1) -> tuple[float, np.ndarray]:
    from PyTCI.models.propofol import Schnider

    rng = np.random.default_rng(seed)
    omega = {k: np.sqrt(np.log(1 + cv**2)) for k, cv in CV.items()}
    f = {k: np.exp(rng.normal(0.0, w, n)) for k, w in omega.items()}
    t0 = time.perf_counter()
    firmware = Schnider(53, 77, 177, "m")
    firmware.set_integrator("exact")
    rates = []
    for k in range(DURATION // PERIOD):
        target = [c for t, c in TARGETS if t <= k * PERIOD][-1]
        (rate,) = firmware.effect_target(target, PERIOD, period=PERIOD)
        firmware.giveoverseconds(rate, PERIOD)
        rates.append(rate)
    out = np.zeros((n, DURATION // PERIOD + 1))
    for i in range(n):
        m = Schnider(53, 77, 177, "m")
        m.set_integrator("exact")
        # clearances scale with CL1/CL3 factors, volumes with V1/V3 (rate constants per s)
        v1 = m.v1 * f["v1"][i]
        cl1, cl2, cl3 = m.k10 * m.v1 * f["cl1"][i], m.k12 * m.v1, m.k13 * m.v1 * f["cl3"][i]
        v2, v3 = m.k12 * m.v1 / m.k21, m.k13 * m.v1 / m.k31 * f["v3"][i]
        m.v1, m.k10, m.k12, m.k13 = v1, cl1 / v1, cl2 / v1, cl3 / v1
        m.k21, m.k31 = cl2 / v2, cl3 / v3
        for k, rate in enumerate(rates):
            m.giveoverseconds(rate, PERIOD)
            out[i, k + 1] = m.x1
    elapsed = time.perf_counter() - t0
    return elapsed, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-patients", type=int, default=100)
    args = parser.parse_args()
    run_pumpsim(10)  # warm-up: imports, registry
    t_ours, ours = run_pumpsim(N)
    t_peer, theirs = run_pytci(args.peer_patients)
    t_peer_n = t_peer * N / args.peer_patients
    print(f"{N} patients x 2 h propofol effect-site TCI (10-s updates), plasma every 10 s")
    print(f"  pumpsim {pumpsim.__version__}: {t_ours:8.2f} s")
    print(f"  PyTCI {version('pytci')} looped: {t_peer_n:8.2f} s "
          f"(timed on {args.peer_patients} patients, scaled to {N})")  # fmt: skip
    print(f"  ratio PyTCI / pumpsim: {t_peer_n / t_ours:.1f}x")
    for t in (600, 3600, 6600):
        j = t // PERIOD
        print(f"  median plasma at {t // 60:3d} min: pumpsim {np.median(ours[:, j]):.3f}, "
              f"PyTCI {np.median(theirs[:, j]):.3f} ug/mL")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
