"""Live emulator on loopback: command round trip, and many WebSocket clients at 60x.

Not a test. Starts ``pumpsim serve --port 0`` as a subprocess (BLAS pinned to one thread,
as the other benchmarks do) and prints:

1. REST command round trip (``POST /sessions/{id}/commands``, a ``silence`` on a lock-step
   session, keep-alive connection): median and p99, side by side with the same command
   applied in process (:meth:`pumpsim.connect.session.Session.command`).
2. N WebSocket clients on the paced session at 60x for T seconds: messages delivered per
   client, clients dropped, delivery latency (receive wall time − the message's wall
   stamp) and the pacing lag the server reports.

Usage: ``python benchmarks/live.py [--clients 50] [--seconds 60] [--commands 300]``
(needs ``pumpsim[live]``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def start_server(speed: float) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "pumpsim", "serve", "--port", "0",
                             "--speed", str(speed)], stdout=subprocess.PIPE, text=True,
                            env=env)  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().split()[2].rstrip("/")
    return proc, url


def round_trip(url: str, n: int) -> list[float]:
    import httpx

    times = []
    with httpx.Client(base_url=url, timeout=10) as c:
        sid = c.post("/sessions", json={"lockstep": True}).json()["id"]
        for i in range(n):
            c.post(f"/sessions/{sid}/advance", json={"by": "1 s"})
            t = time.perf_counter()
            r = c.post(f"/sessions/{sid}/commands", json={"type": "silence", "pump": "A"})
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
            if i % 40 == 39:
                time.sleep(1.0)  # stay under the per-session command rate limit
        c.delete(f"/sessions/{sid}")
    return times


def in_process(n: int) -> list[float]:
    from pumpsim.connect.session import Session

    session = Session(speed=None)
    times = []
    for _ in range(n):
        session.advance(session.now + 1.0)
        t = time.perf_counter()
        session.command({"type": "silence", "pump": "A"})
        times.append(time.perf_counter() - t)
    return times


async def clients(url: str, n: int, seconds: float) -> dict[str, list[float]]:
    import websockets

    ws_url = url.replace("http://", "ws://") + "/sessions/1/stream"
    delivered: list[float] = []
    latency: list[float] = []
    lag: list[float] = []
    dropped: list[float] = []

    async def one() -> None:
        count = 0
        try:
            async with websockets.connect(ws_url, max_size=2**20) as ws:
                end = time.time() + seconds
                while time.time() < end:
                    try:
                        text = await asyncio.wait_for(ws.recv(), timeout=end - time.time())
                    except asyncio.TimeoutError:
                        break
                    m = json.loads(text)
                    count += 1
                    if "wall_time" in m:
                        latency.append(time.time() - m["wall_time"])
                    if m.get("type") == "status" and m.get("mode") == "paced":
                        lag.append(m["lag_wall_s"])
        except websockets.ConnectionClosed:
            dropped.append(1.0)
        delivered.append(float(count))

    await asyncio.gather(*(one() for _ in range(n)))
    return {"delivered": delivered, "latency": latency, "lag": lag, "dropped": dropped}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--commands", type=int, default=300)
    ap.add_argument("--speed", type=float, default=60.0)
    args = ap.parse_args()
    proc, url = start_server(args.speed)
    try:
        time.sleep(2.0)
        rest = round_trip(url, args.commands)
        local = in_process(args.commands)
        print(f"command round trip, {args.commands} commands   median      p99")
        print(f"  REST over loopback                  {statistics.median(rest) * 1e3:7.2f} ms "
              f"{percentile(rest, 99) * 1e3:7.2f} ms")
        print(f"  in process (Session.command)        {statistics.median(local) * 1e3:7.2f} ms "
              f"{percentile(local, 99) * 1e3:7.2f} ms")
        ratio = statistics.median(rest) / statistics.median(local)
        print(f"  REST / in process (median)          {ratio:7.1f}x")
        res = asyncio.run(clients(url, args.clients, args.seconds))
        d = res["delivered"]
        print(f"{args.clients} WebSocket clients, {args.seconds:g} s at {args.speed:g}x")
        print(f"  messages per client  min {min(d):.0f}  median {statistics.median(d):.0f}  "
              f"total {sum(d):.0f}  dropped clients {len(res['dropped'])}")
        lat = res["latency"]
        print(f"  delivery latency     median {statistics.median(lat) * 1e3:.1f} ms  "
              f"p99 {percentile(lat, 99) * 1e3:.1f} ms")
        lag = res["lag"] or [0.0]
        print(f"  pacing lag (wall)    median {statistics.median(lag) * 1e3:.1f} ms  "
              f"max {max(lag) * 1e3:.1f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
