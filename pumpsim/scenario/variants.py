"""Named variants of a scenario: "what if" without copying files.

A scenario may carry ``variants``, each a mapping of field paths to new
values::

    variants:
      high_rate: {pumps[0].program[0].rate: 40 mL/h}
      sc:        {events[0].route: sc}

``pumpsim run file.yaml --variant high_rate`` runs the scenario with those
fields replaced; ``--compare`` runs the base and every variant and overlays
them. Overrides apply to the raw file content before validation, so a
variant is validated exactly like a scenario written out in full.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pumpsim.errors import Problem, ScenarioError

__all__ = ["apply_variant", "variant_names"]

_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")
_PATH = re.compile(r"[A-Za-z_]\w*(\[\d+\])*(\.[A-Za-z_]\w*(\[\d+\])*)*")


def _split(path: str) -> list[str | int]:
    """``"pumps[0].program[1].rate"`` -> ``["pumps", 0, "program", 1, "rate"]``."""
    if not _PATH.fullmatch(path):
        raise ValueError(f"bad field path {path!r}; write e.g. 'pumps[0].program[0].rate'")
    return [m.group(1) if m.group(1) is not None else int(m.group(2))
            for m in _PART.finditer(path)]  # fmt: skip


def variant_names(raw: dict[str, Any]) -> list[str]:
    """The variant names a raw scenario mapping declares."""
    variants = raw.get("variants") or {}
    return list(variants) if isinstance(variants, dict) else []


def apply_variant(raw: dict[str, Any], name: str, label: str = "<scenario>") -> dict[str, Any]:
    """A copy of the raw scenario mapping with variant ``name`` applied.

    The copy has no ``variants`` (it is one concrete scenario), and its name
    says which variant it is.
    """
    variants = raw.get("variants") or {}
    if name not in variants:
        allowed = ", ".join(variants) or "none (the scenario declares no variants)"
        raise ScenarioError([Problem("variants", f"no variant {name!r}; allowed: {allowed}")],
                            label)  # fmt: skip
    data = copy.deepcopy({k: v for k, v in raw.items() if k not in ("variants", "compare")})
    overrides = variants[name]
    if not isinstance(overrides, dict):
        raise ScenarioError(
            [Problem(f"variants.{name}", "must map field paths to values")], label
        )
    for path, value in overrides.items():
        where = f"variants.{name}.{path}"
        try:
            parts = _split(str(path))
        except ValueError as exc:
            raise ScenarioError([Problem(where, str(exc))], label) from None
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                shown = ".".join(str(p) for p in parts[: i + 1])
                raise ScenarioError(
                    [Problem(where, f"the scenario has no field {shown!r} to override")], label
                ) from None
        last = parts[-1]
        if isinstance(node, list):
            if not isinstance(last, int) or last >= len(node):
                raise ScenarioError([Problem(where, "no such list item to override")], label)
        elif not isinstance(node, dict):
            raise ScenarioError([Problem(where, "cannot override inside a value")], label)
        node[last] = value
    data["name"] = f"{raw.get('name', 'unnamed scenario')} [{name}]"
    return data
