"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def adult() -> dict:
    """The adult patient used across tests: 40 y, 70 kg, 170 cm, male."""
    return {"age": "40 y", "weight": "70 kg", "height": "170 cm", "sex": "male"}
