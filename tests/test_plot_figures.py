"""Figures fit for a slide or a paper: labels that never overprint, µg, citations inside
the figure, the threshold drawn, arms told apart by line style, vector files and dpi.

Every expected value here is a property of the drawing (bounding boxes, file headers,
artist styles), checked on the laid-out figure; none is read from an earlier run.
"""

from __future__ import annotations

import struct
from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

import pumpsim  # noqa: E402
from pumpsim.plot import display_unit, mark_events, overview, save_figure, save_plots  # noqa: E402
from tests.conftest import ROOT  # noqa: E402


def _event(t: float, kind: str = "alarm", **details) -> SimpleNamespace:
    return SimpleNamespace(time_s=t, kind=kind, source="pump", details=details)


def _labels(fig) -> list:
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == "event-label"]


def _no_overlap(fig) -> None:
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in _labels(fig)]
    for a, b in combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def _figure(**kw):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(layout="constrained", **kw)
    FigureCanvasAgg(fig)
    return fig


def test_display_unit_writes_micro_and_leaves_other_words() -> None:
    assert display_unit("propofol [ug/mL]") == "propofol [µg/mL]"
    assert display_unit("AUC [ug*h/mL]") == "AUC [µg*h/mL]"
    assert display_unit("2.5 uL/mmHg") == "2.5 µL/mmHg"
    assert display_unit("mg, ng/mL, plug, u") == "mg, ng/mL, plug, u"


def test_crowded_event_labels_never_overlap_and_have_a_legend() -> None:
    # 60 alarms and boluses within 20 min of a 2-h run: one label each would overprint
    t = np.arange(0, 7201, 60.0)
    result = SimpleNamespace(timeseries=pd.DataFrame(index=t),
                             events=[_event(3000 + 20 * i, "alarm" if i % 2 else "bolus",
                                            alarm="occlusion", drug="morphine")
                                     for i in range(60)] + [_event(6000.0, alarm="battery_low")])
    fig = _figure(figsize=(8, 4))
    axes = fig.subplots(2, 1, sharex=True)[:].tolist()
    for ax in axes:
        ax.plot(t / 60, np.sin(t))
    mark_events(result, axes)
    fig.canvas.draw()
    labels = _labels(fig)
    assert 2 <= len(labels) < 61  # merged, and the distant one apart
    _no_overlap(fig)
    assert any("battery_low" in t.get_text() for t in labels)
    legend_text = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert legend_text == ["alarm", "bolus"]


@pytest.fixture(scope="module")
def propofol():
    return pumpsim.simulate(ROOT / "scenarios" / "propofol_rate_change.yaml")


def _texts(fig) -> list[str]:
    out = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return [s for s in out if s]


def test_overview_says_micro_gram_and_keeps_its_citation_inside(propofol) -> None:
    fig = overview(propofol, fig=_figure(figsize=(9, 6)))
    fig.canvas.draw()
    texts = _texts(fig)
    assert any("µg/mL" in s for s in texts)
    assert not any("ug/" in s for s in texts)
    cite = fig._supxlabel
    assert "PK models" in cite.get_text()
    inside = fig.bbox
    box = cite.get_window_extent(fig.canvas.get_renderer())
    assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0
    _no_overlap(fig)


def test_overview_of_a_fault_run_labels_without_overprint() -> None:
    res = pumpsim.simulate(ROOT / "scenarios" / "power_loss_battery.yaml")
    fig = overview(res, fig=_figure(figsize=(9, 6)))
    fig.canvas.draw()
    assert len(_labels(fig)) >= 3
    _no_overlap(fig)


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_save_writes_vector_files_and_honours_dpi(tmp_path) -> None:
    fig = _figure(figsize=(4, 3))
    fig.add_subplot().plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path / "f.png", ("png", "svg", "pdf"), dpi=50)
    assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
    assert _png_size(tmp_path / "f.png") == (200, 150)  # 4 x 3 in at 50 dpi
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "f.pdf").read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="gif"):
        save_figure(fig, tmp_path / "g.png", ("gif",))


def test_save_plots_formats_and_dpi(tmp_path) -> None:
    res = pumpsim.simulate(ROOT / "scenarios" / "power_loss_battery.yaml")
    paths = save_plots(res, tmp_path, ("png", "svg", "pdf"), dpi=40)
    assert {p.name for p in paths} == {"overview.png", "overview.svg", "overview.pdf"}
    assert all(p.stat().st_size > 1000 for p in paths)
    from pumpsim.plot import _figsize

    w, h = _figsize(res)
    assert _png_size(tmp_path / "overview.png") == (round(w * 40), round(h * 40))


def test_route_figure_threshold_styles_and_citations() -> None:
    comp = pumpsim.compare_routes("morphine", "10 mg", routes=["iv", "sc", "io"],
                                  duration="1 h")  # fmt: skip
    fig = comp.figure(fig=_figure(figsize=(12, 5.5)), threshold=20.0)
    fig.canvas.draw()
    for ax in fig.axes:
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        assert [ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_gid() == "threshold"] == [20]
        assert lines["iv"].get_linestyle() != lines["io"].get_linestyle()
        assert lines["iv"].get_marker() != lines["io"].get_marker()
    renderer = fig.canvas.get_renderer()
    cite = fig._supxlabel
    assert len(cite.get_text().splitlines()) >= len(comp.citations())  # wrapped, not cut
    assert all(c.split(".")[0] in cite.get_text() for c in comp.citations())
    box = cite.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0
    for ax in fig.axes:  # the axes sit above the citations
        assert ax.get_window_extent(renderer).y0 > box.y1 - 1


def test_cli_plot_format_and_dpi(tmp_path, capsys) -> None:
    from pumpsim.cli import main

    sc = ROOT / "scenarios" / "power_loss_battery.yaml"
    out = tmp_path / "o"
    assert main(["run", str(sc), "--out", str(out), "--quiet", "--plot-format", "png,svg",
                 "--dpi", "60"]) == 0  # fmt: skip
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["overview.png", "overview.svg"]
    assert main(["run", str(sc), "--out", str(tmp_path / "x"), "--plot-format", "gif"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("--plot-format:") and not (tmp_path / "x").exists()
    out = tmp_path / "r"
    assert main(["routes", "--drug", "morphine", "--dose", "10 mg", "--routes", "iv,io",
                 "--duration", "1 h", "--threshold", "20 ng/mL", "--out", str(out),
                 "--plot-format", "pdf"]) == 0  # fmt: skip
    assert (out / "plots" / "comparison.pdf").stat().st_size > 1000
