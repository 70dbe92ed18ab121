"""Annotator competence: latent-class models of the human raters.

Agreement coefficients say how much a panel agrees; they do not say *who* in
it is reliable. Two latent-class models estimate that from the ratings alone:

- **Dawid-Skene** (Dawid & Skene 1979, Appl. Stat. 28:20-28): each rater has a
  confusion matrix ``P(rating = l | true class = c)``; EM started from the
  majority vote, stopped when the evidence lower bound per rating gains less
  than ``1e-5``. A rater's *accuracy* is ``sum_c prior_c P(l = c | c)``. The
  posterior labels are the panel's **latent consensus**, one more reference a
  judge is scored against.
- **MACE** (Hovy, Berg-Kirkpatrick, Vaswani & Hovy 2013, NAACL, 1120-1130):
  each rater answers from knowledge with probability ``competence`` and
  otherwise "spams" from a rater-specific distribution; variational Bayes with
  Beta(0.5, 0.5) and Dirichlet(10) priors, 50 iterations. A rater whose
  competence is below 0.5 answers more often at random than from the item:
  flagged as a likely spammer.

Both are vectorised numpy transcriptions of ``crowd-kit`` 1.4.2 (Apache-2.0)
``DawidSkene`` and ``MACE(method="vb")``, the same updates, starting points
and stopping rules, and are checked against crowd-kit itself on the real HANNA
ratings (``tests/analysis/test_competence.py``). crowd-kit is not called here:
its pandas implementation took 1.2 s (Dawid-Skene) and 1.5 s (MACE) per
1,056-item criterion on this machine, more than this whole report may take,
and its MACE aligns its per-rater counts by sorted name with its parameters
by order of appearance (the check feeds it data in which the two agree).

Categories are the declared scale. A scale of more than ``max_categories``
points (SQuALITY's 0-100) is cut into ``n_bins`` equal-width bins first: a
latent class per rating point would have more parameters than data. The bins
are stated in the result. The models need at least three raters on the panel,
as the alternative-annotator test does (two raters cannot tell whose error a
disagreement is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Annotations", "Competence", "RaterCompetence", "dawid_skene", "mace", "rater_competence"]

SPAMMER_BELOW = 0.5
MODEL = "Dawid-Skene (EM, tol 1e-5) and MACE (variational Bayes, 50 iterations), as crowd-kit 1.4.2"
_EPS = 1e-10


class Annotations(NamedTuple):
    """Ratings as integer codes: annotation ``i`` is ``labels[i]`` by ``workers[i]`` on ``tasks[i]``."""

    tasks: np.ndarray
    workers: np.ndarray
    labels: np.ndarray
    n_tasks: int
    n_workers: int
    n_labels: int


def _sums_by(index: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``np.add.at`` into zeros, by ``np.bincount`` (the same sums, in the same order, 10x faster).

    ``weights`` of shape (N,) give shape (n,); of shape (N, K), shape (n * K,).
    """
    if weights is None:
        return np.bincount(index, minlength=n).astype(float)
    if weights.ndim == 1:
        return np.bincount(index, weights=weights, minlength=n)
    k = weights.shape[1]
    flat = (index[:, None] * k + np.arange(k)).ravel()
    return np.bincount(flat, weights=weights.ravel(), minlength=n * k)


def _rounds(tasks: np.ndarray) -> list[np.ndarray]:
    """Annotations split into rounds holding each task at most once: round ``r`` has every
    task's ``r``-th annotation (in input order). Adding round after round by fancy
    indexing adds each task's terms in the order ``np.add.at`` would."""
    order = np.argsort(tasks, kind="stable")
    sorted_tasks = tasks[order]
    first = np.searchsorted(sorted_tasks, sorted_tasks, side="left")
    rank = np.empty(tasks.size, dtype=np.int64)
    rank[order] = np.arange(tasks.size) - first
    return [np.flatnonzero(rank == r) for r in range(int(rank.max()) + 1 if rank.size else 0)]


def dawid_skene(
    data: Annotations,
    *,
    n_iter: int = 100,
    tol: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dawid-Skene EM on coded annotations.

    Returns ``(probas (T, K), priors (K,), errors (W, K, K))`` with
    ``errors[w, l, c] = P(w says l | true class c)``.
    """
    tasks, workers, labels, n_tasks, n_workers, n_labels = data
    votes = _sums_by(tasks * n_labels + labels, n_tasks * n_labels).reshape(n_tasks, n_labels)
    probas = votes / votes.sum(axis=1, keepdims=True)
    used = np.zeros((n_workers, n_labels), dtype=bool)
    used[workers, labels] = True
    # The scatter indices of the loop, computed once: m_step's (worker, label, class) cell of
    # each annotation's class probabilities, and each round's tasks.
    cells = ((workers * n_labels + labels)[:, None] * n_labels + np.arange(n_labels)).ravel()
    n_cells = n_workers * n_labels * n_labels
    rounds = [(rows, tasks[rows]) for rows in _rounds(tasks)]

    def m_step(p: np.ndarray) -> np.ndarray:
        e = np.bincount(cells, weights=p[tasks].ravel(), minlength=n_cells)
        e = np.where(used[:, :, None], np.maximum(e.reshape(n_workers, n_labels, n_labels), _EPS), 0.0)
        return e / e.sum(axis=1, keepdims=True)

    def log_errors(errors: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(errors[workers, labels])  # (N, K)

    priors = probas.mean(axis=0)
    errors = m_step(probas)
    log_e = log_errors(errors)
    loss = -np.inf
    for _ in range(n_iter):
        log_prior = np.log(np.maximum(priors, _EPS))
        ll = np.tile(log_prior, (n_tasks, 1))
        for rows, at in rounds:
            ll[at] += log_e[rows]
        probas = np.exp(ll - ll.max(axis=1, keepdims=True))
        probas /= probas.sum(axis=1, keepdims=True)
        priors = np.maximum(probas.mean(axis=0), _EPS)
        errors = m_step(probas)
        log_e = log_errors(errors)  # this loss's, and the next iteration's
        with np.errstate(invalid="ignore"):
            joint = np.nansum(probas[tasks] * (log_e + np.log(priors)))
        clipped = np.maximum(probas, _EPS)
        new_loss = (joint - np.sum(np.log(clipped) * clipped)) / len(tasks)
        if new_loss - loss < tol:
            break
        loss = new_loss
    return probas, priors, errors


def mace(
    data: Annotations,
    *,
    n_iter: int = 50,
    alpha: float = 0.5,
    beta: float = 0.5,
    noise: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACE by variational Bayes; returns ``(knowing (W,), spam strategy (W, K), task marginals (T, K))``.

    ``knowing[w]`` is the posterior probability that ``w`` answers from
    knowledge. The starting point is crowd-kit's: rows of
    ``scipy.stats.uniform(1, 1 + noise).rvs(..., random_state=seed)``, normalised.
    """
    tasks, workers, labels, n_tasks, n_workers, n_labels = data
    from scipy import stats
    from scipy.special import digamma

    spam = stats.uniform(1, 1 + noise).rvs(size=(n_workers, 2), random_state=seed)
    theta = stats.uniform(1, 1 + noise).rvs(size=(n_workers, n_labels), random_state=seed)
    spam /= spam.sum(axis=1, keepdims=True)
    theta /= theta.sum(axis=1, keepdims=True)
    theta_priors = np.array([alpha, beta])
    strategy_priors = 10.0

    cell = workers * n_labels + labels
    rounds = _rounds(tasks)

    def e_step() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        spam_part = spam[workers, 0] * theta[workers, labels]  # (N,)
        know = spam[workers, 1]
        per = spam_part[:, None] + know[:, None] * (labels[:, None] == np.arange(n_labels))  # (N, K)
        gold = np.ones((n_tasks, n_labels))
        for rows in rounds:  # as np.multiply.at would
            gold[tasks[rows]] *= per[rows]
        gold /= n_labels
        inst = gold.sum(axis=1)
        strategy = (gold[tasks] / per).sum(axis=1) * spam_part / inst[tasks]
        knowing = gold[tasks, labels] * know / (spam_part + know) / inst[tasks]
        s_counts = _sums_by(cell, n_workers * n_labels, strategy).reshape(n_workers, n_labels)
        k_counts = np.stack(
            [_sums_by(workers, n_workers, strategy), _sums_by(workers, n_workers, knowing)], axis=1
        )
        return gold, s_counts, k_counts

    def vnorm(x: np.ndarray, prior: Any) -> np.ndarray:
        return np.exp(digamma(x + prior)) / np.exp(digamma((x + prior).sum(axis=1)))[:, None]

    gold, s_counts, k_counts = e_step()
    for _ in range(n_iter):
        spam = vnorm(k_counts, theta_priors)
        theta = vnorm(s_counts, strategy_priors)
        gold, s_counts, k_counts = e_step()
    return spam[:, 1], theta, gold / gold.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class RaterCompetence:
    rater: str
    n_ratings: int
    accuracy: float | None  # Dawid-Skene
    confusion: list[list[float]]  # Dawid-Skene: rows the rating given, columns the latent class
    competence: float | None  # MACE: P(answers from knowledge)
    likely_spammer: bool


@dataclass(frozen=True)
class Competence:
    """Latent-class estimates for one panel (a group of a report)."""

    categories: list[float]
    raters: list[RaterCompetence] = field(default_factory=list)
    consensus: np.ndarray | None = None  # Dawid-Skene label per unit (NaN where no rating)
    n_units: int = 0
    bins: list[list[float]] | None = None  # [low, high] of each bin when the scale was binned
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 6)

        return {
            "model": MODEL,
            "categories": self.categories,
            "bins": self.bins,
            "n_units": self.n_units,
            "spammer_threshold": SPAMMER_BELOW,
            "reason": self.reason,
            "raters": [
                {
                    "rater": c.rater,
                    "n_ratings": c.n_ratings,
                    "accuracy": r(c.accuracy),
                    "confusion": [[r(v) for v in row] for row in c.confusion],
                    "competence": r(c.competence),
                    "likely_spammer": c.likely_spammer,
                }
                for c in self.raters
            ],
        }


def _binned(
    h: np.ndarray, categories: Sequence[float], n_bins: int
) -> tuple[np.ndarray, list[float], list[list[float]]]:
    """Ratings replaced by the midpoint of their equal-width bin of the scale."""
    low, high = float(min(categories)), float(max(categories))
    edges = np.linspace(low, high, n_bins + 1)
    mids = (edges[:-1] + edges[1:]) / 2
    index = np.clip(np.searchsorted(edges[1:-1], np.nan_to_num(h), side="right"), 0, n_bins - 1)
    binned = np.where(np.isnan(h), np.nan, mids[index])
    return binned, mids.tolist(), [[float(edges[i]), float(edges[i + 1])] for i in range(n_bins)]


def rater_competence(
    humans: np.ndarray,
    names: Sequence[str],
    categories: Sequence[float],
    *,
    max_categories: int = 11,
    n_bins: int = 5,
    min_raters: int = 3,
) -> Competence:
    """Dawid-Skene and MACE on ``humans`` (raters x units, NaN for missing).

    Returns a :class:`Competence` with ``reason`` set (and no estimates) when
    fewer than ``min_raters`` raters or no unit with two ratings.
    """
    h = np.asarray(humans, dtype=float)
    cats = sorted(float(c) for c in categories)
    bins = None
    if len(cats) > max_categories:
        h, cats, bins = _binned(h, cats, n_bins)
    active = [j for j in range(h.shape[0]) if np.any(~np.isnan(h[j]))]
    multi = np.sum(~np.isnan(h), axis=0) >= 2
    if len(active) < min_raters:
        return Competence(cats, bins=bins, reason=f"needs at least {min_raters} raters, has {len(active)}")
    if not multi.any():
        return Competence(cats, bins=bins, reason="no unit has two ratings")
    sub = h[:, multi]
    rater_idx, unit_idx = np.nonzero(~np.isnan(sub.T).T)
    order = np.lexsort((rater_idx, unit_idx))  # unit by unit, as a table of ratings reads
    rater_idx, unit_idx = rater_idx[order], unit_idx[order]
    label_idx = np.searchsorted(np.asarray(cats), sub[rater_idx, unit_idx])
    data = Annotations(unit_idx, rater_idx, label_idx, sub.shape[1], h.shape[0], len(cats))
    probas, priors, errors = dawid_skene(data)
    knowing, _, _ = mace(data)
    out = []
    for j in active:
        n = int(np.sum(~np.isnan(sub[j])))
        conf = errors[j]
        accuracy = float(np.sum(priors * np.diag(conf))) if n else None
        competence = float(knowing[j]) if n else None
        spammer = competence is not None and competence < SPAMMER_BELOW
        out.append(RaterCompetence(names[j], n, accuracy, conf.tolist(), competence, spammer))
    consensus = np.full(h.shape[1], np.nan)
    consensus[multi] = np.asarray(cats)[probas.argmax(axis=1)]
    return Competence(cats, out, consensus, int(multi.sum()), bins)
