import numpy as np
import pytest

from judges.sprm.data import Solution
from judges.sprm.features import SentenceFeaturizer, TraceFeatures
from judges.sprm.steps import split_solution
from judges.sprm.train import TrainConfig, fit
from judges.sprm.trajectory import alignment, combine, has_trajectory, trajectory_features


def test_alignment_is_the_mean_cosine_of_thinking_steps_with_the_response():
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]], dtype=np.float32)
    feat = TraceFeatures(x=emb, step_emb=emb)
    sections = ["trajectory", "trajectory", "response", "response"]
    # response mean = (1, 0); cosines: 1 and 0
    assert alignment(feat, sections) == pytest.approx(0.5)
    row = trajectory_features(feat, sections)
    np.testing.assert_allclose(row, [0.5, 0.5, 1.0, 0.0, 0.5])


def test_combine_uses_the_documented_weighting():
    assert combine(0.0, 0.8) == pytest.approx(0.5 * 0.5 + 0.5 * 0.8)
    assert combine(1.0, 0.2, alpha=0.25) == pytest.approx(0.25 * 1.0 + 0.75 * 0.2)
    assert combine(-1.0, None) == 0.0  # no trajectory head: the alignment term alone


def think_solutions():
    out = []
    for i in range(8):
        good = i % 2 == 0
        answer = 4 if good else 5
        text = (
            f"<think>We need 2 + 2.\n\nCounting up gives {answer}.</think>\n\n"
            f"So 2 + 2 = {answer}.\n\nA: {answer}"
        )
        out.append(
            Solution(
                problem=f"What is 2 + 2? (variant {i})",
                steps=split_solution(text, "blank_lines"),
                outcome=good,
                group=f"g{i}",
            )
        )
    return out


def test_thinking_items_get_separate_scores_and_a_trajectory_score(hash_encoder):
    sols = think_solutions()
    assert has_trajectory([s.section for s in sols[0].steps])
    model = fit(sols, SentenceFeaturizer(hash_encoder), TrainConfig(epochs=2))
    assert model.trajectory_head is not None
    assert model.card["trajectory"] == {"trained_head": True, "n_items": 8}
    plain = Solution(problem="p", steps=split_solution("x\ny", "lines"), outcome=None, group="x")
    scored_think, scored_plain = model.score([sols[0], plain])
    assert scored_think.thinking_score is not None and scored_think.response_score is not None
    assert 0.0 <= scored_think.trajectory_score <= 1.0
    # the geometric mean over all four steps is the product of the parts' weighted means
    s = scored_think.step_scores
    assert scored_think.thinking_score == pytest.approx(np.sqrt(s[0] * s[1]))
    assert scored_plain.trajectory_score is None and scored_plain.alignment is None
