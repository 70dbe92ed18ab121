"""Concurrent claims on the embedded SQLite default: serialised by BEGIN IMMEDIATE, still correct."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("sqlite_claim_race.py")


def test_twenty_threads_on_sqlite_keep_the_invariants(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CONCORDANCE_VAR_DIR"] = str(tmp_path)
    env["CONCORDANCE_ASSIGNMENT_QUEUE_CHUNK"] = "3"  # queues grow several times per rater
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    assert result["claims"] == result["distinct_claims"] == 60  # no item twice to one rater
    assert result["annotations"] == result["distinct_pairs"] == 60
    assert result["per_item"] == [3] * 20  # exactly k per item
