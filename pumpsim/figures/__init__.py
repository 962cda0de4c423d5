"""Classic teaching figures, each computed by pumpsim's own engine.

Each figure is a :class:`ClassicFigure`: ``compute()`` returns the table
behind it (a pandas DataFrame, written as CSV), ``draw(table, fig)`` draws it
with matplotlib, and ``sources`` name the published work it stands on
(docs/references.md). ``pumpsim figure NAME --out DIR`` writes
``NAME.png``, ``NAME.svg`` and ``NAME.csv``; ``pumpsim figure --list`` lists
them.

Colours are the Okabe-Ito palette (safe for the common colour-vision
deficiencies); ``large=True`` raises every font for a lecture hall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ClassicFigure", "FIGURES", "OKABE_ITO", "figure_names", "get_figure", "save_figure"]

#: Okabe & Ito's colour-blind-safe palette (black first)
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7")  # fmt: skip
#: line styles cycled with the colours, so curves differ in grey-scale print too
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)))


@dataclass(frozen=True)
class ClassicFigure:
    """A named teaching figure: how to compute its numbers, how to draw them, and its sources."""

    name: str
    title: str
    compute: Callable[[], Any]  # -> pandas.DataFrame
    draw: Callable[[Any, Any], None]  # (table, matplotlib Figure) -> None
    sources: tuple[str, ...]
    size: tuple[float, float] = (11.0, 5.0)


def _registry() -> dict[str, ClassicFigure]:
    from pumpsim.figures import decrement, steady_state, syringe, trumpet

    figs = (decrement.FIGURE, steady_state.FIGURE, syringe.FIGURE, trumpet.FIGURE)
    return {f.name: f for f in figs}


def figure_names() -> list[str]:
    """Names of the classic figures, in teaching order."""
    return list(_registry())


def get_figure(name: str) -> ClassicFigure:
    """The figure called ``name``; KeyError lists the known ones."""
    table = _registry()
    if name not in table:
        raise KeyError(f"unknown figure {name!r}; known: {', '.join(table)}")
    return table[name]


def FIGURES() -> dict[str, ClassicFigure]:  # noqa: N802 - a registry, read like a constant
    """Every classic figure by name."""
    return _registry()


def render(fig_spec: ClassicFigure, table: Any, large: bool = False) -> Any:
    """Draw ``table`` into a new matplotlib Figure (sources written under the axes)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    scale = 1.5 if large else 1.0
    rc: dict[str, Any] = {
        "font.size": 10 * scale, "axes.titlesize": 11 * scale, "axes.labelsize": 10 * scale,
        "legend.fontsize": 8.5 * scale, "xtick.labelsize": 9 * scale,
        "ytick.labelsize": 9 * scale,
    }  # fmt: skip
    with plt.rc_context(rc):  # type: ignore[arg-type]
        w, h = fig_spec.size
        fig = plt.figure(figsize=(w * scale, (h + 0.35 * len(fig_spec.sources)) * scale),
                         layout="constrained")  # fmt: skip
        fig_spec.draw(table, fig)
        fig.suptitle(fig_spec.title)
        text = "\n".join(f"[{i + 1}] {s}" for i, s in enumerate(fig_spec.sources))
        bottom = 0.05 * len(fig_spec.sources) / scale ** 0.5
        fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))  # type: ignore[union-attr,call-arg]
        fig.text(0.01, 0.005, text, ha="left", va="bottom", fontsize=7 * scale, wrap=True)
    return fig


def save_figure(
    name: str, out: str | Path, dpi: int = 150, large: bool = False
) -> list[Path]:
    """Compute and draw figure ``name``; write NAME.png, NAME.svg and NAME.csv into ``out``.

    Returns the paths written. Files are written under temporary names and
    renamed into place, so a failure leaves no partial file.
    """
    import matplotlib.pyplot as plt

    spec = get_figure(name)
    table = spec.compute()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    fig = render(spec, table, large=large)
    paths = []
    try:
        for ext in ("png", "svg"):
            final = folder / f"{name}.{ext}"
            tmp = folder / f".{name}.{ext}.part"
            fig.savefig(tmp, dpi=dpi, format=ext)
            tmp.replace(final)
            paths.append(final)
    finally:
        plt.close(fig)
    final = folder / f"{name}.csv"
    tmp = folder / f".{name}.csv.part"
    table.to_csv(tmp, index=False)
    tmp.replace(final)
    paths.append(final)
    return paths
