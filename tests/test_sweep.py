"""Sweeps: grid parsing, refusal of bad points, Parquet results, resume, determinism.

Expected numbers are closed forms: an ideal pump at rate r for time T infuses r*T; a
target range containing every concentration gives time in range = the duration.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import threading

import numpy as np
import pytest

from pumpsim.cli import main
from pumpsim.errors import ScenarioError
from pumpsim.sweep import Grid, parse_axis, sweep
from pumpsim.sweep.grid import REPLICATE
from pumpsim.sweep.store import ManifestMismatch, SweepStore
from tests.conftest import ROOT

pytest.importorskip("pyarrow", reason="the sweep's Parquet results need the dask extra "
                    "(pip install 'pumpsim[dask]')")  # fmt: skip

SCENARIO = {
    "name": "morphine by ideal pump",
    "duration": "2 h",
    "output": {"interval": "5 min", "plots": False},
    "patient": {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"},
    "pumps": [{"id": "A", "kind": "ideal", "drug": "morphine", "concentration": "1 mg/mL",
               "route": "iv", "program": [{"mode": "continuous", "rate": "1 mL/h"}]}],
}  # fmt: skip
GRID = ["pumps[0].program[0].rate=1,2,5 mL/h", "patient.weight=50,90 kg"]


# -- grid parsing -----------------------------------------------------------------------
def test_axis_with_unit() -> None:
    axis = parse_axis("pumps[0].program[0].rate=1, 2,5 mL/h")
    assert axis.path == "pumps[0].program[0].rate"
    assert axis.values == ("1 mL/h", "2 mL/h", "5 mL/h")
    assert axis.numbers == (1.0, 2.0, 5.0)
    assert axis.column == "pumps[0].program[0].rate[mL/h]"


def test_axis_plain_numbers_and_words() -> None:
    assert parse_axis("patient.population.n=10,20").values == (10, 20)
    words = parse_axis("pumps[0].route=iv,sc")
    assert words.values == ("iv", "sc") and words.numbers is None
    assert words.column == "pumps[0].route"


@pytest.mark.parametrize("text, words", [
    ("patient.weight", "PATH=V1,V2"),
    ("pumps[x].rate=1,2 mL/h", "bad field path"),
    ("patient.weight=70,70 kg", "repeated"),
    ("patient.weight=50,,70", "empty value"),
    ("replicate=1,2 kg", "plain integers"),
])  # fmt: skip
def test_bad_axis_is_refused(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_axis(text)


def test_points_in_row_major_order_with_their_own_seeds() -> None:
    grid = Grid.from_strings(GRID, seed=7, replicates=2)
    assert len(grid.points) == 3 * 2 * 2
    assert grid.points[5].overrides == {"pumps[0].program[0].rate": "2 mL/h",
                                        "patient.weight": "50 kg", REPLICATE: 1}  # fmt: skip
    # a point's seeds depend on the sweep seed and its index only (SeedSequence.spawn)
    child = np.random.SeedSequence(7).spawn(12)[5]
    assert [grid.points[5].run_seed, grid.points[5].population_seed] == \
        [int(x) for x in child.generate_state(2, dtype=np.uint32)]  # fmt: skip
    seeds = {(p.run_seed, p.population_seed) for p in grid.points}
    assert len(seeds) == 12  # every point (and replicate) draws differently


# -- refusal of bad points --------------------------------------------------------------
def test_every_bad_point_is_named_and_nothing_is_written(tmp_path) -> None:
    out = tmp_path / "sw"
    with pytest.raises(ScenarioError) as err:
        sweep(SCENARIO, ["pumps[0].program[0].rate=1,-2 mL/h", "patient.weight=50,900 kg"],
              out=out)  # fmt: skip
    lines = err.value.lines()
    assert len(lines) == 3  # points 1 (900 kg), 2 (-2 mL/h), 3 (both)
    assert lines[0].startswith("<dict>: grid point 1 (pumps[0].program[0].rate=1 mL/h, "
                               "patient.weight=900 kg): patient.weight:")  # fmt: skip
    assert "must not be negative" in lines[1] and "patient.weight" in lines[2]
    assert not out.exists()


def test_cli_refuses_bad_points_one_line_each(tmp_path, capsys) -> None:
    code = main(["sweep", str(ROOT / "scenarios" / "propofol_rate_change.yaml"),
                 "--grid", "patient.weight=50,900,1000 kg", "--grid", "pumps[0].nope=1,2",
                 "--out", str(tmp_path / "x"), "--scheduler", "synchronous"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 6  # 3 weights x 2 values of a field that does not exist
    assert all("grid point" in line for line in err)
    assert not (tmp_path / "x").exists()


def test_bad_scheduler_and_target_are_refused(tmp_path) -> None:
    with pytest.raises(ScenarioError, match="allowed: synchronous"):
        sweep(SCENARIO, GRID, out=tmp_path, scheduler="gpu")
    with pytest.raises(ScenarioError, match="LOW-HIGH"):
        sweep(SCENARIO, GRID, out=tmp_path, targets={"morphine": "high"})
    with pytest.raises(ScenarioError, match=r"patient\.population\.n"):
        sweep(SCENARIO, GRID, out=tmp_path, population=0)
    assert not list(tmp_path.iterdir())


# -- results ----------------------------------------------------------------------------
def test_parquet_dataset_columns_metadata_and_closed_forms(tmp_path) -> None:
    res = sweep(SCENARIO, GRID, out=tmp_path / "sw", population=4, seed=3,
                targets={"morphine": "0-1000 ng/mL"})  # fmt: skip
    frame = res.frame()
    assert len(frame) == 6 * 4 and sorted(set(frame["point"])) == list(range(6))
    rate = frame["pumps[0].program[0].rate[mL/h]"]
    # ideal pump: volume = rate x 2 h (closed form)
    np.testing.assert_allclose(frame["volume_mL"], rate * 2.0, rtol=1e-9)
    # a range holding every concentration: time in range = the duration, 7200 s
    np.testing.assert_allclose(frame["time_in_range_s"], 7200.0)
    assert set(frame["patient.weight[kg]"]) == {50.0, 90.0}
    meta = SweepStore.metadata(tmp_path / "sw" / "points" / "point=0004" / "part-0.parquet")
    assert meta["point"] == 4 and meta["sweep_seed"] == 3 and meta["population"] == 4
    assert meta["overrides"] == {"pumps[0].program[0].rate": "5 mL/h", "patient.weight": "50 kg"}
    assert len(meta["scenario_hash"]) == 64 and meta["pumpsim_version"]
    summary = res.summary()
    assert len(summary) == 6 and {"cmax_p5", "cmax_p50", "cmax_p95", "auc_p50"} <= set(summary)
    # higher rate, higher median Cmax (same weight)
    s50 = summary[summary["patient.weight[kg]"] == 50].sort_values("pumps[0].program[0].rate[mL/h]")
    assert np.all(np.diff(s50["cmax_p50"]) > 0)
    assert (tmp_path / "sw" / "summary.png").stat().st_size > 10_000


def _files(out) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted((out / "points").glob("*/*.parquet"))}


def test_resume_skips_written_points_and_cleans_half_written(tmp_path, monkeypatch) -> None:
    out = tmp_path / "sw"
    first = sweep(SCENARIO, GRID, out=out, population=3, plots=False)
    before = _files(out)
    assert first.ran == list(range(6)) and first.skipped == []
    # an interrupted write: the file is half written when the process dies
    shutil.rmtree(out / "points" / "point=0002")
    import pyarrow.parquet as pq

    real = pq.write_table

    def dies(table, where, **kw):  # type: ignore[no-untyped-def]
        real(table, where, **kw)
        with open(where, "r+b") as f:
            f.truncate(100)
        raise KeyboardInterrupt

    monkeypatch.setattr(pq, "write_table", dies)
    with pytest.raises(KeyboardInterrupt):
        sweep(SCENARIO, GRID, out=out, population=3, plots=False)
    assert not (out / "points" / "point=0002").exists()  # no half partition in the dataset
    assert list((out / "points").glob("_tmp-*"))  # only a hidden temporary
    assert len(SweepStore(out).read()) == 5 * 3  # readers skip the temporary
    monkeypatch.setattr(pq, "write_table", real)
    again = sweep(SCENARIO, GRID, out=out, population=3, plots=False)
    assert again.ran == [2] and again.skipped == [0, 1, 3, 4, 5]
    assert not list((out / "points").glob("_tmp-*"))
    assert _files(out) == before  # the resumed point is identical to the first run's


def test_another_sweep_in_the_same_folder_is_refused(tmp_path) -> None:
    sweep(SCENARIO, GRID[:1], out=tmp_path, population=2, plots=False)
    with pytest.raises(ManifestMismatch, match="'seed'"):
        sweep(SCENARIO, GRID[:1], out=tmp_path, population=2, seed=1, plots=False)
    assert json.loads((tmp_path / "sweep.json").read_text())["seed"] == 0


# -- determinism across schedulers (Dask) ---------------------------------------------
def test_local_cluster_and_in_process_give_identical_files(tmp_path) -> None:
    """A 2-worker LocalCluster on 127.0.0.1 (threads: fast to start; the benchmark
    benchmarks/sweep.py runs the same sweep on worker processes) and the in-process
    scheduler write byte-identical files; the cluster shuts down cleanly."""
    pytest.importorskip("distributed", reason="needs the dask extra: pip install 'pumpsim[dask]'")
    from distributed import Client, LocalCluster

    kw = {"grid": GRID, "population": 5, "seed": 11, "plots": False}
    sweep(SCENARIO, out=tmp_path / "sync", scheduler="synchronous", **kw)
    threads = threading.active_count()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=None) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        sweep(SCENARIO, out=tmp_path / "tcp", scheduler=address, **kw)  # as on a real cluster
        with Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
            assert not any(client.processing().values())  # nothing left running
    reference = _files(tmp_path / "sync")
    assert len(reference) == 6
    assert _files(tmp_path / "tcp") == reference
    assert not multiprocessing.active_children()
    assert threading.active_count() <= threads + 2  # the cluster's threads are gone


def test_threads_scheduler_matches_too(tmp_path) -> None:
    pytest.importorskip("distributed", reason="needs the dask extra: pip install 'pumpsim[dask]'")
    kw = {"grid": GRID[:1], "population": 3, "seed": 2, "plots": False}
    sweep(SCENARIO, out=tmp_path / "a", scheduler="synchronous", **kw)
    sweep(SCENARIO, out=tmp_path / "b", scheduler="threads", workers=2, **kw)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_cli_sweep_writes_then_resumes(tmp_path, capsys) -> None:
    path = ROOT / "scenarios" / "propofol_rate_change.yaml"
    args = ["sweep", str(path), "--grid", "patient.weight=60,80 kg", "--population", "3",
            "--target", "propofol=2-4 ug/mL", "--scheduler", "synchronous", "--no-plots",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0  # with its progress bar
    out = capsys.readouterr().out
    assert "2 points run, 0 already written" in out and "points" in out
    assert (tmp_path / "summary.csv").is_file()
    assert main([*args, "--quiet"]) == 0
    assert main(args) == 0
    assert "0 points run, 2 already written" in capsys.readouterr().out


def test_sweep_refuses_a_folder_of_the_users_files(tmp_path) -> None:
    """A sweep writes into a new or empty folder, or resumes its own; never among other files."""
    from pumpsim.sweep.store import ManifestMismatch, SweepStore

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(ManifestMismatch, match="not empty and holds no pumpsim sweep"):
        SweepStore(mine).open({"scenario_sha256": "x"})
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
