"""Reading YAML and TOML that other people wrote: bounded, strict, data only.

A scenario file is shared between users, so reading one must be safe whatever
it holds. :func:`load_text` reads YAML (PyYAML's safe loader: no Python
objects) or TOML and refuses, with one line saying where and what is allowed:

* a file larger than :data:`MAX_FILE_BYTES`;
* a key written twice in one mapping (YAML keeps the last silently; here it
  is an error, as it is in TOML);
* more than :data:`MAX_ALIASES` YAML aliases, nesting deeper than
  :data:`MAX_DEPTH`, or a document whose aliases expand to more than
  :data:`MAX_VALUES` values (the "billion laughs" alias bomb), or that refers
  to itself;
* a number that is not finite (``.nan``, ``.inf`` in YAML, ``nan``, ``inf``
  in TOML): no quantity in pumpsim is infinite or undefined.

Each problem is a :class:`ReadError` carrying the field path (``""`` for the
whole file) and the message.
"""

from __future__ import annotations

import math
import sys
from typing import Any

__all__ = ["ReadError", "load_text", "read_bytes", "MAX_FILE_BYTES", "MAX_ALIASES",
           "MAX_DEPTH", "MAX_VALUES"]  # fmt: skip

#: largest file read [bytes]: the largest scenario pumpsim ships is under 10 kB
MAX_FILE_BYTES = 1_000_000
#: most YAML aliases (``*name``) in one file
MAX_ALIASES = 200
#: deepest nesting of mappings and lists
MAX_DEPTH = 50
#: most values (mappings, lists and scalars) once aliases are expanded
MAX_VALUES = 200_000


class ReadError(Exception):
    """A file that is not safe or not well formed: ``path`` (field path) and ``message``."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def read_bytes(path: Any) -> str:
    """The text of a regular file of at most :data:`MAX_FILE_BYTES` (UTF-8)."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise ReadError("", "no such file")
    if not p.is_file():
        raise ReadError("", "not a regular file (a folder, device or pipe); give a file")
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ReadError("", f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ReadError("", f"larger than {MAX_FILE_BYTES // 1000} kB; a scenario file is "
                        "a few kB of settings (sample data belongs in its own file)")  # fmt: skip
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError("", f"not UTF-8 text (byte {exc.start})") from None


def _loader_class() -> Any:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """SafeLoader that counts aliases and depth and refuses duplicate keys."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.aliases = 0
            self.depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise ReadError("", f"more than {MAX_ALIASES} YAML aliases (*name)")
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    mark = self.peek_event().start_mark
                    raise ReadError("", f"nested deeper than {MAX_DEPTH} levels "
                                    f"(line {mark.line + 1})")  # fmt: skip
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # unhashable: the safe loader says so itself
                line = key_node.start_mark.line + 1
                if first is not None:
                    where = f"lines {first} and {line}" if first != line else f"both on line {line}"
                    raise ReadError(str(key), f"key written twice ({where}); write each key once")
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def _yaml(text: str) -> Any:
    import yaml

    loader = _loader_class()(text)
    try:
        return loader.get_single_data()
    except ReadError:
        raise
    except RecursionError:
        raise ReadError("", f"nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()
        where = " ".join(line.strip() for line in first[:3])
        raise ReadError("", f"not valid YAML: {where}") from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise ReadError("", f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def _toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ReadError("", f"nested deeper than {MAX_DEPTH} levels") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ReadError("", f"not valid TOML: {str(exc).strip().splitlines()[0]}") from None


def load_text(text: str, kind: str) -> Any:
    """The data in ``text`` (``kind`` ``"yaml"`` or ``"toml"``), checked as above."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise ReadError("", f"larger than {MAX_FILE_BYTES // 1000} kB")
    data = _yaml(text) if kind == "yaml" else _toml(text)
    check_values(data)
    return data


def check_values(data: Any) -> None:
    """Refuse self-reference, more than :data:`MAX_VALUES` expanded values, deeper
    nesting than :data:`MAX_DEPTH` and non-finite numbers anywhere in ``data``."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Any, path: str, depth: int) -> int:
        if isinstance(node, float) and not math.isfinite(node):
            raise ReadError(path, f"{node} is not a finite number")
        if not isinstance(node, dict | list | tuple):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ReadError(path, "refers to itself (a YAML alias inside its own anchor)")
        if depth > MAX_DEPTH:
            raise ReadError(path, f"nested deeper than {MAX_DEPTH} levels")
        active.add(key)
        total = 1
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            sub = f"{path}[{k}]" if isinstance(k, int) else (f"{path}.{k}" if path else str(k))
            total += size(v, sub, depth + 1)
            if total > MAX_VALUES:
                raise ReadError("", f"more than {MAX_VALUES} values once its YAML aliases are "
                                "expanded (an alias bomb?)")  # fmt: skip
        active.discard(key)
        sizes[key] = total
        return total

    size(data, "", 0)
