"""Shared test data for analysis/: the published reference values."""

from __future__ import annotations

import json

import pytest

from analysis.shared_data import shared_data_dir

REFERENCE_FILE = shared_data_dir() / "agreement" / "reference_values.json"


@pytest.fixture(scope="session")
def reference() -> dict[str, dict]:
    entries = json.loads(REFERENCE_FILE.read_text())
    return {e["name"]: e for e in entries}
