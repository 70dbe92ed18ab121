"""The HANNA replay on the real shared file (../shared/data/hanna)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analysis.hanna import CRITERIA, load_hanna, replay, story_and_system_kendall


@pytest.fixture(scope="module")
def data():
    return load_hanna()


def _tau_b(x, y):
    """Kendall's tau-b by counting pairs (independent of scipy)."""
    conc = disc = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tx += 1
        elif dy == 0:
            ty += 1
        elif dx == dy:
            conc += 1
        else:
            disc += 1
    return (conc - disc) / np.sqrt((conc + disc + tx) * (conc + disc + ty))


# The HANNA authors' own figures for automatic metrics on this file
# (dig-team/hanna-benchmark-asg, rankings/story_kendall.csv and
# rankings/system_kendall.csv): the same computation must give them.
AUTHORS = [
    ("BLEU Ξ§", "Relevance", 0.07377866242119939, 0.5555555555555555),
    ("BLEU Ξ§", "Complexity", 0.18913946076808397, 0.5393598899705937),
    ("BERTScore F1 Ξε", "Relevance", 0.13192365371092935, 0.5111111111111111),
    ("BARTScore-SH ΞΔ", "Complexity", 0.07819885554051835, 0.6741998624632421),
]


@pytest.mark.parametrize(("metric", "criterion", "story", "system"), AUTHORS)
def test_reproduces_the_authors_metric_correlations(data, metric, criterion, story, system):
    s, sy, n = story_and_system_kendall(data.values(metric), data.values(criterion))
    assert s == pytest.approx(story, abs=1e-12)
    assert sy == pytest.approx(system, abs=1e-12)
    assert n == 960


def test_replay_covers_every_llm_prompt_and_criterion(data):
    result = replay(data)
    assert "Human" not in data.systems and len(data.systems) == 10
    assert set(result["criterion"]) == set(CRITERIA.values())
    assert set(result["prompt"]) == {1, 2, 3, 4}
    assert len(result) == result["llm"].nunique() * 4 * 6
    assert {"Beluga-13B", "Mistral-7B", "Llama-13B", "ChatGPT"} <= set(result["llm"])
    assert (result["n_stories"] == 960).all() and (result["n_systems"] == 10).all()
    assert result["story_tau"].between(-1, 1).all() and result["system_tau"].between(-1, 1).all()


def test_one_cell_by_hand(data):
    result = replay(data).set_index(["llm", "prompt", "criterion"])
    llm = data.values("ChatGPT RE 1")
    human = data.values("Relevance")
    row = result.loc[("ChatGPT", 1, "Relevance")]
    assert row["system_tau"] == pytest.approx(_tau_b(llm.mean(axis=1), human.mean(axis=1)))
    # Story level over a subsample by hand (the full 960 x 960 loop is slow);
    # the full value is scipy's tau-b, checked against the authors above.
    idx = np.arange(0, 960, 7)
    s, _, _ = story_and_system_kendall(llm.ravel()[idx][None], human.ravel()[idx][None])
    assert s == pytest.approx(_tau_b(llm.ravel()[idx], human.ravel()[idx]))
