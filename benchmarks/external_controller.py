"""Speed: ``pumpsim verify`` with the controller in process vs behind the lock-step protocol.

The whole conformance suite (every scenario in ``pumpsim/data/conformance``) runs
with pumpsim's reference controller four ways:

- in process (the Python controller called directly);
- ``exec:python -m pumpsim.connect.host reference`` (a child process on a pipe);
- ``tcp://127.0.0.1:PORT`` to the same host already listening (loopback);
- ``exec:examples/controller_c/pump_firmware`` (the C example, built with ``cc`` when
  present; a different firmware, so its run does other work: shown for scale only).

Each external run starts from nothing (a fresh child or connection), so the time
includes starting the controller. Prints the median wall time of ``--repeat`` runs,
the ratio to in process, the number of protocol exchanges (each a line each way),
the CPU time of the engine and (exec:) the controller process, and the protocol's
CPU cost per exchange ((external − in process) / exchanges; the C firmware does
other work, so its figure mixes both). On a shared machine the wall times are noisy;
the CPU columns are steadier::

    python benchmarks/external_controller.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pumpsim.connect.external import ExternalFactory
from pumpsim.verify import verify

ROOT = Path(__file__).resolve().parent.parent
HOST = [sys.executable, "-m", "pumpsim.connect.host"]


def timed(make_controller, repeat: int) -> tuple[float, float, float, int, dict]:
    """Medians over ``repeat`` runs of ``verify``: wall time, this process's CPU time and the
    reaped children's CPU time [s]; exchanges; verdicts."""
    walls, cpus, kids, exchanges, verdicts = [], [], [], 0, {}
    for _ in range(repeat):
        controller = make_controller()
        k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0, c0 = time.perf_counter(), time.process_time()
        report = verify(controller)
        if isinstance(controller, ExternalFactory):
            controller.close()  # reaps an exec: child, so its CPU time is counted
            exchanges = controller.exchanges
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        kids.append(k1.ru_utime + k1.ru_stime - k0.ru_utime - k0.ru_stime)
        verdicts = {rid: r["status"] for rid, r in report.to_dict()["requirements"].items()}
    med = statistics.median
    return med(walls), med(cpus), med(kids), exchanges, verdicts


def build_c(folder: Path) -> Path | None:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        return None
    exe = folder / "pump_firmware"
    src = ROOT / "examples" / "controller_c" / "pump_firmware.c"
    subprocess.run([cc, "-std=c99", "-O2", "-o", str(exe), str(src)], check=True)
    return exe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    exec_spec = "exec:" + " ".join(shlex.quote(a) for a in [*HOST, "reference"])
    server = subprocess.Popen([*HOST, "--tcp", "0", "reference"], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        tcp_spec = server.stdout.readline().split()[2]
        with tempfile.TemporaryDirectory() as tmp:
            c_exe = build_c(Path(tmp))
            cases = [
                ("in process", lambda: None),
                ("exec: python host", lambda: ExternalFactory(exec_spec)),
                ("tcp: python host", lambda: ExternalFactory(tcp_spec)),
            ]
            if c_exe is not None:
                cases.append(("exec: C firmware", lambda: ExternalFactory(f"exec:{c_exe}")))
            rows = [(name, *timed(make, args.repeat)) for name, make in cases]
    finally:
        server.terminate()
        server.wait()
    base, base_cpu, base_verdicts = rows[0][1], rows[0][2], rows[0][5]
    print(f"pumpsim verify, whole conformance suite, median of {args.repeat} run(s); CPU: this "
          "process + an exec: child (a tcp: server's CPU is not counted)")
    print(f"{'controller':<20} {'wall [s]':>9} {'ratio':>6} {'CPU [s]':>8} {'ratio':>6} "
          f"{'exchanges':>10} {'CPU/exch. [us]':>15}  same verdicts")
    for name, wall, cpu, kid, n, verdicts in rows:
        total = cpu + kid
        per = f"{(total - base_cpu) / n * 1e6:.0f}" if n else "-"
        same = "-" if name == "in process" else ("yes" if verdicts == base_verdicts else "no")
        print(f"{name:<20} {wall:9.2f} {wall / base:6.2f} {total:8.2f} {total / base_cpu:6.2f} "
              f"{n:10d} {per:>15}  {same}")
    if c_exe is None:
        print("(no C compiler: the C firmware was not built)")


if __name__ == "__main__":
    main()
