"""On-disk embedding cache keyed by content hash.

A key is ``sha256(encoder id + "\\0" + text)``; the value is a float32 array of any
shape (a sentence embedding, or a trace's step-boundary states). The store is one
SQLite file, so a second training run on the same data encodes nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "content_key"]


def content_key(encoder_id: str, text: str) -> str:
    """The cache key of `text` under `encoder_id`."""
    return hashlib.sha256(f"{encoder_id}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Arrays stored by key in ``<directory>/embeddings.sqlite``."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Several worker processes may share one cache: WAL lets readers go on while
        # one writes, and a writer waits for the lock instead of failing.
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, shape TEXT, data BLOB)")

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, shape, data FROM emb WHERE key IN ({marks})", chunk)
            for key, shape, data in rows:
                dims = tuple(int(d) for d in shape.split(",") if d)
                found[key] = np.frombuffer(data, dtype=np.float32).reshape(dims)
        return found

    def put_many(self, items: Mapping[str, np.ndarray]) -> None:
        rows = []
        for key, array in items.items():
            arr = np.ascontiguousarray(array, dtype=np.float32)
            rows.append((key, ",".join(map(str, arr.shape)), arr.tobytes()))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM emb").fetchone()[0])

    def close(self) -> None:
        self._db.close()
