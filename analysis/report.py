"""The concordance report: do the judges agree with people as well as people agree?

Input: the tidy ratings table of :mod:`analysis.tidy`. Output: a JSON-able
dict (schema below, ``schema_version`` 1), rendered to a self-contained HTML
page by :mod:`analysis.report_html`.

For each group ``(domain, level, criterion)``:

- **human-human**: Krippendorff's alpha (ordinal for step labels, rubric and
  trajectory ratings, nominal for first errors: :mod:`analysis.levels`) with a bootstrap CI,
  Gwet's AC1 over the declared scale, percent agreement (ties = equal values
  count as agreement), the number of units;
- **each judge against the humans**, against the human *majority* (step labels,
  first errors; a tied majority leaves the unit out, counted) or the human *mean*
  (rubric, trajectory): Cohen's kappa, AC1 and percent agreement with the
  confusion table; or Kendall's tau-b, Spearman's rho and ICC(A,1) / ICC(C,1).
  A judge that gives continuous step scores (e.g. an SPRM's P(step correct)) is
  compared through a reliability diagram against the majority label (correct =
  majority label 0 or +1, wrong = -1), Kendall's tau-b with the majority label,
  and its labels at threshold 0.5 (score >= 0.5 -> +1, else -1);
- **the gap**: mean pairwise alpha judge-human minus human-human, with a paired
  bootstrap CI (:func:`analysis.replacement.agreement_gap`);
- **the alternative-annotator test** when at least three humans rated
  (:func:`analysis.replacement.alt_test`; accuracy alignment for labels,
  negative RMSE for ratings).

Step-level CIs resample whole items (all steps of an item together).

JSON schema (``schema_version`` 1)::

    {
      "schema_version": 1,
      "title": str,
      "settings": {"ci": float, "n_resamples": int, "seed": int, "epsilon": float,
                   "q": float, "scales": {key: [float]}},
      "n_ratings": int, "domains": [str],
      "groups": [{
        "domain": str, "level": str, "criterion": str,
        "alpha_level": "nominal" | "ordinal",
        "categories": [float],
        "n_units": int, "n_items": int,
        "humans": [str], "judges": [str],
        "human_human": {"alpha": Result, "gwet_ac1": Result,
                        "percent_agreement": Result} | null,
        "human_human_reason": str | null,
        "judges_vs_humans": [{
          "judge": str, "continuous_scores": bool,
          "reference": "human majority" | "human mean",
          "n_units": int, "n_reference_ties": int,
          "statistics": {name: Result},     # see above, by level
          "confusion": {"labels": [str], "table": [[int]],
                        "rows": "judge", "cols": "human majority"} | null,
          "calibration": {"bin_edges", "mean_score", "share_correct", "count",
                          "ece", "n"} | null,
          "gap": Gap | null, "alt_test": AltTest | null,
          "reason": str | null
        }]
      }],
      "verdicts": [{
        "domain", "level", "criterion", "judge": str,
        "agreement": "better than people" | "as good as people" |
                     "worse than people" | null,
        "difference": float | null, "difference_ci": [float, float] | null,
        "alt_test_passed": bool | null, "winning_rate": float | null,
        "advantage_probability": float | null,
        "summary": str, "reason": str | null
      }]
    }

``Result`` is :meth:`analysis.result.AgreementResult.to_dict` (value, ci,
ci_method, n_units, n_dropped, reason, extra), ``Gap`` is
:meth:`analysis.replacement.AgreementGap.to_dict`, ``AltTest`` is
:meth:`analysis.replacement.AltTestResult.to_dict`. Floats are rounded to 6
decimals; undefined values are ``null`` with a reason beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.agreement import (
    cohen_kappa,
    gwet_ac1,
    icc,
    kendall,
    krippendorff_alpha,
    percent_agreement,
    spearman,
)
from analysis.calibration import reliability
from analysis.levels import ALPHA_LEVEL, CATEGORICAL, STEP_SCALE
from analysis.ratings import category_counts
from analysis.replacement import agreement_gap, alt_test
from analysis.tidy import HUMAN_KINDS, pivot, validate_tidy

__all__ = ["ALPHA_LEVEL", "Report", "ReportSettings", "build_report"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ReportSettings:
    """Knobs of a report.

    ``scales`` declares the category set per ``"level"`` or
    ``"level/criterion"`` key (AC1 depends on it); default: -1/0/+1 for step
    labels, the observed values otherwise. ``epsilon`` is the
    alternative-annotator test's cost-benefit margin (0.1: crowd workers,
    0.15 skilled, 0.2 experts). ``max_points`` caps the scatter points kept for
    the HTML page (a seeded sample).
    """

    ci: float = 0.95
    n_resamples: int = 1000
    seed: int = 0
    epsilon: float = 0.1
    q: float = 0.05
    scales: Mapping[str, Sequence[float]] = field(default_factory=dict)
    max_points: int = 3000


@dataclass
class Report:
    """``data`` is the JSON-able report; ``points`` holds scatter data for the HTML page."""

    data: dict[str, Any]
    points: dict[tuple[str, str, str, str], dict[str, list[float]]] = field(default_factory=dict)


def build_report(table: pd.DataFrame, *, title: str = "", settings: ReportSettings | None = None) -> Report:
    """Build the report of a tidy ratings table (see module docstring)."""
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
                "scales": {k: [float(v) for v in vs] for k, vs in settings.scales.items()},
            },
            "n_ratings": len(df),
            "domains": sorted(df["domain"].unique().tolist()),
            "groups": [],
            "verdicts": [],
        }
    )
    for (domain, level, criterion), rows in df.groupby(["domain", "level", "criterion"], sort=True):
        group, verdicts = _group(rows, str(domain), str(level), str(criterion), settings, report)
        report.data["groups"].append(group)
        report.data["verdicts"].extend(verdicts)
    return report


def _scale(level: str, criterion: str, observed: np.ndarray, settings: ReportSettings) -> np.ndarray:
    declared = settings.scales.get(f"{level}/{criterion}", settings.scales.get(level))
    if declared is None and level == "step_label":
        declared = STEP_SCALE
    base = np.asarray(declared if declared is not None else [], dtype=float)
    return np.unique(np.concatenate([base, observed]))


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
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kinds = rows.drop_duplicates("rater").set_index("rater")["rater_kind"]
    humans = sorted(kinds[kinds.isin(HUMAN_KINDS)].index)
    judges = sorted(kinds[kinds == "judge"].index)
    units = sorted(rows["unit"].unique())
    items = rows.drop_duplicates("unit").set_index("unit")["item"].reindex(units).to_numpy()
    clusters = items if level == "step_label" else None
    h = pivot(rows, humans, units) if humans else np.empty((0, len(units)))
    cats = _scale(level, criterion, np.unique(h[~np.isnan(h)]), settings)
    alpha_level = ALPHA_LEVEL[level]
    boot: dict[str, Any] = {"ci": settings.ci, "n_resamples": settings.n_resamples, "seed": settings.seed}
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
        "human_human": None,
        "human_human_reason": None,
        "judges_vs_humans": [],
    }
    if len(humans) >= 2:
        group["human_human"] = {
            "alpha": krippendorff_alpha(h, alpha_level, clusters=clusters, **boot).to_dict(),
            "gwet_ac1": gwet_ac1(h, categories=cats, clusters=clusters, **boot).to_dict(),
            "percent_agreement": percent_agreement(h, clusters=clusters, **boot).to_dict(),
        }
    else:
        group["human_human_reason"] = f"needs two human raters, has {len(humans)}"
    verdicts = []
    for judge in judges:
        detail = _judge(rows, judge, h, humans, units, clusters, level, cats, settings, boot)
        pts = detail.pop("_points", None)
        if pts is not None:
            report.points[(domain, level, criterion, judge)] = pts
        group["judges_vs_humans"].append(detail)
        verdicts.append(_verdict(domain, level, criterion, judge, detail, len(humans)))
    return group, verdicts


def _judge(
    rows: pd.DataFrame,
    judge: str,
    h: np.ndarray,
    humans: list[str],
    units: list[str],
    clusters: np.ndarray | None,
    level: str,
    cats: np.ndarray,
    settings: ReportSettings,
    boot: dict[str, Any],
) -> dict[str, Any]:
    j = pivot(rows, [judge], units)[0]
    observed = j[~np.isnan(j)]
    continuous = level == "step_label" and not np.isin(observed, STEP_SCALE).all()
    categorical = level in CATEGORICAL
    detail: dict[str, Any] = {
        "judge": judge,
        "continuous_scores": bool(continuous),
        "reference": "human majority" if categorical else "human mean",
        "n_units": int(np.sum(~np.isnan(j))),
        "n_reference_ties": 0,
        "statistics": {},
        "confusion": None,
        "calibration": None,
        "gap": None,
        "alt_test": None,
        "reason": None,
    }
    if not humans:
        detail["reason"] = "no human ratings to compare with"
        return detail
    stats: dict[str, Any] = detail["statistics"]
    # The judge's labels on the humans' scale (continuous scores thresholded at 0.5).
    labels = np.where(np.isnan(j), np.nan, np.where(j >= 0.5, 1.0, -1.0)) if continuous else j
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
            stats["kendall_score_vs_majority"] = kendall(j, ref, clusters=clusters, **boot).to_dict()
    else:
        ref = _human_mean(h)
        stats["kendall"] = kendall(j, ref, **boot).to_dict()
        stats["spearman"] = spearman(j, ref, **boot).to_dict()
        pair = np.vstack([j, ref])
        stats["icc_A1"] = icc(pair, "A,1", ci=settings.ci).to_dict()
        stats["icc_C1"] = icc(pair, "C,1", ci=settings.ci).to_dict()
    if continuous or not categorical:
        detail["_points"] = _sample_points(_human_mean(h), j, settings)
    if len(humans) >= 2:
        detail["gap"] = agreement_gap(
            h, labels, level=ALPHA_LEVEL[level], clusters=clusters, **boot
        ).to_dict()
    # Needs three humans: with fewer it returns no verdict and says why.
    detail["alt_test"] = alt_test(
        h,
        labels,
        epsilon=settings.epsilon,
        q=settings.q,
        alignment="accuracy" if categorical else "neg_rmse",
        annotator_names=humans,
    ).to_dict()
    return detail


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


def _verdict(
    domain: str, level: str, criterion: str, judge: str, detail: dict[str, Any], n_humans: int
) -> dict[str, Any]:
    gap = detail.get("gap") or {}
    aat = detail.get("alt_test") or {}
    agreement = gap.get("verdict")
    passed = aat.get("passed")
    reasons = [r for r in (detail.get("reason"), gap.get("reason"), aat.get("reason")) if r]
    if detail.get("reason"):
        summary = f"not enough data: {detail['reason']}"
    elif agreement is None:
        summary = f"not enough data: {gap.get('reason') or f'{n_humans} human rater(s)'}"
    else:
        summary = {
            "better than people": "agrees with people better than people agree with each other",
            "as good as people": "agrees with people as well as people agree with each other",
            "worse than people": "agrees with people less than people agree with each other",
        }[agreement]
        if passed is True:
            summary += "; passes the alternative-annotator test"
        elif passed is False:
            summary += "; fails the alternative-annotator test"
        else:
            summary += f"; alternative-annotator test not run ({aat.get('reason')})"
    return {
        "domain": domain,
        "level": level,
        "criterion": criterion,
        "judge": judge,
        "agreement": agreement,
        "difference": gap.get("difference"),
        "difference_ci": gap.get("difference_ci"),
        "alt_test_passed": passed,
        "winning_rate": aat.get("winning_rate"),
        "advantage_probability": aat.get("advantage_probability"),
        "summary": summary,
        "reason": "; ".join(reasons) if reasons else None,
    }
