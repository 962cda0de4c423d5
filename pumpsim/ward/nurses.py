"""The ward's nurses as a SimPy resource that grants nurses by the alarm-response policy.

:class:`NursePool` is a :class:`simpy.resources.base.BaseResource`, like SimPy's own
``Store``: a call asks for a nurse with ``yield pool.request(call)`` and gives her back
with ``pool.release(nurse)``. What SimPy's ``Resource``/``PriorityResource`` cannot do is
choose by *distance*, so the pool overrides the one step that grants requests: whenever
a nurse is free and calls wait, it grants **the waiting call of highest priority, then the
one nearest to a free nurse, then the oldest**, and gives it **the nearest free nurse**.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy
from simpy.core import BoundClass
from simpy.resources import base

__all__ = ["Nurse", "NursePool", "PRIORITY_RANK"]

PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass
class Nurse:
    """One nurse: where she is [m] and what she has done."""

    index: int
    position: float
    busy_time: float = 0.0
    walked: float = 0.0


class NurseRequest(base.Get):
    """A call asking for a nurse; its value, once granted, is the :class:`Nurse`."""

    def __init__(self, pool: NursePool, call: Any) -> None:
        self.call = call  # with .priority, .bed, .time, .seq
        super().__init__(pool)


class NurseRelease(base.Put):
    """A nurse back in the pool (at the bed where she finished)."""

    def __init__(self, pool: NursePool, nurse: Nurse) -> None:
        self.nurse = nurse
        super().__init__(pool)


class NursePool(base.BaseResource):
    """The nurses of a ward (see the module docstring).

    Parameters
    ----------
    env : simpy.Environment
    nurses : list of Nurse
        All free at the start.
    bed_pos : list of float
        Position of each bed along the corridor [m].
    """

    def __init__(self, env: simpy.Environment, nurses: list[Nurse],
                 bed_pos: list[float]) -> None:  # fmt: skip
        super().__init__(env, capacity=len(nurses))
        self.nurses = nurses
        self.free = list(nurses)
        self.bed_pos = bed_pos

    if TYPE_CHECKING:  # pragma: no cover - SimPy's pattern for typed bound events

        def request(self, call: Any) -> NurseRequest: ...  # noqa: D102

        def release(self, nurse: Nurse) -> NurseRelease: ...  # noqa: D102

    else:
        request = BoundClass(NurseRequest)
        release = BoundClass(NurseRelease)

    def _do_put(self, event: NurseRelease) -> bool:  # type: ignore[override]
        self.free.append(event.nurse)
        event.succeed()
        return True

    def _trigger_get(self, put_event: Any) -> None:
        """Grant waiting calls while nurses are free: priority first, nearest first."""
        pos = self.bed_pos
        while self.get_queue and self.free:
            spots = [n.position for n in self.free]
            request = min(self.get_queue, key=lambda r: (  # type: ignore[attr-defined]
                PRIORITY_RANK[r.call.priority], min(abs(x - pos[r.call.bed]) for x in spots),
                r.call.time, r.call.seq))  # fmt: skip
            self.get_queue.remove(request)
            at = pos[request.call.bed]  # type: ignore[attr-defined]
            nurse = min(self.free, key=lambda n: (abs(n.position - at), n.index))
            self.free.remove(nurse)
            request.succeed(nurse)
