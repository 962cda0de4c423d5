"""The classroom pages: a route explorer, a pump explorer and the classic figures, over HTTP.

A FastAPI router (``/classroom``) that the live emulator's server
(:func:`pumpsim.connect.api.create_app`) includes, so ``pumpsim app`` and
``pumpsim serve`` are one server with one stack. Every number comes from
pumpsim's own engine: the route curves from :func:`pumpsim.pk.exposure.route_curves`
(equal to the engine's route comparison), the pump page from
:func:`pumpsim.simulate`, the figures from :mod:`pumpsim.figures`. Requests are
checked by the scenario schema: a bad field is refused with 422 and its path.
The page itself (``pumpsim/web/classroom/``) is plain HTML, CSS and JavaScript
with no third-party code, so it works with no network at all.
"""

from __future__ import annotations

import functools
import time
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PumpRequest", "RoutesRequest", "build_router", "make_app", "options_payload",
           "pump_payload", "routes_payload"]

PAGE_FILES = {"index.html": "text/html; charset=utf-8", "classroom.js": "text/javascript",
              "classroom.css": "text/css"}  # fmt: skip


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatientIn(_Request):
    age: str = "40 y"
    weight: str = "70 kg"
    height: str = "170 cm"
    sex: Literal["male", "female"] = "male"


class RoutesRequest(_Request):
    """One dose of one drug by several routes (fields as in a scenario's bolus event)."""

    drug: str = "morphine"
    model: str | None = None
    dose: str = "10 mg"
    salt: str | None = None
    over: str | None = "1 min"
    duration: str = "24 h"
    patient: PatientIn = PatientIn()
    routes: list[str] = Field(default_factory=lambda: ["iv", "sc", "im", "io", "epidural"])
    threshold: str | None = None


class PumpRequest(_Request):
    """One pump, one rate, one fault: what a lecture shows at the bedside."""

    kind: Literal["syringe", "volumetric", "elastomeric", "ideal"] = "syringe"
    syringe: str = "50 mL"
    container: str = "100 mL"
    purge: bool = False
    drug: str = "morphine"
    concentration: str = "1 mg/mL"
    rate: str = "1 mL/h"
    fault: Literal["none", "occlusion", "air", "empty", "door"] = "occlusion"
    fault_at: str = "30 min"
    occlusion_limit: str = "300 mmHg"
    duration: str = "3 h"


class ClassroomError(ValueError):
    """A request the scenario schema refuses: (field path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


def _interval_s(duration_s: float) -> float:
    """An output interval giving about 1000-1500 points (the page draws every one)."""
    for step in (10.0, 30.0, 60.0, 120.0, 300.0, 600.0):
        if duration_s / step <= 1500:
            return step
    return 900.0


def _validate(raw: dict[str, Any], fields: dict[str, str]) -> Any:
    """Load ``raw`` as a scenario; map its problems back to the request's field names."""
    from pumpsim.errors import ScenarioError
    from pumpsim.scenario.load import load_scenario

    try:
        return load_scenario(raw)
    except ScenarioError as exc:
        raise ClassroomError([(fields.get(p.path, p.path), p.message)
                              for p in exc.problems]) from None  # fmt: skip
    except (KeyError, ValueError) as exc:
        raise ClassroomError([("request", str(exc).strip("'\""))]) from None


def _yaml(raw: dict[str, Any], purpose: str) -> str:
    import yaml

    text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
    return f"# Purpose: {purpose}\n{text}"


def routes_scenario(req: RoutesRequest) -> dict[str, Any]:
    """The scenario file reproducing a routes request with ``pumpsim run`` (an arm per route)."""
    event: dict[str, Any] = {"at": "0 min", "type": "bolus", "drug": req.drug, "dose": req.dose,
                             "route": req.routes[0] if req.routes else "iv"}  # fmt: skip
    for key, value in (("salt", req.salt), ("pk_model", req.model), ("duration", req.over)):
        if value:
            event[key] = value
    return {
        "name": f"{req.dose} {req.drug} by {', '.join(req.routes)}",
        "duration": req.duration,
        "output": {"interval": "1 min"},
        "patient": req.patient.model_dump(),
        "events": [event],
        "variants": {r: {"events[0].route": r} for r in req.routes},
        "compare": True,
    }


_ROUTE_FIELDS = {"events[0].dose": "dose", "events[0].salt": "salt", "events[0].drug": "drug",
                 "events[0].route": "routes", "events[0].duration": "over",
                 "events[0].pk_model": "model", "duration": "duration"}  # fmt: skip


def routes_payload(req: RoutesRequest) -> dict[str, Any]:
    """Curves, exposure table, citations and scenario file for a routes request."""
    import numpy as np

    from pumpsim.errors import PumpsimError
    from pumpsim.pk.exposure import route_curves
    from pumpsim.pk.registry import get_drug, get_model
    from pumpsim.scenario.checks import covariates
    from pumpsim.units import parse_amount

    started = time.perf_counter()
    if not req.routes:
        raise ClassroomError([("routes", "pick at least one route")])
    raw = routes_scenario(req)
    sc = _validate({k: v for k, v in raw.items() if k not in ("variants", "compare")},
                   _ROUTE_FIELDS)
    try:
        spec = get_model(req.drug, req.model)
    except KeyError as exc:
        raise ClassroomError([("model", str(exc).strip("'\""))]) from None
    bad = [r for r in req.routes if r not in spec.routes]
    if bad:
        raise ClassroomError([("routes", f"{spec.key} has no data for {', '.join(bad)}; "
                                         f"allowed: {', '.join(spec.routes)}")])  # fmt: skip
    drug = get_drug(req.drug)
    event = sc.events[0]
    weight = sc.patient.weight if sc.patient is not None else 0.0
    amount = event.dose.for_weight(weight) * (drug.salts[event.salt] if event.salt else 1.0)
    threshold = None
    if req.threshold:
        try:  # amount per mL -> per L -> the drug's plasma unit
            threshold = parse_amount(req.threshold, "concentration").value * 1000.0 \
                * drug.plasma_factor
        except (PumpsimError, ValueError):
            threshold = None
        if threshold is None or not np.isfinite(threshold) or threshold <= 0:
            raise ClassroomError([("threshold", "a concentration > 0 with its unit, e.g. "
                                                f"'20 {drug.plasma_unit}'")]) from None
    interval = _interval_s(sc.duration)
    cov = covariates(sc)
    assert cov is not None  # the request always has a patient
    curves = route_curves(req.drug, amount, req.routes, cov, sc.duration, interval,
                          over_s=event.duration, model=spec.key)  # fmt: skip
    rows = []
    for route, c in curves.items():
        above = None
        if threshold is not None:
            dt = np.diff(c.time_s)
            above = float(np.sum(dt[c.plasma[:-1] >= threshold])) / 60.0
        rows.append({"route": route, "F": c.bioavailability, "cmax": c.cmax,
                     "tmax_min": c.tmax_s / 60.0, "auc": c.auc,
                     "time_above_min": above})  # fmt: skip
    cites = [str(x) for x in spec.citations]
    for route in req.routes:
        ab = spec.routes[route].citation
        if ab is not None and str(ab) not in cites:
            cites.append(str(ab))
    first = next(iter(curves.values()))
    return {
        "drug": req.drug, "model": spec.key, "unit": drug.plasma_unit, "amount": amount,
        "amount_unit": drug.amount_unit, "time_min": (first.time_s / 60.0).tolist(),
        "curves": {r: {"plasma": c.plasma.tolist(),
                       "effect": None if c.effect is None else c.effect.tolist()}
                   for r, c in curves.items()},
        "table": rows, "threshold": threshold, "citations": cites,
        "scenario": _yaml(raw, f"{req.dose} {req.drug} by {', '.join(req.routes)}, side by "
                               "side (pumpsim run --compare)"),
        "compute_ms": (time.perf_counter() - started) * 1000.0,
    }  # fmt: skip


def pump_scenario(req: PumpRequest) -> dict[str, Any]:
    """The scenario file of a pump request."""
    pump: dict[str, Any] = {"id": "A", "kind": req.kind, "drug": req.drug, "route": "iv",
                            "concentration": req.concentration,
                            "settings": {"occlusion_limit": req.occlusion_limit,
                                         "air_limit": "200 uL"},
                            "program": [{"rate": req.rate}]}  # fmt: skip
    if req.drug == "fluid":
        del pump["concentration"]
    if req.kind == "syringe":
        pump.update(syringe=req.syringe, purge=req.purge)
    else:
        pump["container"] = req.container
    events: list[dict[str, Any]] = []
    if req.fault == "occlusion":
        events.append({"at": req.fault_at, "type": "occlusion", "pump": "A",
                       "side": "downstream"})  # fmt: skip
    elif req.fault == "air":
        events.append({"at": req.fault_at, "type": "air", "pump": "A", "volume": "250 uL"})
    elif req.fault == "door":
        events.append({"at": req.fault_at, "type": "door_open", "pump": "A"})
    elif req.fault == "empty":  # load only what the rate delivers by fault_at
        from pumpsim.errors import PumpsimError
        from pumpsim.units import parse

        try:
            fill = parse(req.rate, "flow") * parse(req.fault_at, "time")
        except (PumpsimError, ValueError):
            fill = None  # the schema names the bad field below
        if fill is not None and fill > 0:
            pump["fill"] = f"{fill:.6g} mL"
    return {"name": f"{req.kind} pump at {req.rate}, fault: {req.fault}",
            "duration": req.duration, "output": {"interval": "10 s"},
            "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
            "pumps": [pump], "events": events}  # fmt: skip


_PUMP_FIELDS = {"pumps[0].rate": "rate", "pumps[0].program[0].rate": "rate",
                "pumps[0].syringe": "syringe", "pumps[0].container": "container",
                "pumps[0].concentration": "concentration", "pumps[0].drug": "drug",
                "pumps[0].settings.occlusion_limit": "occlusion_limit",
                "events[0].at": "fault_at", "duration": "duration"}  # fmt: skip


def pump_payload(req: PumpRequest) -> dict[str, Any]:
    """Flow, programmed rate, pressure, concentration and alarms of a pump request."""
    import numpy as np

    from pumpsim import simulate

    started = time.perf_counter()
    raw = pump_scenario(req)
    sc = _validate(raw, _PUMP_FIELDS)
    res = simulate(sc, seed=0)
    ts = res.timeseries
    t = ts.index.to_numpy(dtype=float)

    def col(prefix: str) -> list[float] | None:
        name = next((c for c in ts.columns if c.startswith(prefix)), None)
        return None if name is None else np.nan_to_num(ts[name].to_numpy(dtype=float)).tolist()

    conc_col = next((c for c in ts.columns if c.startswith(f"patient.{req.drug}.plasma")), None)
    alarms = [{"time_min": e.time_s / 60.0, "alarm": e.details.get("alarm", ""),
               "priority": e.details.get("priority", ""), "message": e.details.get("message", "")}
              for e in res.events if e.kind == "alarm"]  # fmt: skip
    states = [{"time_min": e.time_s / 60.0, "state": e.details.get("state", "")}
              for e in res.events if e.kind == "state"]  # fmt: skip
    limit = float(sc.pumps[0].settings.occlusion_limit or 0.0) if sc.pumps[0].settings else 0.0
    return {
        "time_min": (t / 60.0).tolist(),
        "flow": col("pump.A.flow["), "rate": col("pump.A.rate["),
        "pressure": col("pump.A.pressure["), "occlusion_limit": limit,
        "concentration": None if conc_col is None else ts[conc_col].to_numpy(float).tolist(),
        "concentration_label": conc_col, "alarms": alarms, "states": states,
        "scenario": _yaml(raw, f"{req.kind} pump at {req.rate} with fault '{req.fault}'"),
        "compute_ms": (time.perf_counter() - started) * 1000.0,
    }  # fmt: skip


def options_payload() -> dict[str, Any]:
    """Drugs, their models, each model's routes and citations, salts and units."""
    from pumpsim.pk.drugs import DRUGS
    from pumpsim.pk.registry import get_model, model_keys

    out: dict[str, Any] = {}
    for name, drug in DRUGS.items():
        if drug.default_model is None:
            continue
        models = {}
        for key in model_keys(name):
            spec = get_model(name, key)
            routes = list(getattr(spec, "routes", {"iv": None}))
            models[key] = {"routes": routes, "description": spec.description,
                           "citations": [str(c) for c in spec.citations]}  # fmt: skip
        out[name] = {"default_model": drug.default_model, "models": models,
                     "salts": sorted(drug.salts), "unit": drug.plasma_unit,
                     "amount_unit": drug.amount_unit}  # fmt: skip
    return out


@functools.lru_cache(maxsize=16)
def _figure_bytes(name: str, ext: str) -> bytes:
    import io

    import matplotlib.pyplot as plt

    from pumpsim.figures import get_figure, render

    spec = get_figure(name)
    table = _figure_table(name)
    if ext == "csv":
        return table.to_csv(index=False).encode()
    fig = render(spec, table)
    buf = io.BytesIO()
    fig.savefig(buf, format=ext, dpi=110)
    plt.close(fig)
    return buf.getvalue()


@functools.lru_cache(maxsize=8)
def _figure_table(name: str) -> Any:
    from pumpsim.figures import get_figure

    return get_figure(name).compute()


def _static(name: str) -> bytes:
    return resources.files("pumpsim.web").joinpath("classroom", name).read_bytes()


def build_router() -> Any:
    """The FastAPI router with the pages and their JSON API under ``/classroom``."""
    from fastapi import APIRouter, HTTPException
    from fastapi.responses import JSONResponse, RedirectResponse, Response

    router = APIRouter(prefix="/classroom", tags=["classroom"])

    def refuse(exc: ClassroomError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": ["body", *p.split(".")], "msg": m, "type": "value_error"}
            for p, m in exc.problems]})  # fmt: skip

    @router.get("", include_in_schema=False)
    async def root() -> Any:
        return RedirectResponse("/classroom/")

    @router.get("/", include_in_schema=False)
    async def index() -> Any:
        return Response(_static("index.html"), media_type=PAGE_FILES["index.html"])

    @router.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Any:
        if name not in PAGE_FILES:
            raise HTTPException(404, "no such file")
        return Response(_static(name), media_type=PAGE_FILES[name])

    @router.get("/api/options")
    async def options() -> dict[str, Any]:
        """Drugs, models, the routes each model has data for, salts and units."""
        return options_payload()

    @router.post("/api/routes")
    async def routes(req: RoutesRequest) -> Any:
        """Curves and exposure table of one dose by several routes."""
        try:
            return routes_payload(req)
        except ClassroomError as exc:
            return refuse(exc)

    @router.post("/api/pump")
    async def pump(req: PumpRequest) -> Any:
        """One pump at one rate with one fault: flow, pressure, alarms, concentration."""
        try:
            return pump_payload(req)
        except ClassroomError as exc:
            return refuse(exc)

    @router.get("/api/figures")
    async def figures() -> list[dict[str, Any]]:
        """The classic figures: name, title and sources."""
        from pumpsim.figures import figure_names, get_figure

        return [{"name": n, "title": get_figure(n).title, "sources": list(get_figure(n).sources)}
                for n in figure_names()]  # fmt: skip

    @router.get("/api/figures/{name}.{ext}")
    async def figure(name: str, ext: str) -> Any:
        """A classic figure as PNG, SVG or the CSV behind it (computed once, then cached)."""
        from pumpsim.figures import figure_names

        if name not in figure_names() or ext not in ("png", "svg", "csv"):
            raise HTTPException(404, f"no figure {name}.{ext}")
        media = {"png": "image/png", "svg": "image/svg+xml", "csv": "text/csv"}[ext]
        return Response(_figure_bytes(name, ext), media_type=media)

    return router


def make_app() -> Any:
    """The live emulator's server (:func:`pumpsim.connect.api.create_app`), which serves the
    classroom pages under ``/classroom/``, started without a live session."""
    from pumpsim.connect.api import create_app

    return create_app(first_session=False)


def __getattr__(name: str) -> Any:
    if name == "router":
        return build_router()
    raise AttributeError(name)


def run_app(host: str = "127.0.0.1", port: int = 0, open_browser: bool = True,
            app: Any = None) -> None:  # fmt: skip
    """Serve the classroom on ``host:port`` (port 0: a free port) until interrupted.

    The socket is bound here, so the address printed and opened is the one
    actually served. Only loopback is served unless the caller passes another
    ``host``.
    """
    import socket
    import webbrowser

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    url = f"http://{host}:{sock.getsockname()[1]}/classroom/"
    print(f"pumpsim classroom at {url} (Ctrl+C to stop)", flush=True)
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(app or make_app(), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
