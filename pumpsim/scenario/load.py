"""Reading scenario files (YAML or TOML) and dicts into a validated Scenario.

Errors become a :class:`~pumpsim.errors.ScenarioError` with one located
problem per line: the file, the field path (``pumps[0].program[1].rate``) and
what is allowed there.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pumpsim.errors import Problem, ScenarioError, UnitError
from pumpsim.scenario.checks import Limits, check_scenario, check_size, default_duration
from pumpsim.scenario.schema import Scenario
from pumpsim.scenario.variants import apply_variant

__all__ = ["load_scenario", "read_file", "dump_scenario", "Limits"]

#: the file suffixes pumpsim reads, and how
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}


def read_file(path: str | Path) -> dict[str, Any]:
    """The raw mapping in a YAML (.yaml, .yml) or TOML (.toml) scenario file.

    The file is read as data only and within bounds (:mod:`pumpsim.safeyaml`):
    at most 1 MB, no duplicate keys, a bounded number of YAML aliases, finite
    numbers only.
    """
    from pumpsim.safeyaml import ReadError, load_text, read_bytes

    path = Path(path)
    label = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix not in SUFFIXES:
            if not path.exists():
                raise ReadError("", "no such file")
            raise ReadError("", f"unknown file type {suffix!r}; allowed: .yaml, .yml, .toml")
        data = load_text(read_bytes(path), SUFFIXES[suffix])
    except ReadError as exc:
        raise ScenarioError([Problem(exc.path, exc.message)], label) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem("", "must be a mapping of keys (name, pumps, ...)")], label)
    return data


class _Policy:
    """What a loaded scenario may do beyond data: run a controller, open files elsewhere."""

    def __init__(self, folder: Path, allow_controller: bool,
                 allow_paths: Sequence[str | Path]) -> None:  # fmt: skip
        self.folder = folder
        self.allow_controller = allow_controller
        self.roots = [folder.resolve(), *(Path(p).resolve() for p in allow_paths)]

    def apply(self, data: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        """``data`` with file paths anchored to the scenario's folder; what it may not do."""
        out = dict(data)
        problems: list[Problem] = []
        lib = out.get("drug_library")
        if isinstance(lib, str) and lib != "builtin":
            path = self.folder / lib  # an absolute path stays itself
            if not any(path.resolve().is_relative_to(root) for root in self.roots):
                problems.append(Problem("drug_library", f"{lib!r} is outside the scenario's "
                                        f"folder {self.folder}: a scenario file opens files in "
                                        "its own folder only; allow another folder with "
                                        "--allow-path DIR (Python: allow_paths=[DIR])"))
            out["drug_library"] = str(path)
        ctl = out.get("controller")
        if isinstance(ctl, str):
            from pumpsim.pump.controller import BUILTIN_CONTROLLERS

            if ctl in BUILTIN_CONTROLLERS or ctl in BUILTIN_CONTROLLERS.values():
                return out, problems
            if not self.allow_controller:
                problems.append(Problem("controller", f"{ctl!r} is code: a scenario file runs "
                                        "no code unless you allow it; run with "
                                        "--allow-controller, or name a controller with "
                                        "--controller (Python: allow_controller=True)"))
            elif ".py:" in ctl:
                file, _, name = ctl.rpartition(":")
                if not Path(file).is_absolute() and (self.folder / file).is_file():
                    out["controller"] = f"{self.folder / file}:{name}"
        return out, problems


def load_scenario(
    source: str | Path | Mapping[str, Any] | Scenario,
    variant: str | None = None,
    *,
    allow_controller: bool = False,
    allow_paths: Sequence[str | Path] = (),
    limits: Limits | None = None,
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

    Loading never runs code and never opens a file outside the scenario's
    folder (the working directory for a mapping) unless allowed:

    Parameters
    ----------
    allow_controller : bool
        Allow a ``controller`` the file (or one of its variants) names as
        ``package.module:Class`` or ``file.py:Class`` to be imported and run
        (pumpsim's own controllers are always allowed). Default: refused.
    allow_paths : sequence of folders
        Folders besides the scenario's own from which ``drug_library`` may be read.
    limits : Limits, optional
        Bounds on the output rows and simulated events a run may produce
        (default :class:`~pumpsim.scenario.checks.Limits`).

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
    limits = limits or Limits()
    if isinstance(source, Scenario) and variant is None:
        # already validated field by field when it was built: only the cross-field checks
        problems = check_scenario(source)
        problems += check_size(source, limits) if not problems else []
        if problems:
            raise ScenarioError(problems, "<scenario>")
        if source.duration is None:
            return source.model_copy(update={"duration": default_duration(source)})
        return source
    data, label, folder = _source(source)
    trusted = isinstance(source, Scenario)  # built in Python, not read from a file
    policy = None if trusted else _Policy(folder, allow_controller, allow_paths)
    if variant is not None:
        data = apply_variant(data, variant, label)
    return _validate(data, label, policy, limits)


def _validate(
    data: dict[str, Any], label: str, policy: _Policy | None, limits: Limits
) -> Scenario:
    problems: list[Problem] = []
    if policy is not None:
        data, problems = policy.apply(data)
        if problems:  # said before anything is opened or checked further
            raise ScenarioError(problems, label)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems + _problems(exc), label) from None
    problems += check_scenario(sc)
    seen = {(p.path, p.message) for p in problems}
    for name in sc.variants:
        try:
            _validate(apply_variant(data, name, label), label, policy, limits)
        except ScenarioError as exc:  # the base's own problems are said once
            problems += [Problem(f"variants.{name} -> {p.path}", p.message) for p in exc.problems
                         if (p.path, p.message) not in seen]  # fmt: skip
    if not problems:
        problems = check_size(sc, limits)  # only meaningful for an otherwise valid scenario
    if problems:
        raise ScenarioError(problems, label)
    if sc.duration is None:
        sc = sc.model_copy(update={"duration": default_duration(sc)})
    return sc


def _source(source: str | Path | Mapping[str, Any] | Scenario) -> tuple[dict[str, Any], str, Path]:
    """The raw mapping, its label and the folder its relative paths are read from."""
    if isinstance(source, Scenario):
        return source.model_dump(mode="json", exclude_none=True), "<scenario>", Path.cwd()
    if isinstance(source, Mapping):
        from pumpsim.safeyaml import ReadError, check_values

        data = dict(source)
        try:
            check_values(data)
        except ReadError as exc:
            raise ScenarioError([Problem(exc.path, exc.message)], "<dict>") from None
        return data, "<dict>", Path.cwd()
    return read_file(source), str(source), Path(source).parent


def _raw(source: str | Path | Mapping[str, Any] | Scenario) -> tuple[dict[str, Any], str]:
    data, label, _folder = _source(source)
    return data, label


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
