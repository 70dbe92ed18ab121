import numpy as np

from judges.sprm.data import Solution
from judges.sprm.features import SentenceFeaturizer
from judges.sprm.steps import steps_from_list


def sol(steps, problem="P?"):
    return Solution(problem=problem, steps=steps_from_list(steps), outcome=True, group="g")


def test_feature_is_problem_step_and_mean_of_previous_steps(hash_encoder):
    f = SentenceFeaturizer(hash_encoder)
    [feat] = f.build([sol(["s0", "s1", "s2"])])
    e = hash_encoder.encode(["P?", "s0", "s1", "s2"])
    d = hash_encoder.dim
    assert feat.x.shape == (3, 3 * d) == (3, f.dim)
    np.testing.assert_allclose(feat.x[:, :d], np.tile(e[0], (3, 1)))
    np.testing.assert_allclose(feat.x[:, d : 2 * d], e[1:])
    np.testing.assert_allclose(feat.x[0, 2 * d :], 0)
    np.testing.assert_allclose(feat.x[2, 2 * d :], (e[1] + e[2]) / 2, rtol=1e-6)
    np.testing.assert_allclose(feat.step_emb, e[1:])


def test_the_same_step_after_different_steps_gets_different_features(hash_encoder):
    f = SentenceFeaturizer(hash_encoder)
    a, b = f.build([sol(["x = 1", "so y = 2"]), sol(["x = 7", "so y = 2"])])
    assert not np.allclose(a.x[1], b.x[1])
    c, d = f.build([sol(["so y = 2"], problem="one"), sol(["so y = 2"], problem="two")])
    assert not np.allclose(c.x[0], d.x[0])


def test_minilm_features_are_normalised_384d(minilm):
    f = SentenceFeaturizer(minilm)
    [feat] = f.build([sol(["Add 2 and 3 to get 5.", "A: 5"], problem="What is 2 + 3?")])
    assert feat.x.shape == (2, 3 * 384)
    np.testing.assert_allclose(np.linalg.norm(feat.step_emb, axis=1), 1.0, rtol=1e-5)
