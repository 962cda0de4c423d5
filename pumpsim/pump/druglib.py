"""Drug library (dose error reduction system, DERS): limits per drug and care area.

A library is data (YAML, see ``pumpsim/data/druglib.yaml``): for each drug,
concentration and care area it gives lower hard / lower soft / upper soft /
upper hard limits for continuous dosing, clinician boluses and PCA (demand
dose, lockout, dose limit over a window, basal). Programming is checked
against the entry (docs/references.md [DERS] [GIP2009]; GIP 6.1.3 / 6.1.4): a value beyond a hard
limit is refused with the reason, a value beyond a soft limit needs an
acknowledged override, and every breach is logged.

Limits are read once into canonical units (dose rates in amount/s or
amount/kg/s, flows in mL/s, doses in mg or IU (per kg when written so), volumes
mL, times s) and a controller checks plain numbers: it converts what it is
about to deliver (mL/s, mL) with the concentration and the patient's weight.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pumpsim.errors import PumpsimError, UnitError
from pumpsim.units import parse, parse_amount

__all__ = [
    "Limits",
    "Breach",
    "PcaLimits",
    "DersEntry",
    "DrugLibrary",
    "DrugLibraryError",
    "load_library",
    "builtin_library",
]

_BOUNDS = ("lower_hard", "lower_soft", "upper_soft", "upper_hard")
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


class DrugLibraryError(PumpsimError):
    """A drug library file that cannot be read, or a lookup that fails."""


@dataclass(frozen=True)
class Breach:
    """A programmed value beyond a limit.

    ``value`` and ``limit`` are in the library's unit for that field (``unit``).
    """

    field: str
    level: str  # "soft" | "hard"
    bound: str  # "lower" | "upper"
    value: float
    limit: float
    unit: str

    @property
    def message(self) -> str:
        word = "below" if self.bound == "lower" else "above"
        return (
            f"{self.field} {self.value:.4g} {self.unit} is {word} the {self.level} "
            f"{self.bound} limit {self.limit:.4g} {self.unit}"
        )

    def as_details(self) -> dict[str, Any]:
        """The breach as flat log details."""
        return {"field": self.field, "level": self.level, "bound": self.bound,
                "value": self.value, "limit": self.limit, "unit": self.unit,
                "message": self.message}  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """Four limits on one quantity, canonical units.

    Attributes
    ----------
    quantity : {"dose_rate", "flow", "dose", "volume", "time"}
    per_kg : bool
        Dose or dose rate per kg of body weight.
    unit : str
        The unit the library wrote (for messages), e.g. ``"mcg/kg/min"``.
    scale : float
        Canonical value of one ``unit`` (to show values in that unit).
    """

    quantity: str
    per_kg: bool
    unit: str
    scale: float
    lower_hard: float | None = None
    lower_soft: float | None = None
    upper_soft: float | None = None
    upper_hard: float | None = None

    def check(self, value: float, name: str) -> Breach | None:
        """The worst breach of canonical ``value`` (hard before soft), or None."""
        rel = 1e-9
        for level, bound, limit in (
            ("hard", "upper", self.upper_hard),
            ("hard", "lower", self.lower_hard),
            ("soft", "upper", self.upper_soft),
            ("soft", "lower", self.lower_soft),
        ):
            if limit is None:
                continue
            beyond = value > limit * (1 + rel) if bound == "upper" else value < limit * (1 - rel)
            if beyond:
                return Breach(name, level, bound, value / self.scale, limit / self.scale, self.unit)
        return None

    def canonical(
        self, amount: float, concentration: float | None, weight: float | None
    ) -> float | None:
        """Express ``amount`` (a rate [mL/s], a volume [mL] or a time [s]) in this
        quantity; None when it cannot be (no concentration, or per kg without weight)."""
        if self.quantity in ("flow", "volume", "time"):
            return amount
        if concentration is None:
            return None
        value = amount * concentration
        if self.per_kg:
            if not weight:
                return None
            value /= weight
        return value


@dataclass(frozen=True)
class PcaLimits:
    """PCA limits of a library entry; ``limit`` applies over ``window`` [s]."""

    demand: Limits | None = None
    lockout: Limits | None = None
    limit: Limits | None = None
    window: float | None = None
    basal: Limits | None = None


@dataclass(frozen=True)
class DersEntry:
    """One drug at one concentration in one care area."""

    drug: str
    care_area: str
    concentration: float | None = None  # amount/mL (None for plain fluid)
    amount_unit: str | None = None  # "mg" | "IU"
    continuous: Limits | None = None
    bolus: Limits | None = None
    pca: PcaLimits | None = None

    def check_rate(self, rate: float, concentration: float | None, weight: float | None,
                   name: str = "rate") -> Breach | None:  # fmt: skip
        """Check a continuous rate [mL/s]."""
        return _check(self.continuous, rate, concentration, weight, name)

    def check_bolus(self, volume: float, concentration: float | None, weight: float | None,
                    name: str = "bolus") -> Breach | None:  # fmt: skip
        """Check a clinician bolus of ``volume`` [mL]."""
        return _check(self.bolus, volume, concentration, weight, name)

    def check_pca(
        self,
        demand: float,
        lockout: float,
        limit: float | None,
        window: float | None,
        basal: float,
        concentration: float | None,
        weight: float | None,
    ) -> list[Breach]:
        """Check PCA settings: demand [mL], lockout [s], limit [mL] over window [s],
        basal [mL/s]. A limit over another window is scaled linearly to the library's."""
        if self.pca is None:
            return []
        p = self.pca
        found = [
            _check(p.demand, demand, concentration, weight, "demand_dose"),
            _check(p.lockout, lockout, concentration, weight, "lockout"),
            _check(p.basal, basal, concentration, weight, "basal") if basal > 0 else None,
        ]
        if limit is not None and window and p.limit is not None and p.window:
            found.append(_check(p.limit, limit * p.window / window, concentration, weight,
                                "limit"))  # fmt: skip
        return [b for b in found if b is not None]


def _check(limits: Limits | None, amount: float, concentration: float | None,
           weight: float | None, name: str) -> Breach | None:  # fmt: skip
    if limits is None:
        return None
    value = limits.canonical(amount, concentration, weight)
    if value is None:
        return None
    return limits.check(value, name)


@dataclass(frozen=True)
class DrugLibrary:
    """A drug library: care areas and entries, looked up by drug, care area, concentration."""

    name: str
    care_areas: Mapping[str, str]
    entries: tuple[DersEntry, ...] = field(default_factory=tuple)
    source: str = "builtin"

    def drugs(self, care_area: str) -> list[str]:
        return sorted({e.drug for e in self.entries if e.care_area == care_area})

    def entry(self, drug: str, care_area: str, concentration: float | None = None) -> DersEntry:
        """The entry for ``drug`` in ``care_area`` at ``concentration`` (amount/mL).

        Raises
        ------
        DrugLibraryError
            Unknown care area, drug not in the care area, or no entry at that concentration
            (the message lists what is allowed).
        """
        if care_area not in self.care_areas:
            raise DrugLibraryError(
                f"unknown care area {care_area!r}; allowed: {', '.join(self.care_areas)}"
            )
        found = [e for e in self.entries if e.drug == drug and e.care_area == care_area]
        if not found:
            raise DrugLibraryError(
                f"{drug} is not in the {care_area} library; allowed: "
                f"{', '.join(self.drugs(care_area)) or 'none'}"
            )
        for e in found:
            if e.concentration is None or concentration is None:
                if e.concentration is None and concentration is None:
                    return e
                continue
            if math.isclose(e.concentration, concentration, rel_tol=1e-9):
                return e
        have = ", ".join(f"{e.concentration:g} {e.amount_unit}/mL" for e in found
                         if e.concentration is not None)  # fmt: skip
        raise DrugLibraryError(
            f"no {drug} entry at this concentration in {care_area}; the library has: "
            f"{have or 'no concentration (plain fluid)'}"
        )


def _limits(row: Mapping[str, Any] | None, where: str) -> Limits | None:
    if row is None:
        return None
    extra = set(row) - set(_BOUNDS) - {"window"}
    if extra:
        raise DrugLibraryError(f"{where}: unknown key(s) {sorted(extra)}; allowed: {_BOUNDS}")
    values: dict[str, float] = {}
    kind: tuple[str, bool, str, float] | None = None
    for bound in _BOUNDS:
        text = row.get(bound)
        if text is None:
            continue
        try:
            this, value = _read(str(text))
        except UnitError as exc:
            raise DrugLibraryError(f"{where}.{bound}: {exc}") from None
        if kind is not None and this[:2] != kind[:2]:
            raise DrugLibraryError(f"{where}.{bound}: {text!r} is not the same kind as the others")
        kind = kind or this
        values[bound] = value
    if kind is None:
        return None
    return Limits(kind[0], kind[1], kind[2], kind[3], **values)


def _read(text: str) -> tuple[tuple[str, bool, str, float], float]:
    """((quantity, per_kg, unit text, canonical value of 1 unit), canonical value)."""
    unit = _NUMBER.sub("", text, count=1).strip()
    for quantity in ("dose_rate", "dose"):
        try:
            amount = parse_amount(text, quantity)
            one = parse_amount(f"1 {unit}", quantity)
            return (quantity, amount.per_kg, unit, one.value), amount.value
        except UnitError:
            continue
    for quantity in ("flow", "volume", "time"):
        try:
            return (quantity, False, unit, parse(f"1 {unit}", quantity)), parse(text, quantity)
        except UnitError:
            continue
    raise UnitError(f"{text!r} is not a dose rate, flow, dose, volume or time")


def _entry(row: Mapping[str, Any], where: str) -> DersEntry:
    conc = row.get("concentration")
    amount = None
    if conc is not None:
        try:
            amount = parse_amount(str(conc), "concentration")
        except UnitError as exc:
            raise DrugLibraryError(f"{where}.concentration: {exc}") from None
    pca = row.get("pca")
    pca_limits = None
    if pca is not None:
        lim = pca.get("limit")
        window = parse(lim["window"], "time") if lim and "window" in lim else None
        if lim is not None and window is None:
            raise DrugLibraryError(f"{where}.pca.limit.window: required, e.g. '4 h'")
        pca_limits = PcaLimits(
            demand=_limits(pca.get("demand"), f"{where}.pca.demand"),
            lockout=_limits(pca.get("lockout"), f"{where}.pca.lockout"),
            limit=_limits(lim, f"{where}.pca.limit"),
            window=window,
            basal=_limits(pca.get("basal"), f"{where}.pca.basal"),
        )
    return DersEntry(
        drug=str(row["drug"]),
        care_area=str(row["care_area"]),
        concentration=amount.value if amount else None,
        amount_unit=amount.unit if amount else None,
        continuous=_limits(row.get("continuous"), f"{where}.continuous"),
        bolus=_limits(row.get("bolus"), f"{where}.bolus"),
        pca=pca_limits,
    )


def load_library(path: str | Path) -> DrugLibrary:
    """Read a drug library YAML file (``"builtin"`` for pumpsim's example library).

    Raises
    ------
    DrugLibraryError
        One line naming the file, the entry and what is wrong.
    """
    from pumpsim.safeyaml import ReadError, load_text, read_bytes

    if str(path) == "builtin":
        return builtin_library()
    p = Path(path)
    if not p.is_file():
        raise DrugLibraryError(f"{p}: no such drug library file")
    try:  # bounded, data only, no duplicate keys (pumpsim.safeyaml)
        data = load_text(read_bytes(p), "yaml")
    except ReadError as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise DrugLibraryError(f"{p}: {where}{exc.message}") from None
    return _library(data, str(p))


def _library(data: Any, source: str) -> DrugLibrary:
    if not isinstance(data, dict) or "entries" not in data or "care_areas" not in data:
        raise DrugLibraryError(f"{source}: a drug library needs 'care_areas' and 'entries'")
    areas = {str(k): str(v) for k, v in data["care_areas"].items()}
    entries = []
    for i, row in enumerate(data["entries"]):
        where = f"{source}: entries[{i}]"
        if not isinstance(row, dict) or "drug" not in row or "care_area" not in row:
            raise DrugLibraryError(f"{where}: needs 'drug' and 'care_area'")
        if row["care_area"] not in areas:
            raise DrugLibraryError(
                f"{where}.care_area: {row['care_area']!r}; allowed: {', '.join(areas)}"
            )
        entries.append(_entry(row, where))
    return DrugLibrary(str(data.get("name", source)), areas, tuple(entries), source)


@lru_cache(maxsize=1)
def builtin_library() -> DrugLibrary:
    """pumpsim's example library (``pumpsim/data/druglib.yaml``), read once."""
    import yaml

    text = resources.files("pumpsim").joinpath("data/druglib.yaml").read_text("utf-8")
    return _library(yaml.safe_load(text), "builtin")
