"""The classroom pages in a real browser (Debian's chromium driven by Playwright).

The server is started in this process on 127.0.0.1 (a free port) and the page
is driven as a teacher would: change the dose and a route on the routes page,
then inject an occlusion on the pump page and see the alarm. Expected values:
linear PK (doubling the dose doubles Cmax, a closed-form property) and the
engine's own route curves (pumpsim.pk.exposure, equal to compare_routes).
Screenshots go to docs/img/ for the README.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser extra is not installed")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)  # fmt: skip

#: screenshots for the README: set PUMPSIM_SCREENSHOTS=docs/img to refresh them
IMG = Path(os.environ.get("PUMPSIM_SCREENSHOTS", "")) if os.environ.get("PUMPSIM_SCREENSHOTS") \
    else None
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from pumpsim.connect.classroom import make_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(make_app(), log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the server did not start within 20 s"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page():
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(30_000)
        yield pg
        browser.close()


def _cmax(page, route: str) -> float:
    return float(page.get_attribute(f'#r-table tr[data-route="{route}"] td[data-col="cmax"]',
                                    "data-value"))  # fmt: skip


def _wait_version(page, attr: str, after: int) -> None:
    page.wait_for_function(f"(+document.body.dataset.{attr} || 0) > {after}")


@pytest.fixture()
def shots(tmp_path) -> Path:
    folder = IMG or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_routes_page_follows_the_controls(server, page, shots) -> None:
    from pumpsim.pk.covariates import Covariates
    from pumpsim.pk.exposure import route_curves

    page.goto(f"{server}/classroom/")
    _wait_version(page, "routesVersion", 0)
    rows = page.locator("#r-table tbody tr")
    assert rows.count() == 5  # morphine (Sarton 2000) has IV, SC, IM, IO and epidural data
    # the table shows the engine's numbers: 10 mg morphine base over 1 min, 40 y 70 kg man
    man = Covariates(age=40.0, weight=70.0, height=170.0, sex="male")
    want = route_curves("morphine", 10.0, ["sc"], man, 6 * 3600.0, 30.0, over_s=60.0)["sc"].cmax
    assert _cmax(page, "sc") == pytest.approx(want, rel=1e-9)
    first_pixels = page.locator("#r-linear").screenshot()
    # double the dose: linear PK, every Cmax doubles (closed form)
    before = {r: _cmax(page, r) for r in ("iv", "sc", "im", "io", "epidural")}
    version = int(page.evaluate("+document.body.dataset.routesVersion"))
    page.fill("#r-dose", "20 mg")
    page.press("#r-dose", "Enter")
    _wait_version(page, "routesVersion", version)
    for r, c in before.items():
        assert _cmax(page, r) == pytest.approx(2 * c, rel=1e-9)
    assert page.locator("#r-linear").screenshot() != first_pixels  # the curves were redrawn
    # take IM out: its row goes, the others stay
    version = int(page.evaluate("+document.body.dataset.routesVersion"))
    page.uncheck("#r-route-im")
    _wait_version(page, "routesVersion", version)
    routes = page.eval_on_selector_all("#r-table tbody tr", "rs => rs.map(r => r.dataset.route)")
    assert routes == ["iv", "sc", "io", "epidural"]
    assert page.locator("#r-citations li").count() >= 1  # citations sit under the figure
    # a bad field is named, the page keeps working
    page.fill("#r-weight", "-70 kg")
    page.press("#r-weight", "Enter")
    page.wait_for_function("document.getElementById('r-error').textContent.length > 0")
    assert "weight" in page.text_content("#r-error")
    page.fill("#r-weight", "70 kg")
    version = int(page.evaluate("+document.body.dataset.routesVersion"))
    page.press("#r-weight", "Enter")
    _wait_version(page, "routesVersion", version)
    page.check("#r-route-im")
    page.fill("#r-dose", "10 mg")
    page.select_option("#r-salt", "sulfate")
    page.fill("#r-threshold", "20 ng/mL")
    version = int(page.evaluate("+document.body.dataset.routesVersion"))
    page.press("#r-threshold", "Enter")
    _wait_version(page, "routesVersion", version)
    page.screenshot(path=str(shots / "classroom_routes.png"), full_page=True)
    assert (shots / "classroom_routes.png").stat().st_size > 10_000


def test_pump_page_shows_the_occlusion_alarm(server, page, shots) -> None:
    page.goto(f"{server}/classroom/")
    _wait_version(page, "routesVersion", 0)
    page.click("#tab-pump")
    _wait_version(page, "pumpVersion", 0)
    # the default lesson: 50 mL syringe, 1 mL/h, occlusion at 30 min, 300 mmHg limit
    banner = page.locator("#p-banner")
    assert banner.is_visible()
    assert "HIGH PRIORITY ALARM: occlusion" in banner.text_content()
    assert "high" in banner.get_attribute("class")
    alarm = page.text_content("#p-alarms li.high")
    minutes = float(alarm.split(" min")[0])
    # closed form C·(P_alarm − P0)/Q (docs/references.md [Snijder2015]): 50 mL syringe plus the
    # default set's compliance, the set's resistance drop as P0, 1 mL/h, from the 30-min occlusion
    from pumpsim.bench import predicted_alarm_time
    from pumpsim.pump.line import DEFAULT_SET_COMPLIANCE, DEFAULT_SET_RESISTANCE
    from pumpsim.pump.mechanism import build_mechanism

    c = build_mechanism("syringe", size=50.0, purged=False, fill=50.0).compliance
    q = 1.0 / 3600.0
    want = predicted_alarm_time(c + DEFAULT_SET_COMPLIANCE, 300.0, DEFAULT_SET_RESISTANCE * q, 1.0)
    assert minutes - 30.0 == pytest.approx(want / 60.0, rel=0.02)
    # scrub back before the alarm: no banner, no alarm listed
    page.fill("#p-time", "100")
    page.dispatch_event("#p-time", "input")
    assert not banner.is_visible()
    page.evaluate("document.getElementById('p-time').value = document.getElementById('p-time').max")
    page.dispatch_event("#p-time", "input")
    assert banner.is_visible()
    page.screenshot(path=str(shots / "classroom_pump.png"), full_page=True)
    # switch the fault to an air bubble: a different high-priority alarm
    version = int(page.evaluate("+document.body.dataset.pumpVersion"))
    page.select_option("#p-kind", "volumetric")
    page.select_option("#p-fault", "air")
    _wait_version(page, "pumpVersion", version)
    page.wait_for_function("document.getElementById('p-banner').textContent.includes('air')")
