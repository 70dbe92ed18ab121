"""Dawid-Skene and MACE (analysis.competence) against crowd-kit 1.4.2 on the real HANNA ratings."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.competence import Annotations, dawid_skene, mace, rater_competence


def _hanna(shared: Path, criterion: str) -> np.ndarray:
    humans: list[list[float]] = [[], [], []]
    with (shared / "hanna" / "hanna_metric_scores_llm.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            for n in range(3):
                humans[n] += ast.literal_eval(row[f"Human {n + 1} {criterion}"])
    return np.array(humans)


def _codes(h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Annotations unit by unit; labels coded by first appearance, so that crowd-kit's
    order of appearance and its sorted order agree (its MACE mixes the two)."""
    units, raters = np.nonzero(~np.isnan(h.T))
    values = h[raters, units]
    _, first = np.unique(values, return_index=True)
    order = np.unique(values)[np.argsort(first)]
    labels = np.searchsorted(np.sort(order), values)
    rank = np.argsort(np.argsort(first))  # sorted position -> appearance rank
    return units, raters, rank[labels]


@pytest.mark.parametrize("criterion", ["CH", "SU"])
def test_dawid_skene_and_mace_reproduce_crowd_kit(shared_data: Path, criterion: str) -> None:
    from crowdkit.aggregation import MACE, DawidSkene

    h = _hanna(shared_data, criterion)
    tasks, workers, labels = _codes(h)
    data = Annotations(tasks, workers, labels, h.shape[1], 3, int(labels.max()) + 1)
    k = data.n_labels
    df = pd.DataFrame({"task": tasks, "worker": [f"w{w}" for w in workers], "label": labels})

    probas, priors, errors = dawid_skene(data)
    ds = DawidSkene(n_iter=100, tol=1e-5).fit(df)
    np.testing.assert_allclose(priors, ds.priors_.sort_index().to_numpy(), atol=1e-9)
    for w in range(3):
        theirs = ds.errors_.loc[f"w{w}"].reindex(index=range(k), columns=range(k)).fillna(0)
        np.testing.assert_allclose(errors[w], theirs.to_numpy(), atol=1e-9)
    assert (probas.argmax(axis=1) == ds.labels_.sort_index().to_numpy()).mean() > 0.999

    knowing, strategy, marginals = mace(data)
    m = MACE(method="vb", n_restarts=1, random_state=0).fit(df)
    np.testing.assert_allclose(knowing, m.spamming_[:, 1], rtol=1e-9)
    np.testing.assert_allclose(strategy, m.thetas_, rtol=1e-9)
    np.testing.assert_allclose(marginals, m.probas_.sort_index().to_numpy(), atol=1e-9)


def test_competence_on_hanna_flags_every_slot_and_gives_a_consensus(shared_data: Path) -> None:
    h = _hanna(shared_data, "CH")
    res = rater_competence(h, ["hanna-human-1", "hanna-human-2", "hanna-human-3"], [1, 2, 3, 4, 5])
    d = res.to_dict()
    assert res.n_units == 1056 and d["bins"] is None
    assert [r["n_ratings"] for r in d["raters"]] == [1056] * 3
    for r in d["raters"]:
        conf = np.array(r["confusion"])
        np.testing.assert_allclose(conf.sum(axis=0), 1.0, atol=1e-5)  # columns: P(rating | latent class)
        assert 0 < r["accuracy"] < 1
    assert set(np.unique(res.consensus)) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_a_spammer_is_flagged_and_a_100_point_scale_is_binned() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 101, 200).astype(float)
    good = np.clip(truth + rng.normal(0, 5, (3, 200)).round(), 0, 100)
    spammer = rng.integers(0, 101, 200).astype(float)
    res = rater_competence(np.vstack([good, spammer]), ["a", "b", "c", "s"], list(range(101)))
    by = {r.rater: r for r in res.raters}
    assert res.bins == [[0.0, 20.0], [20.0, 40.0], [40.0, 60.0], [60.0, 80.0], [80.0, 100.0]]
    assert by["s"].likely_spammer and not any(by[r].likely_spammer for r in "abc")
    assert by["s"].competence < min(by[r].competence for r in "abc")
    assert rater_competence(good[:2], ["a", "b"], list(range(101))).reason == "needs at least 3 raters, has 2"
