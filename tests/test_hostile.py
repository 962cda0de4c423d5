"""Hostile and absurd scenario files are refused at load time, fast, with one located line.

One file per class of hostile input (written into ``tmp_path``), each driven through
``pumpsim validate`` and ``pumpsim run`` (``pumpsim.cli.main``): exit 1, one line on
stderr naming the file and the field, no traceback, no "internal error", nothing
written. Arithmetic never reaches pint (checked with a spy, not a clock). Then a
bounded hypothesis fuzz of the loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pumpsim.cli import main
from pumpsim.errors import PumpsimError, ScenarioError
from pumpsim.scenario import load_scenario
from pumpsim.scenario.checks import Limits

PATIENT = "patient: {age: 40 y, weight: 70 kg, height: 170 cm, sex: male}\n"
SYRINGE = ("pumps:\n  - {id: A, kind: syringe, syringe: 50 mL, drug: morphine, "
           "concentration: 1 mg/mL, %s program: [{rate: %s}]}\n")  # fmt: skip
PCA = ("duration: %s\npumps: [{id: A, drug: fluid, program: [{mode: pca, demand_dose: 1 mL, "
       "lockout: 6 min}]}]\n")  # fmt: skip


def syringe(rate: str = "2 mL/h", settings: str = "", patient: str = PATIENT) -> str:
    return patient + SYRINGE % (settings, rate)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)

#: class -> (file name, content, expected field path and words on the one line)
HOSTILE: dict[str, tuple[str, str | bytes, str]] = {
    "arithmetic in a quantity": ("s.yaml", syringe("9**9**9 mL/h"),
                                 "pumps[0].program[0].rate: '9**9**9 mL/h': write one number"),
    "arithmetic, long": ("s.yaml", syringe("2 mL/h * " + "9" * 200),
                         "pumps[0].program[0].rate: "),
    "NaN quantity": ("s.yaml", syringe("nan mL/h"), "pumps[0].program[0].rate: 'nan mL/h'"),
    "NaN occlusion limit": ("s.yaml", syringe(settings="settings: {occlusion_limit: NaN mmHg},"),
                            "pumps[0].settings.occlusion_limit: 'NaN mmHg'"),
    "YAML .nan number": ("s.yaml", syringe() + "seed: .nan\n", "seed: nan is not a finite number"),
    "YAML .inf number": ("s.yaml", PATIENT.replace("}", ", vitals: {spo2: .inf}}") + "pumps: []\n",
                         "patient.vitals.spo2: inf is not a finite number"),
    "NaN percentage": ("s.yaml", PATIENT.replace("}", ", vitals: {spo2: nan %}}") + "pumps: []\n",
                       "patient.vitals.spo2: 'nan %': a percentage is a finite number"),
    "infinite quantity": ("s.yaml", syringe("1e999 mL/h"), "the number must be finite"),
    "overflowing quantity": ("s.yaml", "duration: 1e307 day\n" + syringe(),
                             "duration: '1e307 day' is too large"),
    "TOML duplicate key": ("s.toml", 'duration = "1 h"\nduration = "2 h"\n',
                           "not valid TOML: Cannot overwrite a value"),
    "TOML nan": ("s.toml", 'duration = "1 h"\n[output]\ninterval = "10 s"\nplots = nan\n',
                 "output.plots: nan is not a finite number"),
    "negative age": ("s.yaml", syringe(patient=PATIENT.replace("40 y", "-40 y")),
                     "patient.age: must be between 0 and 120 y"),
    "zero weight": ("s.yaml", syringe(patient=PATIENT.replace("70 kg", "0 kg")),
                    "patient.weight: must be between 0.3 and 350 kg"),
    "impossible body": ("s.yaml", syringe(patient=PATIENT.replace("170 cm", "30 cm")),
                        "patient.weight: 70 kg at 30 cm is a body-mass index of 778"),
    "lean mass above weight": ("s.yaml", syringe(patient=PATIENT.replace(
        "male}", "male, lean_body_mass: 200 kg}")),
        "patient.lean_body_mass: 200 kg in a 70 kg patient; allowed: above 0"),
    "zero creatinine": ("s.yaml", syringe(patient=PATIENT.replace(
        "male}", "male, creatinine: 0 mg/dL}")), "patient.creatinine: must be greater than zero"),
    "duplicate key": ("s.yaml", "duration: 1 h\nduration: 2 h\n" + syringe(),
                      "duration: key written twice (lines 1 and 2)"),
    "duplicate nested key": ("s.yaml", syringe(settings="settings: {max_rate: 5 mL/h, "
                                                        "max_rate: 500 mL/h},"),
                             "max_rate: key written twice (both on line 3)"),
    "alias bomb": ("s.yaml", BOMB, "more than 200000 values once its YAML aliases are expanded"),
    "many aliases": ("s.yaml", "a: &a 1\nb: [" + ", ".join(["*a"] * 300) + "]\n",
                     "more than 200 YAML aliases"),
    "self-referencing alias": ("s.yaml", "a: &a [1, *a]\n", "a[1]: refers to itself"),
    "deep nesting": ("s.yaml", "a: " + "[" * 200 + "]" * 200 + "\n", "nested deeper than 50"),
    "huge file": ("s.yaml", "# " + "x" * 1_100_000 + "\n", "larger than 1000 kB"),
    "not UTF-8": ("s.yaml", b"name: \xff\xfe\n", "not UTF-8 text"),
    "huge integer": ("s.yaml", "seed: " + "9" * 5000 + "\n", "not valid YAML"),
    "negative seed": ("s.yaml", "seed: -1\n" + syringe(), "seed: -1 is negative"),
    "negative population seed": ("s.yaml", syringe(patient=PATIENT.replace(
        "male}", "male, population: {n: 10, seed: -5}}")),
        "patient.population.seed: -5 is negative"),
    "output too large": ("s.yaml", "duration: 1000 day\noutput: {interval: 1 ms}\n" + syringe(),
                         "output.interval: the run would record 8.64e+10 rows"),
    "population too large": ("s.yaml", "duration: 7 day\noutput: {interval: 1 s}\n" + syringe(
        patient=PATIENT.replace("male}", "male, population: {n: 100000}}")),
        "output.interval: the run would keep about"),
    "a press every nanosecond": ("s.yaml", PCA % "1 h" + "events: [{at: 0 s, type: pca_press, "
                                 "pump: A, every: 1 ns}]\n",
                                 "events[0].every: the run would simulate about 3.6e+12 events"),
    "a press rate of a billion per second": (
        "s.yaml", PCA % "1 h" + "events: [{type: pca_demand, pump: A, rate: 1e9/s}]\n",
        "events[0].rate: the run would simulate about"),
    "strokes of a femtolitre": ("s.yaml", "duration: 1 h\npumps: [{id: A, kind: volumetric, "
                                "drug: fluid, container: 500 mL, mechanism: {stroke_volume: "
                                "1e-12 mL}, program: [{rate: 100 mL/h}]}]\n",
                                "pumps[0].mechanism.stroke_volume: the run would simulate"),
    "controller in the file": ("s.yaml", "controller: evil.py:X\n" + syringe(),
                               "controller: 'evil.py:X' is code: a scenario file runs no code"),
    "controller in a variant": ("s.yaml", syringe() + "variants: {v: {controller: os:system}}\n",
                                "variants.v -> controller: 'os:system' is code"),
    "library outside the folder": ("s.yaml", "drug_library: /etc/passwd\n" + syringe(),
                                   "drug_library: '/etc/passwd' is outside the scenario's folder"),
    "library up the tree": ("s.yaml", "drug_library: ../../lib.yaml\n" + syringe(),
                            "drug_library: '../../lib.yaml' is outside"),
    "not a mapping": ("s.yaml", "- 1\n- 2\n", "must be a mapping of keys"),
    "unknown suffix": ("s.json", "{}", "unknown file type '.json'"),
}  # fmt: skip


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_each_hostile_class_is_refused_in_one_line(tmp_path, capsys, case) -> None:
    name, content, expected = HOSTILE[case]
    path = write(tmp_path, name, content)
    out = tmp_path / "out"
    for argv in (["validate", str(path)], ["run", str(path), "--out", str(out), "--no-plots"]):
        code = main(argv)
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code == 1, (case, err)
        assert len(lines) == 1, (case, lines)
        assert lines[0].startswith(str(path)) and expected in lines[0], lines[0]
        assert "internal error" not in err and "Traceback" not in err
        assert not out.exists() and not list(tmp_path.glob(".pumpsim-*"))


def test_only_a_checked_unit_reaches_pint(monkeypatch) -> None:
    """``9**9**9 mL/h`` would make pint evaluate a number with 10^8 digits: the grammar
    refuses it before pint is called; a good quantity hands pint its unit alone."""
    from pumpsim import units

    real = units._registry()
    calls: list[tuple] = []

    class Spy:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(real, name)

        def __call__(self, *args):  # type: ignore[no-untyped-def]
            return real(*args)

        def Quantity(self, *args):  # type: ignore[no-untyped-def]  # noqa: N802
            calls.append(args)
            return real.Quantity(*args)

    monkeypatch.setattr(units, "_registry", lambda: Spy())
    units._parse_cached.cache_clear()
    try:
        for text in ("9**9**9 mL/h", "2**1000 mL/h", "2 mL/h * 10**10", "(2+3) mL/h",
                     "2 mL/h; import os", "2 mL/h\n3"):  # fmt: skip
            with pytest.raises(PumpsimError, match="write one number and a unit|start with"):
                units.parse(text, "flow")
        assert calls == []
        # the common spellings are read without pint (units.py's fast path) ...
        assert units.parse("7.2 mL/h", "flow") == pytest.approx(0.002)  # 7.2 / 3600 mL/s
        assert calls == []
        # ... any other unit reaches pint as the unit alone, the number read by float
        assert units.parse("7.2 mL/(h)", "flow") == pytest.approx(0.002)
        assert calls == [(7.2, "mL/(h)")]
    finally:
        units._parse_cached.cache_clear()


def test_not_a_regular_file_and_no_file(tmp_path, capsys) -> None:
    (tmp_path / "d.yaml").mkdir()
    for path, expected in ((tmp_path / "d.yaml", "not a regular file"),
                           (tmp_path / "none.yaml", "no such file")):  # fmt: skip
        assert main(["validate", str(path)]) == 1
        assert capsys.readouterr().err.strip() == f"{path}: {expected}" + (
            " (a folder, device or pipe); give a file" if "regular" in expected else "")


def test_limits_are_the_users_to_raise(tmp_path, capsys) -> None:
    """The output and event limits are estimates a user may raise, on the command line
    and in Python; a run within them goes ahead."""
    path = write(tmp_path, "s.yaml", PCA % "1 h" + "events: [{at: 0 s, type: pca_press, "
                 "pump: A, every: 1 s}]\noutput: {interval: 1 s}\n")  # fmt: skip
    assert main(["validate", str(path)]) == 0  # 3601 presses, 3601 rows: within the defaults
    assert main(["validate", str(path), "--max-events", "1000"]) == 1
    assert "raise the limit (pumpsim run --max-events N" in capsys.readouterr().err
    assert main(["validate", str(path), "--max-output-rows", "100"]) == 1
    assert "output.interval: the run would record 3.6e+03 rows" in capsys.readouterr().err
    with pytest.raises(ScenarioError, match="events"):
        load_scenario(path, limits=Limits(max_events=10))
    assert load_scenario(path, limits=Limits(max_events=5000)).duration == 3600.0
    assert main(["validate", str(path), "--max-events", "0"]) == 1
    assert capsys.readouterr().err.strip() == "--max-events: 0; allowed: 1 or more"


def test_negative_seed_on_the_command_line(tmp_path, capsys) -> None:
    path = write(tmp_path, "s.yaml", syringe())
    assert main(["run", str(path), "--seed", "-3", "--out", str(tmp_path / "o")]) == 1
    assert capsys.readouterr().err.strip() == "--seed: -3 is negative; a seed is 0 or more"
    assert not (tmp_path / "o").exists()


def test_python_api_refuses_the_same() -> None:
    """A mapping built in Python gets the same checks (finite, bounds, no code)."""
    base = {"pumps": [{"id": "A", "drug": "fluid", "program": [{"rate": "2 mL/h"}]}]}
    with pytest.raises(ScenarioError, match="seed: nan is not a finite number"):
        load_scenario({**base, "seed": float("nan")})
    with pytest.raises(ScenarioError, match="is code"):
        load_scenario({**base, "controller": "os:system"})
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(ScenarioError, match="refers to itself"):
        load_scenario({**base, "description": loop})


# -- fuzzing: whatever the text, a clean refusal or a scenario; never a crash or a hang ------

KEYS = ["name", "duration", "seed", "output", "interval", "patient", "age", "weight", "height",
        "sex", "pumps", "id", "drug", "program", "rate", "events", "at", "type", "every",
        "controller", "drug_library", "variants", "lean_body_mass", "population", "n"]  # fmt: skip
UNITS = ["mL/h", "h", "s", "min", "kg", "cm", "y", "mg/kg", "mmHg", "mL", "1/s", "ns", "",
         "**9", "/(mL/h)", "e999 mL"]  # fmt: skip
numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from(["nan", "inf", "-inf", "1e308", "9**9**9", ".5", "-0"]))
quantities = st.builds(lambda n, u: f"{n} {u}", numbers, st.sampled_from(UNITS))
scalars = st.one_of(numbers, quantities, st.booleans(), st.none(),
                    st.text(max_size=20), st.sampled_from(["fluid", "morphine", "iv", "male"]))
values = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.sampled_from(KEYS), kids, max_size=5)),
    max_leaves=25)  # fmt: skip
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


def _refused_cleanly(call) -> None:  # type: ignore[no-untyped-def]
    try:
        call()
    except PumpsimError as exc:  # ScenarioError, UnitError: one located line each
        assert str(exc).strip()
        assert "Traceback" not in str(exc)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)  # fmt: skip
@given(documents)
def test_fuzz_mappings_load_or_refuse_cleanly(data) -> None:
    _refused_cleanly(lambda: load_scenario(data))


@settings(max_examples=60, deadline=2000, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>,.#'\"\n 9eE%+/")), max_size=120))
def test_fuzz_yaml_text_loads_or_refuses_cleanly(tmp_path, text) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    _refused_cleanly(lambda: load_scenario(path))


@settings(max_examples=150, deadline=1000, derandomize=True)
@given(st.one_of(quantities, st.text(max_size=40)), st.sampled_from(
    ["time", "volume", "flow", "pressure", "weight", "frequency", "resistance"]))
def test_fuzz_quantities_parse_to_finite_or_refuse(text, kind) -> None:
    import math

    from pumpsim.units import parse

    try:
        value = parse(text, kind)
    except PumpsimError:
        return
    assert math.isfinite(value)


def test_a_conformance_suite_stays_in_its_folder(tmp_path) -> None:
    from pumpsim.verify import suite

    (tmp_path / "suite.yaml").write_text("scenarios: [{file: ../../etc/passwd}]\n")
    with pytest.raises(ScenarioError, match=r"scenarios\[0\].file: '../../etc/passwd' is outside"):
        suite(tmp_path)
    (tmp_path / "suite.yaml").write_text("scenarios: [{file: a.yaml}, {file: a.yaml}]\n"
                                         "scenarios: []\n")  # fmt: skip
    with pytest.raises(ScenarioError, match="scenarios: key written twice"):
        suite(tmp_path)
