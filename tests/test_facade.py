"""The public facade: one ``pumpsim.*`` surface, resolved lazily.

``import pumpsim`` must stay light (no SimPy, SciPy, pandas, matplotlib, pint, pydantic),
every name in ``pumpsim.__all__`` must resolve to the object its module defines, and the
README and notebooks must import from ``pumpsim`` only.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import pumpsim

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("simpy", "scipy", "pandas", "matplotlib", "pint", "pydantic", "numpy")


def test_import_pumpsim_loads_no_heavy_package() -> None:
    code = ("import sys, pumpsim; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()  # fmt: skip
    assert out == "[]"


@pytest.mark.parametrize("name", pumpsim.__all__)
def test_every_public_name_resolves_to_its_definition(name: str) -> None:
    value = getattr(pumpsim, name)
    target = pumpsim._LAZY.get(name)
    if target is not None:
        module, _, attr = target.partition(":")
        defined = getattr(importlib.import_module(module), attr or name)
        if isinstance(value, types.ModuleType):
            # pumpsim.sweep is also a package: once imported, the package takes the name,
            # and it is callable and delegates to the function
            assert callable(value) and getattr(value, name) is defined
        else:
            assert value is defined
    assert name in dir(pumpsim)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        pumpsim.simulat  # noqa: B018


def _code_of_readme() -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S))


def _code_of_notebooks() -> str:
    out = []
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        out += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return "\n".join(out)


@pytest.mark.parametrize("where", ["README", "notebooks"])
def test_users_import_from_the_facade(where: str) -> None:
    code = _code_of_readme() if where == "README" else _code_of_notebooks()
    assert "pumpsim" in code
    deep = re.findall(r"^\s*(?:from|import) (pumpsim\.[\w.]+)", code, re.M)
    assert not deep, deep
    used = set(re.findall(r"\bpumpsim\.([A-Za-z_]\w*)", code)) | {
        n.strip() for m in re.findall(r"from pumpsim import ([^\n]+)", code) for n in m.split(",")
    }
    assert used <= set(pumpsim.__all__), used - set(pumpsim.__all__)


def test_all_lists_every_lazy_name_once() -> None:
    assert len(pumpsim.__all__) == len(set(pumpsim.__all__))
    assert set(pumpsim._LAZY) <= set(pumpsim.__all__)


def test_no_public_name_is_also_a_submodule() -> None:
    """``import pumpsim.verify`` would replace a function called ``pumpsim.verify``."""
    import pkgutil

    submodules = {m.name for m in pkgutil.iter_modules(pumpsim.__path__)}
    for name in submodules & set(pumpsim.__all__):  # allowed only as a callable package
        module = importlib.import_module(f"pumpsim.{name}")
        assert callable(module), f"pumpsim.{name} is a public name and a plain submodule"
    importlib.import_module("pumpsim.verify")  # the submodule loaded: the name still works
    assert callable(pumpsim.verify_controller)
