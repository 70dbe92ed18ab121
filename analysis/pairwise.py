"""Pairwise preference statistics: people and judges on the same pairs, position bias measured.

Input: one row per vote (:data:`VOTE_COLUMNS`), a vote being one rater's
preference on one pair: ``value`` +1 (response A), -1 (B), 0 (tie), always
about the underlying responses. A judge that saw the pair in both orders also
has ``ab`` (its verdict with A shown first) and ``ba`` (B shown first), each
+1 / -1 / 0 or NaN (no verdict); ``value`` is then their combination (a
preference when both orders give it, else a tie). ``model_a`` / ``model_b``
name the compared systems when known (Bradley-Terry needs them).

Statistics, per ``(domain, criterion)`` and judge:

- **agreement** with the people in FastChat's two setups (Zheng et al. 2023,
  ``fastchat/llm_judge/compute_agreement.py``): every (judge vote, human vote)
  pair on a common item counts, ``with_ties`` over all of them, ``without_ties``
  over those where neither vote is a tie; human-human the same over every two
  different people on an item;
- **Cohen's kappa** of the judge against the human majority (a tied majority
  leaves the pair out) over the labels B / tie / A;
- **position consistency** (share of pairs judged in both orders where the two
  orders agree) and **position bias**: of the non-tie verdicts over both
  orders, the share that chose the response shown first (0.5 = none), and
  the inconsistent pairs split into "first slot won both times" and "second
  slot won both times"; for people, who each saw a pair in one seeded order
  (``ab`` or ``ba`` holds their vote), their first-slot share with a CI
  resampling pairs (``human_position``; None for imported labels, shown in no
  order);
- **accuracy by order** against a single reference rater (a gold label, as in
  LLMBar), in each order, averaged, both orders right, and the orders' equality;
  LLMBar's own ``kappa_*`` figures are kept as ``llmbar_kappa`` (see
  :func:`llmbar_kappa`: its evaluate.py maps verdict "2" to 0 before
  sklearn's kappa against gold 1/2, so they are not Cohen's kappa of the
  verdicts; Cohen's kappa proper is given beside them);
- **Bradley-Terry** strengths of the systems (ties as half a win each way,
  MM algorithm of Hunter 2004, log-strengths centred at 0) from the people's
  votes and from each judge's, with percentile bootstrap CIs over pairs, and
  Spearman's rho between the people's and each judge's strengths.

The alternative-annotator test with accuracy alignment is the report's own
(level ``pairwise`` is categorical in :mod:`analysis.levels`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from analysis.agreement import cohen_kappa
from analysis.bootstrap import percentile_ci
from analysis.tidy import HUMAN_KINDS

__all__ = [
    "VOTE_COLUMNS",
    "bradley_terry",
    "fastchat_agreement",
    "llmbar_kappa",
    "order_accuracy",
    "pairwise_section",
    "panel_agreement",
    "position_stats",
]

VOTE_COLUMNS: tuple[str, ...] = (
    "item",
    "rater",
    "rater_kind",
    "domain",
    "criterion",
    "value",
    "ab",
    "ba",
    "model_a",
    "model_b",
)
LABELS = (-1.0, 0.0, 1.0)


def _r(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 6)


def fastchat_agreement(x: Mapping[str, Sequence[float]], y: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """FastChat's agreement of votes ``x`` with votes ``y`` (item -> votes) on common items:
    every (x vote, y vote) pair on an item counts; ``with_ties`` is the share of equal pairs
    over all, ``without_ties`` over the pairs where neither vote is a tie."""
    return _agreement([(a, b) for item, xs in x.items() for a in xs for b in y.get(item, ())])


def panel_agreement(panel: Mapping[str, Sequence[tuple[str, float]]]) -> dict[str, Any]:
    """FastChat's agreement within one panel (item -> [(rater, vote)]): every two votes of
    different raters on an item."""
    return _agreement(
        [
            (a, b)
            for votes in panel.values()
            for (ra, a), (rb, b) in itertools.combinations(votes, 2)
            if ra != rb
        ]
    )


def _agreement(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    total = len(pairs)
    agree = sum(a == b for a, b in pairs)
    no_ties = [(a, b) for a, b in pairs if a != 0 and b != 0]
    agree_nt = sum(a == b for a, b in no_ties)
    return {
        "with_ties": _r(agree / total) if total else None,
        "n_with_ties": total,
        "without_ties": _r(agree_nt / len(no_ties)) if no_ties else None,
        "n_without_ties": len(no_ties),
    }


def position_stats(ab: np.ndarray, ba: np.ndarray) -> dict[str, Any]:
    """Consistency of verdicts across the two orders and preference for the first slot."""
    both = ~np.isnan(ab) & ~np.isnan(ba)
    n = int(both.sum())
    a, b = ab[both], ba[both]
    # first slot: A in order ab (+1), B in order ba (-1)
    first = np.concatenate([ab[~np.isnan(ab)] == 1, ba[~np.isnan(ba)] == -1])
    decided = np.concatenate([ab[~np.isnan(ab)] != 0, ba[~np.isnan(ba)] != 0])
    n_decided = int(decided.sum())
    return {
        "n_pairs": n,
        "consistency": _r(float(np.mean(a == b))) if n else None,
        "n_consistent": int(np.sum(a == b)),
        "first_slot_share": _r(float(first[decided].mean())) if n_decided else None,
        "n_decided_verdicts": n_decided,
        "inconsistent_first_slot": int(np.sum((a == 1) & (b == -1))),
        "inconsistent_second_slot": int(np.sum((a == -1) & (b == 1))),
        "inconsistent_with_tie": int(np.sum((a != b) & ((a == 0) | (b == 0)))),
        "no_verdict": int(len(ab) - n),
    }


def order_accuracy(ab: np.ndarray, ba: np.ndarray, gold: np.ndarray) -> dict[str, Any]:
    """Accuracy against a reference in each order, averaged and in both (LLMBar's figures;
    a missing verdict counts as wrong, and two missing verdicts as equal, as there)."""
    n = len(gold)
    ok_ab, ok_ba = ab == gold, ba == gold  # NaN == x is False
    equal = (ab == ba) | (np.isnan(ab) & np.isnan(ba))
    out: dict[str, Any] = {
        "n": n,
        "correct_ab": int(ok_ab.sum()),
        "correct_ba": int(ok_ba.sum()),
        "accuracy_ab": _r(ok_ab.mean()) if n else None,
        "accuracy_ba": _r(ok_ba.mean()) if n else None,
        "accuracy_average": _r((ok_ab.sum() + ok_ba.sum()) / 2 / n) if n else None,
        "correct_both": int((ok_ab & ok_ba).sum()),
        "accuracy_both": _r((ok_ab & ok_ba).mean()) if n else None,
        "equal": int(equal.sum()),
        "equal_share": _r(equal.mean()) if n else None,
    }
    for name, verdicts in (("ab", ab), ("ba", ba)):
        k = cohen_kappa(verdicts, gold, labels=list(LABELS))
        out[f"kappa_{name}"] = _r(k.value)
    out["llmbar_kappa"] = llmbar_kappa(ab, ba, gold)
    return out


def llmbar_kappa(ab: np.ndarray, ba: np.ndarray, gold: np.ndarray) -> dict[str, float | None]:
    """LLMBar's ``kappa_False``, ``kappa_True``, ``kappa_average``, ``kappa_agreement``, as its
    evaluate.py computes them: a verdict "1" (A) becomes 1 and anything else ("2", none) 0, the
    gold stays 1 or 2, and Cohen's kappa of those codes is taken (so "2" never matches)."""

    def codes(v: np.ndarray) -> np.ndarray:
        return np.where(v == 1, 1.0, 0.0)

    gold_codes = np.where(gold == 1, 1.0, 2.0)

    def kappa(x: np.ndarray, y: np.ndarray) -> float | None:
        # in the order of operations of sklearn's cohen_kappa_score, so the figures match to the bit
        labels = np.unique(np.concatenate([x, y]))
        cm = (x[:, None, None] == labels[None, :, None]) & (y[:, None, None] == labels[None, None, :])
        confusion = cm.sum(axis=0).astype(np.float64)
        sum0, sum1 = confusion.sum(axis=0), confusion.sum(axis=1)
        expected = np.outer(sum0, sum1) / sum0.sum()
        w = 1.0 - np.eye(len(labels))
        denominator = np.sum(w * expected)
        return None if denominator == 0 else float(1 - np.sum(w * confusion) / denominator)

    k_ab, k_ba = kappa(codes(ab), gold_codes), kappa(codes(ba), gold_codes)
    return {
        "kappa_False": k_ab,
        "kappa_True": k_ba,
        "kappa_average": None if k_ab is None or k_ba is None else (k_ab + k_ba) / 2,
        "kappa_agreement": kappa(codes(ab), codes(ba)),
    }


def bradley_terry(
    a: Sequence[int], b: Sequence[int], value: Sequence[float], n_systems: int, *, tol: float = 1e-9
) -> np.ndarray:
    """Bradley-Terry log-strengths (centred at 0) of ``n_systems`` from votes between systems
    ``a[i]`` and ``b[i]`` (+1: a won, -1: b won, 0: tie, half a win each), by Hunter's (2004)
    MM iterations. A system that never won or never lost has no finite MLE: NaN."""
    a_, b_, v = np.asarray(a, int), np.asarray(b, int), np.asarray(value, float)
    wins = np.zeros((n_systems, n_systems))
    np.add.at(wins, (a_, b_), (v + 1) / 2)
    np.add.at(wins, (b_, a_), (1 - v) / 2)
    out = np.full(n_systems, np.nan)
    idx = np.arange(n_systems)
    while True:  # leave out the systems without a finite MLE, then those it strands
        sub, games = wins[np.ix_(idx, idx)], (wins + wins.T)[np.ix_(idx, idx)]
        w = sub.sum(axis=1)
        keep = (w > 0) & (w < games.sum(axis=1))
        if keep.all():
            break
        idx = idx[keep]
        if len(idx) < 2:
            return out
    p = np.ones(len(idx))
    for _ in range(5_000):
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        new = w / denom
        new /= np.exp(np.mean(np.log(new)))
        done = np.max(np.abs(np.log(new) - np.log(p))) < tol
        p = new
        if done:
            break
    out[idx] = np.log(p) - np.mean(np.log(p))
    return out


def _bt_with_ci(
    votes: pd.DataFrame, systems: list[str], n_resamples: int, ci: float, rng: np.random.Generator
) -> dict[str, Any]:
    index = {s: i for i, s in enumerate(systems)}
    a = votes["model_a"].map(index).to_numpy()
    b = votes["model_b"].map(index).to_numpy()
    v = votes["value"].to_numpy(dtype=float)
    est = bradley_terry(a, b, v, len(systems))
    items = votes["item"].to_numpy()
    uniq, inv = np.unique(items, return_inverse=True)
    reps = np.full((n_resamples, len(systems)), np.nan)
    groups = [np.flatnonzero(inv == k) for k in range(len(uniq))]
    for r in range(n_resamples):
        pick = np.concatenate([groups[k] for k in rng.integers(0, len(uniq), len(uniq))])
        reps[r] = bradley_terry(a[pick], b[pick], v[pick], len(systems))
    out = {}
    for s, i in index.items():
        interval, _ = percentile_ci(reps[:, i][np.isfinite(reps[:, i])], ci)
        out[s] = {"strength": _r(est[i]), "ci": [_r(x) for x in interval] if interval else None}
    return {"n_votes": len(votes), "systems": out, "_estimate": est}


def pairwise_section(
    votes: pd.DataFrame, *, n_resamples: int = 1000, seed: int = 0, ci: float = 0.95
) -> list[dict[str, Any]]:
    """The report's pairwise statistics, one entry per (domain, criterion) (module docstring)."""
    out: list[dict[str, Any]] = []
    if votes.empty:
        return out
    for (domain, criterion), rows in votes.groupby(["domain", "criterion"], sort=True):
        out.append(_section(rows, str(domain), str(criterion), n_resamples, seed, ci))
    return out


def _section(
    rows: pd.DataFrame, domain: str, criterion: str, n_resamples: int, seed: int, ci: float
) -> dict[str, Any]:
    humans = rows[rows["rater_kind"].isin(HUMAN_KINDS)]
    judges = rows[~rows["rater_kind"].isin(HUMAN_KINDS)]
    human_votes: dict[str, list[tuple[str, float]]] = {}
    for item, rater, value in humans[["item", "rater", "value"]].itertuples(index=False):
        human_votes.setdefault(str(item), []).append((str(rater), float(value)))
    plain = {k: [v for _, v in vs] for k, vs in human_votes.items()}
    majority: dict[str, float] = {}
    for item, vs in plain.items():
        counts = {lab: vs.count(lab) for lab in LABELS}
        top = max(counts.values())
        winners = [lab for lab, c in counts.items() if c == top]
        if len(winners) == 1:
            majority[item] = winners[0]
    human_raters = sorted(humans["rater"].unique())
    section: dict[str, Any] = {
        "domain": domain,
        "criterion": criterion,
        "n_pairs": int(rows["item"].nunique()),
        "n_human_votes": len(humans),
        "human_raters": len(human_raters),
        "human_human": panel_agreement(human_votes)
        if any(len(v) > 1 for v in human_votes.values())
        else None,
        "human_position": _human_position(humans, n_resamples, ci, np.random.default_rng(seed)),
        "judges": [],
        "bradley_terry": None,
    }
    single_reference = human_raters[0] if len(human_raters) == 1 else None
    has_systems = rows["model_a"].fillna("").ne("").all() and rows["model_b"].fillna("").ne("").all()
    rng = np.random.default_rng(seed)
    bt_people = None
    systems: list[str] = []
    if has_systems and len(humans):
        systems = sorted(set(rows["model_a"]) | set(rows["model_b"]))
        bt_people = _bt_with_ci(humans, systems, n_resamples, ci, rng)
        section["bradley_terry"] = {"systems": systems, "people": _public(bt_people), "judges": {}}
    for judge, jrows in judges.groupby("rater", sort=True):
        jrows = jrows.drop_duplicates("item", keep="last")
        jvotes = {str(i): [float(v)] for i, v in zip(jrows["item"], jrows["value"], strict=True)}
        items = [i for i in jrows["item"].astype(str) if i in majority]
        jv = jrows.set_index(jrows["item"].astype(str))["value"]
        kappa = cohen_kappa([jv[i] for i in items], [majority[i] for i in items], labels=list(LABELS))
        entry: dict[str, Any] = {
            "judge": str(judge),
            "n_pairs": len(jrows),
            "agreement": fastchat_agreement(jvotes, plain),
            "kappa_vs_majority": {"value": _r(kappa.value), "n": kappa.n_units, "reason": kappa.reason},
            "position": None,
            "order_accuracy": None,
        }
        entry["agreement"].update(_agreement_cis(jvotes, plain, n_resamples, ci, rng))
        ab, ba = jrows["ab"].to_numpy(dtype=float), jrows["ba"].to_numpy(dtype=float)
        if (~np.isnan(ab) | ~np.isnan(ba)).any():
            entry["position"] = position_stats(ab, ba)
            entry["position"].update(_position_cis(ab, ba, n_resamples, ci, rng))
            if single_reference is not None:
                gold = jrows["item"].astype(str).map(majority).to_numpy(dtype=float)
                keep = ~np.isnan(gold)
                entry["order_accuracy"] = {
                    "reference": single_reference,
                    **order_accuracy(ab[keep], ba[keep], gold[keep]),
                }
        if bt_people is not None and section["bradley_terry"] is not None:
            bt = _bt_with_ci(jrows, systems, n_resamples, ci, rng)
            x, y = bt_people["_estimate"], bt["_estimate"]
            ok = np.isfinite(x) & np.isfinite(y)
            rho = spearmanr(x[ok], y[ok]).statistic if ok.sum() >= 3 else None
            section["bradley_terry"]["judges"][str(judge)] = {
                **_public(bt),
                "spearman_vs_people": _r(rho),
                "n_systems": int(ok.sum()),
            }
        section["judges"].append(entry)
    return section


def _ratio_ci(
    numerator: np.ndarray, denominator: np.ndarray, n_resamples: int, ci: float, rng: np.random.Generator
) -> list[float | None] | None:
    """Percentile bootstrap CI of sum(numerator) / sum(denominator), resampling items."""
    n = len(numerator)
    if n == 0 or denominator.sum() == 0:
        return None
    pick = rng.integers(0, n, (n_resamples, n))
    num, den = numerator[pick].sum(axis=1), denominator[pick].sum(axis=1)
    reps = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    interval, _ = percentile_ci(reps, ci)
    return [_r(x) for x in interval] if interval else None


def _agreement_cis(
    judge: Mapping[str, Sequence[float]],
    people: Mapping[str, Sequence[float]],
    n_resamples: int,
    ci: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """CIs of FastChat's two agreements, resampling the judge's pairs with all their votes."""
    counts = []
    for item, xs in judge.items():
        pairs = [(a, b) for a in xs for b in people.get(item, ())]
        no_ties = [(a, b) for a, b in pairs if a != 0 and b != 0]
        counts.append(
            (sum(a == b for a, b in pairs), len(pairs), sum(a == b for a, b in no_ties), len(no_ties))
        )
    c = np.asarray(counts, dtype=float).reshape(-1, 4)
    return {
        "with_ties_ci": _ratio_ci(c[:, 0], c[:, 1], n_resamples, ci, rng),
        "without_ties_ci": _ratio_ci(c[:, 2], c[:, 3], n_resamples, ci, rng),
    }


def _position_cis(
    ab: np.ndarray, ba: np.ndarray, n_resamples: int, ci: float, rng: np.random.Generator
) -> dict[str, Any]:
    """CIs of position consistency and the first-slot share, resampling pairs."""
    both = ~np.isnan(ab) & ~np.isnan(ba)
    first = (ab == 1).astype(float) + (ba == -1).astype(float)
    decided = (~np.isnan(ab) & (ab != 0)).astype(float) + (~np.isnan(ba) & (ba != 0)).astype(float)
    return {
        "consistency_ci": _ratio_ci(
            (both & (ab == ba)).astype(float), both.astype(float), n_resamples, ci, rng
        ),
        "first_slot_share_ci": _ratio_ci(first.astype(float), decided, n_resamples, ci, rng),
    }


def _human_position(
    humans: pd.DataFrame, n_resamples: int, ci: float, rng: np.random.Generator
) -> dict[str, Any] | None:
    """People's first-slot share: of their non-tie verdicts in the order each was shown, the
    share for the response shown first (0.5 = no position bias; the order is seeded per rater
    and pair), with a CI resampling pairs with all their votes. None without a recorded order."""
    ab, ba = humans["ab"].to_numpy(dtype=float), humans["ba"].to_numpy(dtype=float)
    if not (~np.isnan(ab) | ~np.isnan(ba)).any():
        return None
    stats = position_stats(ab, ba)
    first = (ab == 1).astype(float) + (ba == -1).astype(float)
    decided = (~np.isnan(ab) & (ab != 0)).astype(float) + (~np.isnan(ba) & (ba != 0)).astype(float)
    per_pair = pd.DataFrame({"item": humans["item"].astype(str).to_numpy(), "f": first, "d": decided})
    sums = per_pair.groupby("item", sort=True)[["f", "d"]].sum()
    return {
        "first_slot_share": stats["first_slot_share"],
        "n_decided_verdicts": stats["n_decided_verdicts"],
        "n_shown_first_a": int((~np.isnan(ab)).sum()),
        "n_shown_first_b": int((~np.isnan(ba)).sum()),
        "first_slot_share_ci": _ratio_ci(sums["f"].to_numpy(), sums["d"].to_numpy(), n_resamples, ci, rng),
    }


def _public(bt: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bt.items() if not k.startswith("_")}
