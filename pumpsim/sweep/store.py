"""The sweep's results on disk: a Parquet dataset with one partition per grid point.

Layout of ``DIR``::

    sweep.json                     what was asked (scenario hash, grid, seed, population)
    points/point=0000/part-0.parquet
    points/point=0001/part-0.parquet
    ...
    summary.csv, summary.png       written at the end (:mod:`pumpsim.sweep.summary`)

Each partition is written into a hidden temporary folder (``points/_tmp-point=0007-…``)
and renamed into place in one ``os.replace``: a point's folder either holds its whole
file or does not exist, so an interrupted sweep never leaves half a partition. Readers
(pyarrow.dataset) skip names starting with ``_``; a re-run removes stale temporaries.

The point's index is the partition key (the folder name), as Hive-style readers expect
(``pandas.read_parquet(DIR / "points")``, pyarrow.dataset, Dask, DuckDB); each file
holds the grid values as columns. Each file carries the key ``pumpsim`` in its Parquet
schema metadata: a JSON object with the pumpsim version, the scenario hash, the sweep
seed, the point's index, seeds and overrides. Nothing in a file depends on the wall
clock, the host or the worker, so the same sweep gives byte-identical files on any
scheduler.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pumpsim.errors import PumpsimError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

__all__ = ["SweepStore", "ManifestMismatch"]

MANIFEST = "sweep.json"
POINTS = "points"


class ManifestMismatch(PumpsimError):
    """The output folder holds another sweep (different scenario, grid or seed)."""


class SweepStore:
    """Reads and writes one sweep's output folder."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.points = self.out / POINTS

    # -- the manifest ---------------------------------------------------------------------
    def open(self, manifest: dict[str, Any]) -> None:
        """Create the folder, or check that it holds the same sweep (to resume it).

        Raises
        ------
        ManifestMismatch
            Naming the first field that differs.
        """
        path = self.out / MANIFEST
        if not path.is_file() and self.out.is_dir() and any(self.out.iterdir()):
            raise ManifestMismatch(
                f"{self.out}: the folder is not empty and holds no pumpsim sweep; pumpsim "
                "writes a sweep only into a new or empty folder (or resumes its own): give "
                "another --out"
            )
        if path.is_file():
            old = json.loads(path.read_text(encoding="utf-8"))
            for key in manifest:
                if key != "pumpsim_version" and old.get(key) != manifest[key]:
                    raise ManifestMismatch(
                        f"{path}: holds a sweep with another {key!r}; use a new --out folder"
                    )
        self.points.mkdir(parents=True, exist_ok=True)
        for stale in self.points.glob("_tmp-*"):  # left by an interrupted run
            shutil.rmtree(stale, ignore_errors=True)
        if not path.is_file():
            _atomic_text(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    def manifest(self) -> dict[str, Any]:
        return dict(json.loads((self.out / MANIFEST).read_text(encoding="utf-8")))

    # -- partitions -----------------------------------------------------------------------
    def done(self) -> set[int]:
        """Indices of the points whose partition is complete."""
        if not self.points.is_dir():
            return set()
        return {int(p.name.split("=", 1)[1]) for p in self.points.glob("point=*")
                if (p / "part-0.parquet").is_file()}  # fmt: skip

    def write(self, name: str, table: pa.Table, metadata: dict[str, Any]) -> Path:
        """Write one point's table as ``points/<name>/part-0.parquet``, atomically."""
        import pyarrow.parquet as pq

        if "point" in table.column_names:  # the partition's folder name carries it
            table = table.drop_columns(["point"])
        meta = dict(table.schema.metadata or {})
        meta[b"pumpsim"] = json.dumps(metadata, sort_keys=True, default=str).encode()
        table = table.replace_schema_metadata(meta)
        tmp = self.points / f"_tmp-{name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        pq.write_table(table, tmp / "part-0.parquet", compression="zstd")
        final = self.points / name
        os.replace(tmp, final)  # one rename: the partition appears whole or not at all
        return final / "part-0.parquet"

    def read(self) -> Any:
        """Every written point as one pandas DataFrame (sorted by point, patient)."""
        import pyarrow.dataset as ds

        dataset = ds.dataset(self.points, format="parquet", partitioning="hive")
        frame = dataset.to_table().to_pandas()
        frame["point"] = frame["point"].astype("int64")
        keys = [k for k in ("point", "patient", "drug", "priority") if k in frame.columns]
        return frame.sort_values(keys, kind="stable").reset_index(drop=True)

    @staticmethod
    def metadata(path: str | Path) -> dict[str, Any]:
        """The ``pumpsim`` metadata of one partition file."""
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        return dict(json.loads(meta[b"pumpsim"]))


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
