"""Reading scenario files (YAML or TOML) and dicts into a validated Scenario.

Errors become a :class:`~pumpsim.errors.ScenarioError` with one located
problem per line: the file, the field path (``pumps[0].program[1].rate``) and
what is allowed there.
"""

from __future__ import annotations

import difflib
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pumpsim.errors import Problem, ScenarioError, UnitError
from pumpsim.scenario.checks import check_scenario, default_duration
from pumpsim.scenario.programming import anchor_paths
from pumpsim.scenario.schema import Scenario
from pumpsim.scenario.variants import apply_variant

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["load_scenario", "read_file", "dump_scenario"]


def read_file(path: str | Path) -> dict[str, Any]:
    """The raw mapping in a YAML (.yaml, .yml) or TOML (.toml) scenario file."""
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise ScenarioError([Problem("", "no such file")], label)
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            raise ScenarioError(
                [Problem("", f"unknown file type {suffix!r}; allowed: .yaml, .yml, .toml")], label
            )
    except ScenarioError:
        raise
    except Exception as exc:  # yaml.YAMLError, tomllib.TOMLDecodeError
        first = str(exc).strip().splitlines()
        where = " ".join(line.strip() for line in first[:3])
        raise ScenarioError(
            [Problem("", f"not valid {suffix[1:].upper()}: {where}")], label
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem("", "must be a mapping of keys (name, pumps, ...)")], label)
    return data


def load_scenario(
    source: str | Path | Mapping[str, Any] | Scenario, variant: str | None = None
) -> Scenario:
    """Load and fully validate a scenario from a file path, a mapping or a Scenario.

    Parameters
    ----------
    source : str, pathlib.Path, mapping or Scenario
        A YAML (``.yaml``/``.yml``) or TOML (``.toml``) file, a mapping with the
        same content, or an already built :class:`~pumpsim.scenario.schema.Scenario`.
        Quantities are strings with units (``"2 mL/h"``, ``"30 min"``); they are
        read once into canonical units (s, mL, mg or IU, mmHg; see ``docs/design.md``).
    variant : str, optional
        Name of a variant declared under ``variants:``, applied before validation.

    Returns
    -------
    Scenario
        Validated and frozen, with its ``duration`` [s] resolved (the default is
        the last scheduled time plus one hour). Every variant a scenario declares
        is validated along with it.

    Raises
    ------
    ScenarioError
        With one located problem per line (file, field path, what is allowed).

    See Also
    --------
    pumpsim.simulate : run the scenario.
    pumpsim.scenario_json_schema : the JSON Schema of scenario files.

    References
    ----------
    The schema and its units: ``docs/design.md`` ("Pinned public interfaces").
    """
    if isinstance(source, Scenario) and variant is None:
        # already validated field by field when it was built: only the cross-field checks
        problems = check_scenario(source)
        if problems:
            raise ScenarioError(problems, "<scenario>")
        if source.duration is None:
            return source.model_copy(update={"duration": default_duration(source)})
        return source
    data, label = _raw(source)
    if variant is not None:
        data = apply_variant(data, variant, label)
    return _validate(data, label)


def _validate(data: dict[str, Any], label: str) -> Scenario:
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc), label) from None
    problems = check_scenario(sc)
    for name in sc.variants:
        try:
            _validate(apply_variant(data, name, label), label)
        except ScenarioError as exc:
            problems += [Problem(f"variants.{name} -> {p.path}", p.message) for p in exc.problems]
    if problems:
        raise ScenarioError(problems, label)
    if sc.duration is None:
        sc = sc.model_copy(update={"duration": default_duration(sc)})
    return sc


def _raw(source: str | Path | Mapping[str, Any] | Scenario) -> tuple[dict[str, Any], str]:
    if isinstance(source, Scenario):
        return source.model_dump(mode="json", exclude_none=True), "<scenario>"
    if isinstance(source, Mapping):
        return dict(source), "<dict>"
    return anchor_paths(read_file(source), Path(source).parent), str(source)


def dump_scenario(sc: Scenario) -> str:
    """The scenario as YAML with every quantity written with its unit."""
    import yaml

    return yaml.safe_dump(sc.model_dump(mode="json", exclude_none=True), sort_keys=False)


# -- turning pydantic errors into located one-line problems -----------------------


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """BaseModel classes inside an annotation (Optional, list, Annotated, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += _models_in(arg)
    return out


def _walk(loc: tuple[Any, ...]) -> tuple[str, type[BaseModel] | None]:
    """Field path text and the model class the last location element lives in."""
    model: type[BaseModel] | None = Scenario
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            parts.append(f"[{item}]")
            continue
        if model is None:
            parts.append(f".{item}")
            continue
        field = model.model_fields.get(item)
        if field is None:
            # a discriminated-union tag (e.g. "bolus") or an unknown key
            candidates = [m for m in _union_members(model, loc[:i]) if _tag(m) == item]
            if candidates:
                model = candidates[0]
                continue
            parts.append(f".{item}")
            model = model if i == len(loc) - 1 else None
            continue
        parts.append(f".{item}")
        if i < len(loc) - 1:
            inner = _models_in(field.annotation)
            model = inner[0] if len(inner) == 1 else (_Union(inner) if inner else None)  # type: ignore[assignment]
    return "".join(parts).lstrip("."), model if not isinstance(model, _Union) else None


class _Union(list):  # marker: several candidate models (a tagged union)
    model_fields: dict[str, Any] = {}


def _union_members(model: Any, _loc: tuple[Any, ...]) -> list[type[BaseModel]]:
    return list(model) if isinstance(model, _Union) else []


def _tag(model: type[BaseModel]) -> str | None:
    for key in ("type", "mode"):  # events by ``type``, program steps by ``mode``
        field = model.model_fields.get(key)
        if field is not None:
            args = typing.get_args(field.annotation)
            return args[0] if args else None
    return None


def _problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            path, model = _walk(loc)
            key = str(loc[-1])
            if model is not None:
                allowed = [f for f in model.model_fields if f != "type"]
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                msg = f"unknown key {key!r}{hint}; allowed: {', '.join(allowed)}"
            else:
                msg = f"unknown key {key!r}"
            problems.append(Problem(path, msg))
            continue
        path, _ = _walk(loc)
        msg = err["msg"]
        ctx = err.get("ctx") or {}
        if kind == "value_error" and isinstance(ctx.get("error"), UnitError | ValueError):
            msg = str(ctx["error"])
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        elif kind == "literal_error":
            msg = f"{err.get('input')!r} is not allowed; allowed: {ctx.get('expected', '')}"
        elif kind == "union_tag_invalid":
            key = "mode" if "mode" in str(ctx.get("discriminator", "")) else "type"
            msg = f"unknown {key} {ctx.get('tag')!r}; allowed: {ctx.get('expected_tags', '')}"
        elif kind == "missing":
            msg = "required"
        problems.append(Problem(path, msg))
    return problems


_ = types  # keep the import for typing.get_args on new-style unions
