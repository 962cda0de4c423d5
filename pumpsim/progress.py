"""Progress bars for long jobs on the command line (rich, on stderr, terminals only).

The library stays silent: long functions take a ``progress`` callback, and the
command line passes :func:`bar`'s. Nothing is drawn when stderr is not a
terminal (a pipe, a file, a test), so output that is read by programs stays clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["bar"]


@contextmanager
def bar(description: str, total: int | None) -> Iterator[Callable[..., None]]:
    """A progress bar of ``total`` steps (a spinner when None); yields ``advance(*_)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as progress:  # fmt: skip
        task = progress.add_task(description, total=total)

        def advance(*_: Any) -> None:
            progress.advance(task)

        yield advance
