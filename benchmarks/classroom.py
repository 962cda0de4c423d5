"""Classroom routes page: how long one control change takes to redraw (aim: < 200 ms).

Measured three ways in one run, for the issue's case (morphine, 5 routes, 24 h):

1. ``routes_payload`` in process (the numbers: pumpsim.pk.exposure),
2. the same request over HTTP on 127.0.0.1 (FastAPI + uvicorn, JSON both ways),
3. the whole redraw in Debian's chromium (request, JSON parse, two canvases and
   the table), read from the page's own timer, when Playwright and chromium are
   present;

and, for scale, the full engine's ``compare_routes`` for the same request.
Run with the user's default settings (no BLAS variables set)::

    python benchmarks/classroom.py
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import threading
import time
import urllib.request


def blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        info = [f"{i.get('internal_api')} {i.get('num_threads')} threads"
                for i in threadpool_info() if i.get("user_api") == "blas"]  # fmt: skip
    except ImportError:
        info = ["threadpoolctl not installed"]
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                      "OPENBLAS_CORETYPE") if k in os.environ}  # fmt: skip
    return f"BLAS: {', '.join(info)}; env {env or '{}'}"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(n: int = 30) -> None:
    import uvicorn

    from pumpsim.compare import compare_routes
    from pumpsim.connect.classroom import RoutesRequest, make_app, routes_payload

    print(blas())
    doses = [f"{5 + 0.5 * i:g} mg" for i in range(n)]
    req = {"drug": "morphine", "salt": "sulfate", "over": "1 min", "duration": "24 h",
           "routes": ["iv", "sc", "im", "io", "epidural"]}  # fmt: skip
    routes_payload(RoutesRequest(**req, dose="10 mg"))  # warm: imports, caches
    inproc = []
    for d in doses:
        t = time.perf_counter()
        routes_payload(RoutesRequest(**req, dose=d))
        inproc.append((time.perf_counter() - t) * 1000)
    engine = []
    for d in doses[:5]:
        t = time.perf_counter()
        compare_routes("morphine", d, salt="sulfate", duration="24 h", interval="1 min",
                       over="1 min")  # fmt: skip
        engine.append((time.perf_counter() - t) * 1000)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/classroom/api/routes"
    http = []
    for d in doses:
        body = json.dumps({**req, "dose": d}).encode()
        t = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(
                url, body, {"Content-Type": "application/json"})) as r:  # fmt: skip
            json.loads(r.read())
        http.append((time.perf_counter() - t) * 1000)

    browser: list[float] = []
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None  # type: ignore[assignment]
    if sync_playwright is not None and os.path.exists(chromium):
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=chromium, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])  # fmt: skip
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/classroom/")
            page.wait_for_function("+document.body.dataset.routesVersion > 0")
            page.select_option("#r-duration", "24 h")
            page.select_option("#r-salt", "sulfate")
            for d in doses:
                v = int(page.evaluate("+document.body.dataset.routesVersion"))
                page.fill("#r-dose", d)
                page.press("#r-dose", "Enter")
                page.wait_for_function(f"+document.body.dataset.routesVersion > {v}")
                browser.append(float(page.evaluate("+document.body.dataset.routesRedrawMs")))
            b.close()
    server.should_exit = True
    thread.join(timeout=10)

    print(f"morphine, 5 routes, 24 h, {n} dose changes; times in ms (median / p95)")
    rows = [("numbers in process (pk.exposure)", inproc), ("request over HTTP (loopback)", http),
            ("redraw in chromium (request + draw)", browser),
            ("full engine compare_routes (for scale)", engine)]  # fmt: skip
    for name, vals in rows:
        if vals:
            print(f"  {name:42s} {statistics.median(vals):8.1f} / {pct(vals, 0.95):8.1f}")
        else:
            print(f"  {name:42s} not measured (playwright or chromium absent)")
    print(f"  engine / page numbers: {statistics.median(engine) / statistics.median(inproc):.1f}x")
    worst = pct(browser or http, 0.95)
    print(f"  aim < 200 ms per redraw: {'met' if worst < 200 else 'NOT met'} (p95 {worst:.0f} ms)")


if __name__ == "__main__":
    main()
