"""The embedded default's secret key: made once, private, the same for every process."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.secret_key import MIN_LENGTH, embedded_secret_key


def test_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    key = embedded_secret_key(path)
    assert len(key) >= MIN_LENGTH and len(set(key)) >= 5
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert embedded_secret_key(path) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no temporary left behind


def _read(path: str, queue: multiprocessing.Queue) -> None:
    queue.put(embedded_secret_key(Path(path)))


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    processes = [ctx.Process(target=_read, args=(str(path), queue)) for _ in range(8)]
    for p in processes:
        p.start()
    keys = [queue.get(timeout=30) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    assert len(set(keys)) == 1 and keys[0] == path.read_text().strip()


def test_refuses_a_key_others_can_read(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    embedded_secret_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(ImproperlyConfigured, match=r"other users may read it \(mode 644\).*chmod 600"):
        embedded_secret_key(path)


def test_refuses_a_short_key(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("short\n")
    os.chmod(path, 0o600)
    with pytest.raises(ImproperlyConfigured, match="no usable secret key"):
        embedded_secret_key(path)
