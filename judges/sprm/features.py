"""Step features: the problem, the step, and the steps before it.

For a sentence encoder ``e`` (MiniLM, 384-d, L2-normalised) step ``i`` of a
solution to problem ``p`` is represented as

    x_i = [ e(p) ; e(s_i) ; mean(e(s_0), ..., e(s_{i-1})) ]      (3d values)

with a zero vector for the context of the first step. The choice: encoding each
step once keeps the cache small and re-usable across prefixes (a prefix-text
embedding would need one encoder call per prefix, quadratic in steps, and MiniLM
truncates at 256 word pieces), while the mean of the earlier steps still makes a
step's score depend on what came before it; the problem embedding lets the head
compare a step with the question. Position is deliberately not a feature: the
step-position prior is a baseline the SPRM is compared against.

For a :class:`~judges.sprm.encoder.BoundaryEncoder` the feature is the
penultimate-layer hidden state at the step boundary, which a causal model
already conditions on the problem and the earlier steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from judges.sprm.data import Solution
from judges.sprm.encoder import TextEncoder, TraceEncoder

__all__ = ["BoundaryFeaturizer", "Featurizer", "SentenceFeaturizer", "TraceFeatures"]


@dataclass
class TraceFeatures:
    """Features of one solution: `x` (n_steps, dim) for the head, `step_emb`
    (n_steps, d) per-step embeddings (used for trajectory alignment)."""

    x: np.ndarray
    step_emb: np.ndarray


class Featurizer(Protocol):
    dim: int

    @property
    def encoder_id(self) -> str: ...

    def build(self, solutions: Sequence[Solution]) -> list[TraceFeatures]: ...

    def spec(self) -> dict[str, Any]: ...


class SentenceFeaturizer:
    """``[e(problem); e(step); mean e(previous steps)]`` from a sentence encoder."""

    kind = "sentence"

    def __init__(self, encoder: TextEncoder, model_path: str | None = None) -> None:
        self.encoder = encoder
        self.encoder_id = encoder.encoder_id
        self.model_path = model_path
        self.dim = 3 * encoder.dim

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "encoder_id": self.encoder_id, "model_path": self.model_path}

    def build(self, solutions: Sequence[Solution]) -> list[TraceFeatures]:
        texts = list(
            dict.fromkeys([s.problem for s in solutions] + [st.text for s in solutions for st in s.steps])
        )
        emb = self.encoder.encode(texts)
        row = {t: i for i, t in enumerate(texts)}
        d = self.encoder.dim
        out = []
        for sol in solutions:
            steps = (
                np.stack([emb[row[st.text]] for st in sol.steps])
                if sol.steps
                else np.zeros((0, d), np.float32)
            )
            n = len(steps)
            problem = np.broadcast_to(emb[row[sol.problem]], (n, d))
            csum = np.cumsum(steps, axis=0)
            prev = np.zeros_like(steps)
            if n > 1:
                prev[1:] = csum[:-1] / np.arange(1, n)[:, None]
            x = np.concatenate([problem, steps, prev], axis=1).astype(np.float32)
            out.append(TraceFeatures(x=x, step_emb=steps.astype(np.float32)))
        return out


class BoundaryFeaturizer:
    """Penultimate-layer hidden state at each step boundary (MetaStone-S1)."""

    kind = "boundary"

    def __init__(self, encoder: TraceEncoder, model_dir: str) -> None:
        self.encoder = encoder
        self.encoder_id = encoder.encoder_id
        self.model_dir = model_dir
        self.dim = encoder.dim

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "encoder_id": self.encoder_id, "model_dir": self.model_dir}

    def build(self, solutions: Sequence[Solution]) -> list[TraceFeatures]:
        states = self.encoder.encode_traces([(s.problem, [st.text for st in s.steps]) for s in solutions])
        return [TraceFeatures(x=h.astype(np.float32), step_emb=h.astype(np.float32)) for h in states]
