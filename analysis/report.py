"""The concordance report: can the judges replace people here, and on what evidence?

Input: the tidy ratings table of :mod:`analysis.tidy`. Output: a JSON-able
dict (``schema_version`` 2, every field in ``docs/report.md``), rendered to a
self-contained HTML page by :mod:`analysis.report_html`.

For each group ``(domain, level, criterion)``:

- **the reliability gate**: human-human Krippendorff's alpha at the level's
  level of measurement (:mod:`analysis.levels`) with its CI and the number of
  units. Below ``min_human_alpha`` (default 0.667, Krippendorff's lowest level
  for tentative conclusions) no replacement verdict is given: the verdict
  names the unreliable reference, with the numbers, and what would fix it;
- **human-human** alpha, Gwet's AC1 over the declared scale and percent
  agreement (equal values count as agreement);
- **annotator competence** (three humans or more): Dawid-Skene accuracy and
  confusion matrix and MACE competence per human, likely spammers flagged,
  and the Dawid-Skene labels as a latent consensus (:mod:`analysis.competence`);
- **each judge against the humans**: against the human *majority* (step
  labels, first errors; a tied majority leaves the unit out, counted) with
  Cohen's kappa, AC1, percent agreement and the confusion table, or against
  the human *mean* (rubric, trajectory) with Kendall's tau-b, Spearman's rho
  and ICC(A,1) / ICC(C,1); and against the latent consensus. Judge output
  outside the declared scale is counted and, by ``out_of_scale``, left out
  (default), clipped to the scale, or kept. Continuous step scores (an SPRM's
  P(step correct)) get a reliability diagram and are labelled at 0.5 (>= 0.5
  -> +1, else -1) for the label statistics; continuous rubric scores (means of
  samples) are rounded half up to the nearest scale point for alpha only;
- **the gap**: mean pairwise alpha judge-human minus human-human, at the
  same level and on the same units (those the judge rated with two human
  ratings), with a paired bootstrap CI; every judge of a group uses the same
  resample matrix, so their gaps are paired too;
- **the alternative-annotator test** (three humans or more): epsilon from the
  settings, accuracy for labels and negative RMSE for ratings, Wilcoxon under
  30 instances, Benjamini-Yekutieli pooled over the domains of the study for
  each (level, criterion, judge) with "passes in X of Y domains", and the
  winning rate over epsilon 0..0.3. Where the human raters' ids are slots
  rather than people (``unstable_raters``) its premise does not hold: it is
  shown, not used for the verdict.

Pairwise studies add a ``pairwise`` section (:mod:`analysis.pairwise`):
FastChat's agreement with and without ties, kappa, position consistency and
bias, accuracy by order against a single reference, Bradley-Terry strengths.

Step-level CIs resample whole items (all steps of an item together).
``Result`` is :meth:`analysis.result.AgreementResult.to_dict`, ``Gap``
:meth:`analysis.replacement.AgreementGap.to_dict`, ``AltTest``
:meth:`analysis.replacement.AltTestResult.to_dict`. Floats are rounded to 6
decimals; undefined values are ``null`` with a reason beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.agreement import (
    cohen_kappa,
    gwet_ac1,
    icc,
    kendall,
    percent_agreement,
)
from analysis.bootstrap import unit_weights
from analysis.calibration import reliability
from analysis.competence import rater_competence
from analysis.correlation import rank_correlations
from analysis.gate import human_reliability
from analysis.levels import ALPHA_LEVEL, CATEGORICAL, STEP_SCALE
from analysis.pairwise import pairwise_section
from analysis.ppi import ppi_clustered_mean, ppi_mean
from analysis.ratings import category_counts
from analysis.replacement import AltTestResult, agreement_gap, alt_test, alt_test_pooled
from analysis.result import AgreementResult, undefined
from analysis.tidy import HUMAN_KINDS, pivot, validate_tidy

__all__ = ["ALPHA_LEVEL", "SCHEMA_VERSION", "Report", "ReportSettings", "build_report"]

SCHEMA_VERSION = 2
OutOfScale = Literal["exclude", "clip", "keep"]


@dataclass(frozen=True)
class ReportSettings:
    """Knobs of a report.

    ``scales`` declares the category set per ``"level"`` or
    ``"level/criterion"`` key (AC1 depends on it; out-of-scale judge output is
    judged against it); default: -1/0/+1 for step labels, the observed values
    otherwise. ``epsilon`` is the alternative-annotator test's cost-benefit
    margin (0.1: crowd workers, 0.15 skilled, 0.2 experts). ``min_human_alpha``
    is the reliability gate. ``out_of_scale``: what to do with judge output
    outside the declared scale. ``unstable_raters``: human rater ids that are
    slots, not people (the alternative-annotator test's premise fails on them).
    ``max_points`` caps the scatter points kept for the HTML page.
    ``inclusion``: for a study with active allocation, each allocated item's
    probability of a human label ({item: pi}), and ``drawn`` the items the draw
    sent to people; then the prediction-powered estimate is the active-inference
    one (:func:`analysis.active.active_mean_ci`) over the allocated items.
    """

    ci: float = 0.95
    n_resamples: int = 1000
    seed: int = 0
    epsilon: float = 0.1
    q: float = 0.05
    scales: Mapping[str, Sequence[float]] = field(default_factory=dict)
    min_human_alpha: float = 0.667
    out_of_scale: OutOfScale = "exclude"
    unstable_raters: frozenset[str] = frozenset()
    max_points: int = 3000
    inclusion: Mapping[str, float] = field(default_factory=dict)
    drawn: frozenset[str] = frozenset()


@dataclass
class Report:
    """``data`` is the JSON-able report; ``points`` holds scatter data for the HTML page."""

    data: dict[str, Any]
    points: dict[tuple[str, str, str, str], dict[str, list[float]]] = field(default_factory=dict)


def build_report(
    table: pd.DataFrame,
    *,
    title: str = "",
    settings: ReportSettings | None = None,
    pairwise: pd.DataFrame | None = None,
) -> Report:
    """Build the report of a tidy ratings table (see module docstring); ``pairwise``: the votes
    on pairs (:data:`analysis.pairwise.VOTE_COLUMNS`) for the ``pairwise`` section."""
    settings = settings or ReportSettings()
    df = validate_tidy(table)
    report = Report(
        data={
            "schema_version": SCHEMA_VERSION,
            "title": title,
            "settings": {
                "ci": settings.ci,
                "n_resamples": settings.n_resamples,
                "seed": settings.seed,
                "epsilon": settings.epsilon,
                "q": settings.q,
                "min_human_alpha": settings.min_human_alpha,
                "out_of_scale": settings.out_of_scale,
                "unstable_raters": sorted(settings.unstable_raters),
                "scales": {k: [float(v) for v in vs] for k, vs in settings.scales.items()},
            },
            "n_ratings": len(df),
            "domains": sorted(df["domain"].unique().tolist()),
            "groups": [],
            "verdicts": [],
            "alt_test_domains": [],
        }
    )
    tests: dict[tuple[str, str, str], list[tuple[dict[str, Any], AltTestResult]]] = {}
    for (domain, level, criterion), rows in df.groupby(["domain", "level", "criterion"], sort=True):
        group = _group(rows, str(domain), str(level), str(criterion), settings, report, tests)
        report.data["groups"].append(group)
    report.data["alt_test_domains"] = _pool_alt_tests(tests, settings)
    groups = report.data["groups"]
    report.data["verdicts"] = [_verdict(g, jd) for g in groups for jd in g["judges_vs_humans"]]
    report.data["pairwise"] = (
        pairwise_section(pairwise, n_resamples=settings.n_resamples, seed=settings.seed, ci=settings.ci)
        if pairwise is not None
        else []
    )
    return report


def _scale(
    level: str, criterion: str, observed: np.ndarray, settings: ReportSettings
) -> tuple[np.ndarray, bool]:
    """The category set (declared, plus observed human values) and whether it was declared."""
    declared = settings.scales.get(f"{level}/{criterion}", settings.scales.get(level))
    if declared is None and level == "step_label":
        declared = STEP_SCALE
    base = np.asarray(declared if declared is not None else [], dtype=float)
    return np.unique(np.concatenate([base, observed])), declared is not None


def _majority(h: np.ndarray, cats: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-unit majority of the humans (NaN where tied or unrated) and the tie count."""
    counts = category_counts(h, cats)
    top = counts.max(axis=1)
    n_top = (counts == top[:, None]).sum(axis=1)
    rated = top > 0
    ties = rated & (n_top > 1)
    maj = np.where(rated & ~ties, cats[counts.argmax(axis=1)], np.nan)
    return maj, int(ties.sum())


def _group(
    rows: pd.DataFrame,
    domain: str,
    level: str,
    criterion: str,
    settings: ReportSettings,
    report: Report,
    tests: dict[tuple[str, str, str], list[tuple[dict[str, Any], AltTestResult]]],
) -> dict[str, Any]:
    kinds = rows.drop_duplicates("rater").set_index("rater")["rater_kind"]
    humans = sorted(kinds[kinds.isin(HUMAN_KINDS)].index)
    judges = sorted(kinds[kinds == "judge"].index)
    units = sorted(rows["unit"].unique())
    items = rows.drop_duplicates("unit").set_index("unit")["item"].reindex(units).to_numpy()
    clusters = items if level == "step_label" else None
    everyone = pivot(rows, humans + judges, units)
    h = everyone[: len(humans)]
    cats, declared = _scale(level, criterion, np.unique(h[~np.isnan(h)]), settings)
    alpha_level = ALPHA_LEVEL[level]
    boot: dict[str, Any] = {"ci": settings.ci, "n_resamples": settings.n_resamples, "seed": settings.seed}
    weights = unit_weights(
        len(units), n_resamples=settings.n_resamples, seed=settings.seed, clusters=clusters
    )
    group: dict[str, Any] = {
        "domain": domain,
        "level": level,
        "criterion": criterion,
        "alpha_level": alpha_level,
        "categories": [float(c) for c in cats],
        "n_units": len(units),
        "n_items": len(set(items)),
        "humans": humans,
        "judges": judges,
        "human_reliability": human_reliability(
            h,
            humans,
            level,
            threshold=settings.min_human_alpha,
            weights=weights,
            ci=settings.ci,
            resampled="items" if clusters is not None else "units",
        ),
        "human_human": None,
        "human_human_reason": None,
        "competence": None,
        "judges_vs_humans": [],
    }
    if len(humans) >= 2:
        group["human_human"] = {
            "alpha": group["human_reliability"]["alpha"],
            "gwet_ac1": gwet_ac1(h, categories=cats, clusters=clusters, **boot).to_dict(),
            "percent_agreement": percent_agreement(h, clusters=clusters, **boot).to_dict(),
        }
    else:
        group["human_human_reason"] = f"needs two human raters, has {len(humans)}"
    consensus = None
    if len(humans) >= 3 and level != "first_error":
        comp = rater_competence(h, humans, cats.tolist())
        group["competence"] = comp.to_dict()
        if comp.reason is None and comp.bins is None:
            consensus = comp.consensus
    elif len(humans) >= 3:
        group["competence"] = {"reason": "first errors are step positions, not classes of one scale"}
    unstable = sorted(set(humans) & settings.unstable_raters)
    cache: dict[bytes, Any] = {}
    for judge, raw in zip(judges, everyone[len(humans) :], strict=True):
        detail = _judge(
            raw,
            judge,
            h,
            humans,
            clusters,
            level,
            criterion,
            cats,
            declared,
            settings,
            boot,
            weights,
            consensus,
            cache,
            items=items,
        )
        pts = detail.pop("_points", None)
        if pts is not None:
            report.points[(domain, level, criterion, judge)] = pts
        aat = detail.pop("_alt_test")
        if aat is not None:
            if unstable:
                aat = _with_premise(aat, unstable)
            tests.setdefault((level, criterion, judge), []).append((detail, aat))
        group["judges_vs_humans"].append(detail)
    return group


def _with_premise(aat: AltTestResult, unstable: list[str]) -> AltTestResult:
    import dataclasses

    return dataclasses.replace(
        aat,
        premise=(
            f"rater ids {', '.join(unstable)} are slots, not people (a different person may fill a slot on "
            "each item): the test leaves one annotator out at a time, so its premise does not hold here; "
            "its outcome is shown, not used for the verdict"
        ),
    )


def _out_of_scale(
    j: np.ndarray, level: str, cats: np.ndarray, declared: bool, policy: OutOfScale
) -> tuple[np.ndarray, dict[str, Any] | None]:
    """Judge values outside the declared scale: counted, then excluded, clipped or kept."""
    if level == "step_label":
        low, high = -1.0, 1.0
    elif level == "first_error":
        low, high = -1.0, np.inf
    elif declared:
        low, high = float(cats.min()), float(cats.max())
    else:
        return j, None
    outside = ~np.isnan(j) & ((j < low) | (j > high))
    info = {"count": int(outside.sum()), "policy": policy, "scale": [low, None if np.isinf(high) else high]}
    if policy == "exclude":
        j = np.where(outside, np.nan, j)
    elif policy == "clip":
        j = np.where(outside, np.clip(j, low, high), j)
    return j, info


def _judge(
    raw: np.ndarray,
    judge: str,
    h: np.ndarray,
    humans: list[str],
    clusters: np.ndarray | None,
    level: str,
    criterion: str,
    cats: np.ndarray,
    declared: bool,
    settings: ReportSettings,
    boot: dict[str, Any],
    weights: np.ndarray,
    consensus: np.ndarray | None,
    cache: dict[bytes, Any],
    *,
    items: np.ndarray,
) -> dict[str, Any]:
    j, out_of_scale = _out_of_scale(raw, level, cats, declared, settings.out_of_scale)
    observed = j[~np.isnan(j)]
    continuous = level == "step_label" and not np.isin(observed, STEP_SCALE).all()
    categorical = level in CATEGORICAL
    off_scale = not categorical and declared and not np.isin(observed, cats).all()
    detail: dict[str, Any] = {
        "judge": judge,
        "continuous_scores": bool(continuous or off_scale),
        "reference": "human majority" if categorical else "human mean",
        "n_units": int(np.sum(~np.isnan(j))),
        "n_reference_ties": 0,
        "out_of_scale": out_of_scale,
        "comparison": None,
        "statistics": {},
        "vs_latent_consensus": {},
        "confusion": None,
        "calibration": None,
        "gap": None,
        "alt_test": None,
        "ppi": None,
        "reason": None,
        "_alt_test": None,
    }
    if not humans:
        detail["reason"] = "no human ratings to compare with"
        return detail
    stats: dict[str, Any] = detail["statistics"]
    alpha_level = ALPHA_LEVEL[level]
    # The judge's values on the humans' scale, for alpha and the label statistics.
    if continuous:
        labels = np.where(np.isnan(j), np.nan, np.where(j >= 0.5, 1.0, -1.0))
        values_note = "continuous step scores, labelled at 0.5 (>= 0.5 -> +1, else -1) for alpha and labels"
    elif off_scale:
        labels = _round_to_scale(j, cats)
        values_note = (
            "scores between the scale's points (e.g. means of samples), rounded half up to the nearest "
            "point for alpha; Kendall, Spearman, ICC and the alternative-annotator test's RMSE use them "
            "as given"
        )
    else:
        labels = j
        values_note = "on the scale, used as given"
    reference = "the human majority label" if categorical else "the mean of the human ratings"
    detail["comparison"] = {
        "alpha_level": alpha_level,
        "reference": reference,
        "judge_values": values_note,
        "gap": (
            f"mean pairwise Krippendorff's alpha[{alpha_level}] of the judge with each human minus that "
            "among the humans, on the same units (rated by the judge and two humans)"
        ),
    }
    unit_w = weights
    if categorical:
        scale = np.unique(np.concatenate([cats, labels[~np.isnan(labels)]]))
        ref, ties = _majority(h, scale)
        detail["n_reference_ties"] = ties
        kappa = cohen_kappa(labels, ref, labels=list(scale), clusters=clusters, **boot)
        name = "cohen_kappa_at_0.5" if continuous else "cohen_kappa"
        stats[name] = kappa.to_dict()
        pair = np.vstack([labels, ref])
        stats["gwet_ac1"] = gwet_ac1(pair, categories=scale, clusters=clusters, **boot).to_dict()
        stats["percent_agreement"] = percent_agreement(pair, clusters=clusters, **boot).to_dict()
        table = kappa.extra.get("table")
        if table is not None:
            detail["confusion"] = {
                "labels": [f"{v:g}" for v in scale],
                "table": table,
                "rows": "judge",
                "cols": "human majority",
            }
        if continuous:
            correct = np.where(np.isnan(ref), np.nan, (ref > -1).astype(float))
            detail["calibration"] = reliability(np.clip(j, 0, 1), correct).to_dict()
            stats["kendall_score_vs_majority"] = kendall(j, ref, weights=unit_w, ci=settings.ci).to_dict()
        if consensus is not None:
            pair_c = np.vstack([labels, consensus])
            detail["vs_latent_consensus"] = {
                "percent_agreement": percent_agreement(pair_c, clusters=clusters, **boot).to_dict(),
                "cohen_kappa": cohen_kappa(
                    labels, consensus, labels=list(scale), clusters=clusters, **boot
                ).to_dict(),
            }
    else:
        ref = _human_mean(h)
        for name, res in rank_correlations(j, ref, weights=unit_w, ci=settings.ci).items():
            stats[name] = res.to_dict()
        pair = np.vstack([j, ref])
        stats["icc_A1"] = icc(pair, "A,1", ci=settings.ci).to_dict()
        stats["icc_C1"] = icc(pair, "C,1", ci=settings.ci).to_dict()
        if consensus is not None:
            detail["vs_latent_consensus"] = {
                "kendall": rank_correlations(
                    j, consensus, weights=unit_w, ci=settings.ci, methods=("kendall",)
                )["kendall"].to_dict()
            }
    if settings.inclusion:
        detail["ppi"] = _ppi_active(level, ref, labels if categorical else j, items, settings)
    else:
        detail["ppi"] = _ppi(level, ref, labels if categorical else j, clusters, settings.ci)
    if continuous or not categorical:
        detail["_points"] = _sample_points(_human_mean(h), j, settings)
    if len(humans) >= 2:
        detail["gap"] = agreement_gap(
            h,
            labels,
            level=alpha_level,
            ci=settings.ci,
            weights=unit_w,
            values=cats,
            cache=cache,
            clusters=clusters,
        ).to_dict()
    # Needs three humans: with fewer it returns no verdict and says why.
    detail["_alt_test"] = alt_test(
        h,
        labels if categorical else j,
        epsilon=settings.epsilon,
        q=settings.q,
        alignment="accuracy" if categorical else "neg_rmse",
        annotator_names=humans,
    )
    return detail


BINARY_INTERVAL = (
    "bonett-price-centred"  # analysis.ppi's interval for 0/1 labels (docs/results/ppi_coverage.md)
)

PPI_QUANTITY = {
    "step_label": "share of wrong steps (human majority -1)",
    "first_error": "share of traces with an error (human majority first error >= 0)",
    "rubric": "mean human rating",
    "trajectory": "mean human rating",
    "pairwise": "mean human preference (+1 A, -1 B, 0 tie; the majority per pair)",
}


def _targets(level: str, ref: np.ndarray, judged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The human quantity per unit (y) and the judge's (yhat) of a level, NaN kept."""
    if level == "step_label":
        return np.where(np.isnan(ref), np.nan, ref == -1), (judged == -1).astype(float)
    if level == "first_error":
        return np.where(np.isnan(ref), np.nan, ref >= 0), (judged >= 0).astype(float)
    return ref, judged


def _ppi_active(
    level: str, ref: np.ndarray, judged: np.ndarray, items: np.ndarray, settings: ReportSettings
) -> dict[str, Any]:
    """The active-inference estimate of the level's human quantity (``settings.inclusion``).

    Every unit of an item the judge rated and the allocation gave a probability is in
    the population (items never allocated are left out: an allocation covers the
    study's real items). A unit is labelled when a person labelled it; a drawn item
    with no human label yet counts as not drawn, which is exact only once every drawn
    item is labelled: ``extra.drawn_unlabelled`` says how many are not, and
    ``extra.complete`` whether the estimate is final. Steps are clustered by item.
    """
    from analysis.active import active_mean_ci

    quantity = PPI_QUANTITY[level]
    statistic = "active_mean"
    pi = np.array([settings.inclusion.get(str(i), np.nan) for i in items], dtype=float)
    ok = ~np.isnan(judged) & ~np.isnan(pi)
    y, yhat = _targets(level, ref, judged)
    drawn = np.array([str(i) in settings.drawn for i in items], dtype=bool)
    labelled = ok & drawn & ~np.isnan(ref)  # a person's label on an item not drawn is not used
    drawn_items = {str(i) for i in items[ok & drawn]}
    labelled_items = {str(i) for i in items[labelled]}
    unlabelled = len(drawn_items - labelled_items)
    if labelled.sum() < 2:
        res = undefined(
            statistic,
            f"fewer than 2 human-labelled units ({int(labelled.sum())})",
            n_units=int(labelled.sum()),
        )
        return {"quantity": quantity, "method": "active", **res.to_dict()}
    clusters = items[ok] if level == "step_label" else None
    est = active_mean_ci(
        np.where(labelled, y, np.nan)[ok],
        yhat[ok],
        labelled[ok],
        pi[ok],
        alpha=1 - settings.ci,
        clusters=clusters,
    )
    level_pct = round(settings.ci * 100, 3)
    res = AgreementResult(
        statistic=statistic,
        value=est.estimate,
        n_units=int(labelled.sum()),
        ci=(est.low, est.high),
        ci_method=f"{level_pct:g}% normal interval, active inference (inverse-probability weights)",
        extra={
            "lambda": est.lam,
            "n_population": int(ok.sum()),
            "classical_value": est.human_only_estimate,
            "classical_ci": [est.human_only_low, est.human_only_high],
            "n_effective": est.effective_n,
            "width_ratio": (est.high - est.low) / (est.human_only_high - est.human_only_low)
            if est.human_only_high > est.human_only_low
            else None,
            "drawn_unlabelled": unlabelled,
            "complete": unlabelled == 0,
        },
    )
    return {"quantity": quantity, "method": "active", **res.to_dict()}


def _ppi(
    level: str, ref: np.ndarray, judged: np.ndarray, clusters: np.ndarray | None, ci: float
) -> dict[str, Any]:
    """The prediction-powered estimate of the human quantity of a level (:mod:`analysis.ppi`).

    ``ref`` is the human reference per unit (majority or mean; NaN where no
    person rated the unit or the majority tied), ``judged`` the judge's value
    on the humans' scale. Units the judge left unrated are left out; units
    rated by the judge and no human are the unlabelled side. Steps are
    clustered by trace: a trace is human-labelled when a person labelled any
    of its steps (its tied-majority steps are left out).
    """
    quantity = PPI_QUANTITY[level]
    ok = ~np.isnan(judged)
    y, yhat = _targets(level, ref, judged)  # y is read only where a person labelled the unit
    has_human = ~np.isnan(ref)
    if level == "step_label" and clusters is not None:
        labelled_items = set(clusters[ok & has_human].tolist())
        in_lab = np.isin(clusters, list(labelled_items))
        lab = ok & in_lab & has_human
        unl = ok & ~in_lab
        if lab.sum() == 0 or unl.sum() == 0:
            res = ppi_mean(y[lab], yhat[lab], yhat[unl], alpha=1 - ci)
        else:
            res = ppi_clustered_mean(y[lab], yhat[lab], clusters[lab], yhat[unl], clusters[unl], alpha=1 - ci)
    else:
        # A share of traces with an error: both sides 0/1, so the interval is the adjusted one
        # (Bonett-Price at lambda 1, Agresti-Coull at 0), chosen by simulation; on BIG-Bench
        # Mistake it never under-covered, and over-covered at 60 labels (ppi_coverage.md).
        binary = BINARY_INTERVAL if level == "first_error" else None
        lab = ok & has_human
        res = ppi_mean(y[lab], yhat[lab], yhat[ok & ~has_human], alpha=1 - ci, binary=binary)
    return {"quantity": quantity, **res.to_dict()}


def _round_to_scale(j: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Each value to the nearest scale point, ties up (3.5 -> 4 on 1..5)."""
    idx = np.searchsorted(cats, np.nan_to_num(j), side="left")
    lower = cats[np.clip(idx - 1, 0, cats.size - 1)]
    upper = cats[np.clip(idx, 0, cats.size - 1)]
    nearest = np.where(np.abs(j - lower) < np.abs(upper - j), lower, upper)
    return np.where(np.isnan(j), np.nan, nearest)


def _pool_alt_tests(
    tests: dict[tuple[str, str, str], list[tuple[dict[str, Any], AltTestResult]]], settings: ReportSettings
) -> list[dict[str, Any]]:
    """One Benjamini-Yekutieli step per (level, criterion, judge) over all its domains."""
    summary = []
    for (level, criterion, judge), entries in sorted(tests.items()):
        pooled = alt_test_pooled([a for _, a in entries], q=settings.q)
        ran = [(d, a) for (d, _), a in zip(entries, pooled, strict=True) if a.winning_rate is not None]
        for (detail, _), result in zip(entries, pooled, strict=True):
            detail["alt_test"] = result.to_dict()
        if ran:
            n_pass = sum(bool(a.passed) for _, a in ran)
            summary.append(
                {
                    "level": level,
                    "criterion": criterion,
                    "judge": judge,
                    "domains_tested": len(ran),
                    "domains_passed": n_pass,
                    "summary": f"passes in {n_pass} of {len(ran)} domain(s)",
                    "fdr_family": ran[0][1].fdr_family,
                    "premise": ran[0][1].premise,
                }
            )
    return summary


def _human_mean(h: np.ndarray) -> np.ndarray:
    n = np.sum(~np.isnan(h), axis=0)
    total = np.nansum(h, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / n, np.nan)


def _sample_points(human: np.ndarray, judge: np.ndarray, settings: ReportSettings) -> dict[str, list[float]]:
    idx = np.flatnonzero(~(np.isnan(human) | np.isnan(judge)))
    if idx.size > settings.max_points:
        rng = np.random.default_rng(settings.seed)
        idx = np.sort(rng.choice(idx, settings.max_points, replace=False))
    return {"human": human[idx].tolist(), "judge": judge[idx].tolist()}


_AGREEMENT_TEXT = {
    "better than people": "agrees with people better than people agree with each other",
    "as good as people": "agrees with people as well as people agree with each other",
    "worse than people": "agrees with people less than people agree with each other",
}


def _verdict(group: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    gap = detail.get("gap") or {}
    aat = detail.get("alt_test") or {}
    gate = group["human_reliability"]
    n_humans = len(group["humans"])
    agreement = gap.get("verdict")
    passed = aat.get("passed")
    reasons = [r for r in (detail.get("reason"), gap.get("reason"), aat.get("reason")) if r]
    if aat.get("premise"):
        reasons.append(aat["premise"])
        passed = None
    if detail.get("reason"):
        summary = f"not enough data: {detail['reason']}"
    elif not gate["reliable"] and n_humans >= 2:
        summary = f"no verdict: {gate['reason']}"
        reasons.insert(0, gate["reason"])
        agreement, passed = None, None
    elif agreement is None:
        summary = f"not enough data: {gap.get('reason') or f'{n_humans} human rater(s)'}"
    else:
        summary = _AGREEMENT_TEXT[agreement]
        if passed is True:
            summary += "; passes the alternative-annotator test"
        elif passed is False:
            summary += "; fails the alternative-annotator test"
        elif aat.get("premise"):
            summary += "; alternative-annotator test not used (rater ids are slots, not people)"
        else:
            summary += f"; alternative-annotator test not run ({aat.get('reason')})"
    oos = detail.get("out_of_scale") or {}
    if oos.get("count"):
        reasons.append(f"{oos['count']} judge rating(s) outside the scale ({oos['policy']})")
    return {
        "domain": group["domain"],
        "level": group["level"],
        "criterion": group["criterion"],
        "judge": detail["judge"],
        "human_alpha": (gate.get("alpha") or {}).get("value"),
        "reliable_reference": gate["reliable"],
        "agreement": agreement,
        "difference": gap.get("difference") if agreement else None,
        "difference_ci": gap.get("difference_ci") if agreement else None,
        "alt_test_passed": passed,
        "winning_rate": aat.get("winning_rate"),
        "advantage_probability": aat.get("advantage_probability"),
        "summary": summary,
        "reason": "; ".join(reasons) if reasons else None,
    }
