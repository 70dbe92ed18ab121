import numpy as np

from judges.sprm.cache import EmbeddingCache, content_key
from judges.sprm.encoder import CachedSentenceEncoder
from judges.sprm.features import SentenceFeaturizer
from judges.sprm.train import TrainConfig, fit
from tests.judges.sprm.conftest import HashEncoder


def test_keys_depend_on_encoder_and_text():
    assert content_key("a", "x") != content_key("b", "x")
    assert content_key("a", "x") != content_key("a", "y")
    assert content_key("a", "x") == content_key("a", "x")


def test_arrays_round_trip_with_their_shapes(tmp_path):
    cache = EmbeddingCache(tmp_path)
    vec = np.arange(6, dtype=np.float32)
    mat = np.arange(6, dtype=np.float32).reshape(2, 3)
    cache.put_many({"v": vec, "m": mat})
    got = EmbeddingCache(tmp_path).get_many(["v", "m", "missing"])
    assert set(got) == {"v", "m"}
    np.testing.assert_array_equal(got["v"], vec)
    np.testing.assert_array_equal(got["m"], mat)
    assert len(cache) == 2


def test_only_missing_texts_are_encoded(tmp_path):
    enc = HashEncoder()
    cached = CachedSentenceEncoder(enc, EmbeddingCache(tmp_path))
    first = cached.encode(["a", "b", "a"])
    assert enc.texts_encoded == 2  # duplicates encoded once
    second = cached.encode(["b", "c"])
    assert enc.texts_encoded == 3
    np.testing.assert_array_equal(first[1], second[0])


def test_a_second_training_run_calls_the_encoder_zero_times(tmp_path, solutions):
    config = TrainConfig(epochs=2, seed=0)
    enc1 = HashEncoder()
    fit(solutions, SentenceFeaturizer(CachedSentenceEncoder(enc1, EmbeddingCache(tmp_path))), config)
    assert enc1.calls == 1
    # a new process would open the same cache file with a fresh encoder
    enc2 = HashEncoder()
    fit(solutions, SentenceFeaturizer(CachedSentenceEncoder(enc2, EmbeddingCache(tmp_path))), config)
    assert enc2.calls == 0


def _write_keys(directory: str, start: int) -> None:
    cache = EmbeddingCache(directory)
    for batch in range(10):
        keys = {f"k{start + batch * 50 + i}": np.full(4, i, dtype=np.float32) for i in range(50)}
        cache.put_many(keys)
    cache.close()


def test_worker_processes_can_share_one_cache(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_keys, args=(str(tmp_path), n * 1000)) for n in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0, 0]
    assert len(EmbeddingCache(tmp_path)) == 3 * 500
