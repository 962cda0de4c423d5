"""Start-up stays light: the command line and ``import pumpsim`` load heavy libraries
only when a command needs them (a behavioural check of sys.modules in a fresh process,
not a timing; the timings are in benchmarks/bench_all.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "scipy", "pandas", "pint", "matplotlib", "simpy", "pydantic", "rich")

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(sys.modules)))
"""


def _modules(code: str) -> list[str]:
    """Every module loaded by ``code`` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code)], capture_output=True,
                         text=True, cwd=ROOT, check=True, timeout=120)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loaded(code: str) -> set[str]:
    """Top-level heavy packages loaded by ``code`` in a fresh interpreter."""
    return {m.split(".")[0] for m in _modules(code)} & set(HEAVY)


def test_import_pumpsim_and_cli_load_nothing_heavy() -> None:
    assert _loaded("import pumpsim, pumpsim.cli") == set()


def test_version_loads_nothing_heavy() -> None:
    code = ("import pumpsim.cli\n"
            "try:\n    pumpsim.cli.main(['--version'])\nexcept SystemExit:\n    pass")  # fmt: skip
    assert _loaded(code) == set()


def test_validate_loads_no_solver_plotting_tables_or_engine() -> None:
    code = ("import pumpsim.cli\n"
            "pumpsim.cli.main(['validate', 'scenarios/propofol_rate_change.yaml'])")
    modules = _modules(code)
    loaded = {m.split(".")[0] for m in modules}
    assert "pydantic" in loaded  # it did validate
    assert not loaded & {"pandas", "matplotlib", "simpy", "pint"}
    # scipy.linalg, .integrate and .signal stay unloaded (pint, if ever loaded, probes scipy)
    assert not any(m.startswith(("scipy.linalg", "scipy.integrate", "scipy.signal"))
                   for m in modules)  # fmt: skip


def test_lazy_facade_still_gives_the_library() -> None:
    code = ("import pumpsim\nassert callable(pumpsim.simulate)\n"
            "assert pumpsim.Scenario.__name__ == 'Scenario'\n"
            "from pumpsim.pk import ExactSolver\nfrom pumpsim.engine import Result\n"
            "assert 'simulate' in dir(pumpsim)")  # fmt: skip
    assert {"numpy", "simpy", "pandas"} <= _loaded(code)
