"""``pumpsim serve`` as a user meets it: a uvicorn subprocess on a free loopback port, hit
over HTTP and driven by a real browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen(
        [sys.executable, "-m", "pumpsim", "serve", "--port", "0", "--speed", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()  # "pumpsim serve: http://127.0.0.1:PORT/ ..."
        assert "http://127.0.0.1:" in line, line + proc.stderr.read()
        url = line.split()[2].rstrip("/")
        for _ in range(100):  # bounded wait for the first session
            try:
                with urllib.request.urlopen(url + "/sessions", timeout=2) as r:
                    if json.loads(r.read()):
                        break
            except OSError:
                pass
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_uvicorn_on_loopback_paces_and_takes_commands(server):
    with urllib.request.urlopen(server + "/sessions/1", timeout=5) as r:
        first = json.loads(r.read())
    assert first["mode"] == "paced" and first["speed"] == 60.0
    time.sleep(0.5)
    status, reply = _post(server + "/sessions/1/commands",
                          {"type": "titrate", "pump": "A", "rate": "5 mL/h"})
    assert status == 200 and reply["applied_at_s"] > 0
    status, reply = _post(server + "/sessions/1/commands",
                          {"type": "titrate", "pump": "A", "rate": "5 parsecs"})
    assert status == 422 and reply["detail"][0]["loc"] == ["body", "rate"]
    with urllib.request.urlopen(server + "/sessions/1", timeout=5) as r:
        later = json.loads(r.read())
    # paced: about 60 sim s per wall s (loose bounds: a shared CI machine)
    assert later["sim_time_s"] > first["sim_time_s"]
    assert later["lag_wall_s"] < 5.0


def test_pump_face_in_a_real_browser(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs pumpsim[browser]")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
            viewport={"width": 1280, "height": 800},
        )
        try:
            page = ctx.new_page()
            page.goto(server + "/")
            page.wait_for_selector("#pump-A .state:text('running')", timeout=15000)
            page.click("#pump-A button[data-cmd=stop]")
            page.wait_for_selector("#pump-A .reply:text('stop at')", timeout=10000)
            page.click("#pump-A button[data-cmd=program]")  # 50 mL/h, VTBI 20 mL
            page.wait_for_selector("#pump-A .reply:text('program at')", timeout=10000)
            page.click("#pump-A button[data-cmd=start]")
            page.wait_for_selector("#pump-A .reply:text('start at')", timeout=10000)
            page.click("#pump-A button[data-cmd=occlusion]")  # at 60x
            page.wait_for_selector("#alarm-banner.alarm-high", timeout=30000)
            assert "occlusion" in page.inner_text("#alarm-banner")
            anim = page.eval_on_selector("#alarm-banner",
                                         "e => getComputedStyle(e).animationDuration")
            assert anim == "0.5s"  # 2 Hz: inside IEC 60601-1-8's 1.4-2.8 Hz for high priority
            time.sleep(1.0)  # let a chart point or two arrive
            # the README's screenshot is refreshed only when asked (PUMPSIM_SCREENSHOTS=docs/img)
            folder = Path(os.environ.get("PUMPSIM_SCREENSHOTS") or tmp_path)
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "pump_face.png"))
            assert (folder / "pump_face.png").stat().st_size > 10_000
            page.click("#silence")
            page.wait_for_selector("#alarm-banner.alarm-high.silenced", timeout=10000)
            # the API docs render from the installed swagger-ui-py files, not a CDN
            if importlib.util.find_spec("swagger_ui") is not None:
                outside = []
                page.on("request", lambda r: outside.append(r.url)
                        if not r.url.startswith(server) else None)
                page.goto(server + "/docs")
                page.wait_for_selector(".opblock", timeout=15000)
                assert outside == []
        finally:
            ctx.close()
