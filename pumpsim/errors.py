"""Exceptions that pumpsim raises at its boundary.

Every error a user can cause by what they wrote carries the file, the field
path and what is allowed, so the command line can print it on one line.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PumpsimError", "ScenarioError", "UnitError", "NotSupportedError", "Problem"]


class PumpsimError(Exception):
    """Base class of every error pumpsim raises on purpose."""


class UnitError(PumpsimError, ValueError):
    """A quantity string that cannot be read, or has the wrong dimension."""


class NotSupportedError(PumpsimError):
    """A scenario asks for something this version validates but cannot run yet."""


class Problem:
    """One problem in a scenario: where it is and what is allowed there."""

    __slots__ = ("path", "message")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.message!r})"


class ScenarioError(PumpsimError):
    """A scenario that is not valid, with one or more located problems.

    ``str(error)`` is one line per problem: ``file: field.path: message``.
    (Not a ValueError on purpose: pydantic lets it through validators unchanged.)
    """

    def __init__(self, problems: Sequence[Problem], source: str = "<scenario>") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self.lines()[0] if self.problems else source)

    def lines(self) -> list[str]:
        return [
            f"{self.source}: {p.path}: {p.message}" if p.path else f"{self.source}: {p.message}"
            for p in self.problems
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())
