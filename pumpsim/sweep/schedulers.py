"""Where sweep tasks run: in this process, or on a Dask distributed cluster.

=====================  ===================================================================
``scheduler``          what runs the tasks
=====================  ===================================================================
``"synchronous"``      this process, one point after another (no Dask needed)
``"local"``            a :class:`distributed.LocalCluster` of worker *processes* on
                       127.0.0.1 (``workers`` of them, one thread each), shut down after
``"processes"``        the same as ``"local"``
``"threads"``          a LocalCluster of threads in this process (``processes=False``)
``"tcp://HOST:PORT"``  an existing Dask scheduler (e.g. started by dask-jobqueue or the
                       Dask Kubernetes operator); the cluster is left running
a ``Client``           an existing :class:`distributed.Client`, left open
=====================  ===================================================================

Results come back with :func:`distributed.as_completed`, in whatever order the workers
finish; the client writes each one as it arrives and advances the progress bar. Nothing
about a result depends on where or when it ran (seeds are per point).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Task", "execute", "SCHEDULERS", "progress_bar"]

SCHEDULERS = ("synchronous", "local", "processes", "threads")


@dataclass(frozen=True)
class Task:
    """One point to run: ``fn(*args)`` returns its table."""

    index: int
    fn: Callable[..., Any]
    args: tuple[Any, ...]


def check_scheduler(scheduler: Any) -> None:
    """Raise ValueError naming the allowed schedulers when ``scheduler`` is not one."""
    if isinstance(scheduler, str) and (scheduler in SCHEDULERS or "://" in scheduler):
        return
    if type(scheduler).__name__ == "Client":
        return
    allowed = f"{', '.join(SCHEDULERS)}, tcp://HOST:PORT or a distributed.Client"
    raise ValueError(f"scheduler {scheduler!r} is not allowed; allowed: {allowed}")


@contextlib.contextmanager
def _client(scheduler: Any, workers: int | None, n_tasks: int) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the extra is missing
        raise ImportError(
            f"scheduler {scheduler!r} needs Dask: pip install 'pumpsim[dask]' "
            "(or use scheduler='synchronous')"
        ) from None
    if not isinstance(scheduler, str):  # a Client the caller owns
        yield scheduler
        return
    if "://" in scheduler:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or max(1, min(os.cpu_count() or 1, n_tasks))
    threads = scheduler == "threads"  # in this process: Dask's in-process transport
    where = {"protocol": "inproc"} if threads else {"host": "127.0.0.1", "protocol": "tcp"}
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=not threads,
                           dashboard_address=None, silence_logs=40, **where)  # fmt: skip
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def execute(
    tasks: Sequence[Task],
    scheduler: Any,
    on_result: Callable[[Task, Any], None],
    workers: int | None = None,
    progress: bool = False,
    label: str = "sweep",
) -> None:
    """Run every task and hand each result to ``on_result`` as it arrives.

    A task that fails stops the sweep (the remaining tasks are cancelled) and its
    exception is raised; results already handed over stay written.
    """
    check_scheduler(scheduler)
    with progress_bar(len(tasks), label, progress) as advance:
        if scheduler == "synchronous":
            for task in tasks:
                on_result(task, task.fn(*task.args))
                advance()
            return
        if not tasks:
            return
        from distributed import as_completed

        with _client(scheduler, workers, len(tasks)) as client:
            futures = {client.submit(t.fn, *t.args, pure=False): t for t in tasks}
            try:
                for future in as_completed(futures):
                    on_result(futures[future], future.result())
                    advance()
            finally:
                client.cancel([f for f in futures if not f.done()])


@contextlib.contextmanager
def progress_bar(total: int, label: str, show: bool) -> Iterator[Callable[[], None]]:
    """A rich progress bar (points done of total, points/min, time left); a no-op if not
    ``show``."""
    if not show:
        yield lambda: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            elapsed = task.elapsed or 0.0
            if not task.completed or elapsed <= 0:
                return Text("- /min")
            return Text(f"{task.completed / elapsed * 60:.1f}/min")

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("points"), Rate(), TimeElapsedColumn(), TextColumn("left"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
