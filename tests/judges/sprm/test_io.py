import json

import numpy as np
import pytest

from judges.sprm.features import SentenceFeaturizer
from judges.sprm.io import load_model, save_model
from judges.sprm.train import TrainConfig, fit
from tests.judges.sprm.conftest import HashEncoder


def test_saved_model_scores_the_same_after_loading(tmp_path, hash_encoder, solutions):
    f = SentenceFeaturizer(hash_encoder)
    model = fit(solutions, f, TrainConfig(variant="orm", epochs=2, seed=3))
    save_model(model, tmp_path / "m")
    assert (tmp_path / "m" / "weights.safetensors").exists()
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["variant"] == "orm"
    assert card["encoder_id"] == "test:hash"
    assert card["hyperparameters"]["seed"] == 3
    assert len(card["training"]["history"]) == 2
    assert len(card["data_hash"]) == 64
    loaded = load_model(tmp_path / "m", featurizer=f)
    a = [s.step_scores for s in model.score(solutions)]
    b = [s.step_scores for s in loaded.score(solutions)]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_loading_with_another_encoder_is_refused(tmp_path, hash_encoder, solutions):
    save_model(fit(solutions, SentenceFeaturizer(hash_encoder), TrainConfig(epochs=1)), tmp_path)
    other = SentenceFeaturizer(HashEncoder(encoder_id="test:other"))
    with pytest.raises(ValueError, match="featurizer 'test:other' is not the card's 'test:hash'"):
        load_model(tmp_path, featurizer=other)


def test_minilm_model_reloads_from_its_card_alone(tmp_path, minilm, solutions):
    model = fit(solutions[:6], SentenceFeaturizer(minilm), TrainConfig(epochs=1))
    save_model(model, tmp_path)
    loaded = load_model(tmp_path, cache_dir=tmp_path / "cache")  # encoder from the card
    np.testing.assert_allclose(
        loaded.score(solutions[:2])[0].step_scores, model.score(solutions[:2])[0].step_scores
    )
