"""Shared fixtures: one MiniLM per test session, a tiny hashing encoder, synthetic data."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest

from judges.sprm.data import Solution
from judges.sprm.steps import split_solution


class HashEncoder:
    """A deterministic stand-in encoder: character trigrams hashed into `dim` buckets,
    L2-normalised. It counts the texts it is asked to encode."""

    def __init__(self, dim: int = 16, encoder_id: str = "test:hash") -> None:
        self.dim = dim
        self.encoder_id = encoder_id
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            padded = f"  {text}  "
            for j in range(len(padded) - 2):
                h = int.from_bytes(hashlib.md5(padded[j : j + 3].encode()).digest()[:4], "little")
                out[i, h % self.dim] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out


def make_solutions(n_problems: int = 12, per_problem: int = 3, seed: int = 0) -> list[Solution]:
    """Arithmetic word problems with 2-4 line steps; a wrong step makes the outcome wrong.

    Step labels are attached (ProcessBench convention) so evaluation can be tested;
    training must not read them."""
    rng = np.random.default_rng(seed)
    out = []
    for p in range(n_problems):
        a, b, c = (int(v) for v in rng.integers(2, 20, 3))
        problem = f"Tom has {a} apples, buys {b} more and then {c} more. How many apples?"
        for k in range(per_problem):
            wrong_at = int(rng.integers(-1, 2))  # -1: no mistake
            s1 = a + b + (3 if wrong_at == 0 else 0)
            s2 = s1 + c + (5 if wrong_at == 1 else 0)
            lines = [f"He has {a} + {b} = {s1} apples.", f"Then {s1} + {c} = {s2} apples."]
            lines.append(f"A: {s2}")
            steps = split_solution("\n".join(lines), "lines")
            labels: list[int | None] = [1] * len(steps)
            if wrong_at >= 0:
                labels = [1] * wrong_at + [-1] + [None] * (len(steps) - wrong_at - 1)
            out.append(
                Solution(
                    problem=problem,
                    steps=steps,
                    outcome=wrong_at == -1,
                    group=f"p{p}",
                    step_labels=labels,
                    final_answer=str(s2),
                    item_id=f"p{p}-{k}",
                )
            )
    return out


@pytest.fixture(scope="session")
def minilm():
    """The packaged all-MiniLM-L6-v2, loaded once per session (about 10 s)."""
    from judges.sprm.encoder import load_sentence_encoder

    return load_sentence_encoder()


@pytest.fixture
def hash_encoder() -> HashEncoder:
    return HashEncoder()


@pytest.fixture
def solutions() -> list[Solution]:
    return make_solutions()
