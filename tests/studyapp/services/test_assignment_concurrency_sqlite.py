"""Concurrent claims on the embedded SQLite default: serialised by BEGIN IMMEDIATE, still correct."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("sqlite_claim_race.py")


def _race(tmp_path: Path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CONCORDANCE_VAR_DIR"] = str(tmp_path)
    env["CONCORDANCE_ASSIGNMENT_QUEUE_CHUNK"] = "3"  # queues grow several times per rater
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_twenty_threads_on_sqlite_keep_the_invariants(tmp_path):
    result = _race(tmp_path)
    assert result["errors"] == []
    assert result["claims"] == result["distinct_claims"] == 60  # no item twice to one rater
    assert result["annotations"] == result["distinct_pairs"] == 60
    assert result["per_item"] == [3] * 20  # exactly k per item


def test_twenty_threads_on_an_active_study_serve_the_drawn_items_k_times(tmp_path):
    result = _race(tmp_path, "--active")
    assert result["errors"] == []
    assert result["claims"] == result["distinct_claims"] == 30  # 10 drawn items, k = 3
    assert result["annotations"] == result["distinct_pairs"] == 30
    assert result["per_item"] == [3] * 10
    assert result["undrawn_served"] == 0
