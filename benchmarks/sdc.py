"""Speed: an SDC SetValue round trip (sdc11073's consumer -> pumpsim's provider -> the
live session -> the final OperationInvokedReport) with Nagle's algorithm disabled and
enabled, against the same command applied in process (``Session.command``).

One lock-step session (a morphine syringe pump), its pump as an SDC provider over
loopback (plain HTTP, no discovery), and sdc11073's consumer in the same process.
Each SetValue on the rate alternates 3 and 4 mL/h (both inside the drug library's
limits, so the command is applied). Prints median and p99 of the wall time per call
[ms] and the ratio to in process (needs ``pumpsim[sdc]``)::

    python benchmarks/sdc.py [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from typing import Any

from pumpsim.connect.sdc import SdcPump
from pumpsim.connect.session import Session

SCENARIO = {
    "name": "SDC benchmark", "duration": "24 h", "drug_library": "builtin",
    "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
    "pumps": [{"id": "A", "kind": "syringe", "syringe": "50 mL", "drug": "morphine",
               "concentration": "1 mg/mL", "route": "iv", "care_area": "med_surg",
               "program": [{"mode": "continuous", "rate": "2 mL/h", "vtbi": "40 mL"}]}],
}  # fmt: skip


def quantiles(times: list[float]) -> tuple[float, float]:
    """Median and 99th percentile [ms]."""
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p99 * 1e3


def in_process(calls: int) -> list[float]:
    session = Session(SCENARIO, seed=1)
    session.advance(60.0)
    times = []
    for i in range(calls):
        t0 = time.perf_counter()
        session.command({"type": "titrate", "pump": "A", "rate": f"{3 + i % 2} mL/h"})
        times.append(time.perf_counter() - t0)
    return times


def over_sdc(calls: int, nagle_off: bool) -> tuple[list[float], float]:
    """Round-trip times of ``calls`` SetValue operations; and the connect time [s]."""
    from sdc11073.consumer.consumerimpl import SdcConsumer
    from sdc11073.definitions_sdc import SdcV1Definitions
    from sdc11073.httpserver.httprequesthandler import DispatchingRequestHandler

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def make() -> Any:
        s = Session(SCENARIO, seed=1)
        s.advance(60.0)
        return s

    session = asyncio.run_coroutine_threadsafe(make(), loop).result(10)
    pump = SdcPump(session, "A", loop)
    DispatchingRequestHandler.disable_nagle_algorithm = nagle_off  # SdcPump sets True
    pump.start()
    consumer = SdcConsumer(pump.address, sdc_definitions=SdcV1Definitions,
                           ssl_context_container=None)  # fmt: skip
    try:
        t0 = time.perf_counter()
        consumer.start_all()
        connect = time.perf_counter() - t0
        client = consumer.set_service_client
        times = []
        for i in range(calls):
            t0 = time.perf_counter()
            result = client.set_numeric_value("op.rate", 3 + i % 2).result(10)
            times.append(time.perf_counter() - t0)
            if result.InvocationInfo.InvocationState != "Fin":
                raise RuntimeError(f"SetValue failed: {result.InvocationInfo}")
        return times, connect
    finally:
        consumer.stop_all()
        pump.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    base, base_p99 = quantiles(in_process(args.calls))
    rows: list[tuple[str, float, float, float | None]] = [
        ("in process (Session.command)", base, base_p99, None)]
    for nagle_off in (True, False):
        times, connect = over_sdc(args.calls, nagle_off)
        med, p99 = quantiles(times)
        label = f"SDC SetValue, Nagle {'disabled' if nagle_off else 'enabled'}"
        rows.append((label, med, p99, connect))
    print(f"{args.calls} calls each; times in ms")
    print(f"{'path':40s} {'median':>8s} {'p99':>8s} {'ratio':>7s} {'connect':>8s}")
    for label, med, p99, connect in rows:
        conn = f"{connect * 1e3:8.0f}" if connect is not None else f"{'':8s}"
        print(f"{label:40s} {med:8.2f} {p99:8.2f} {med / base:7.1f} {conn}")


if __name__ == "__main__":
    main()
