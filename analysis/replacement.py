"""Can the judge replace a person?

Two answers, both over the same human ratings:

1. :func:`alt_test`: the Alternative Annotator Test of Calderon, Reichart &
   Dror (2025), "The Alternative Annotator Test for LLM-as-a-Judge: How to
   Statistically Justify Replacing Human Annotators with LLMs" (ACL 2025,
   arXiv 2501.10970). Leave each human annotator ``j`` out in turn. On every
   instance ``i`` that ``j`` rated (with at least one other human), score the
   alignment of the judge with the *other* humans, ``S(f, i, j)``, and that of
   ``j`` with them, ``S(h_j, i, j)`` (``"accuracy"``: the share of the other
   humans with the same label; ``"neg_rmse"``: minus the root mean squared
   difference to them, for scores). Indicators ``W^f_i = [S(f) >= S(h_j)]``,
   ``W^h_i = [S(h_j) >= S(f)]``; advantage probabilities ``rho^f_j = mean W^f``,
   ``rho^h_j = mean W^h``. Test ``H0: rho^f_j <= rho^h_j - epsilon`` against
   ``H1: rho^f_j > rho^h_j - epsilon`` with the paper's one-sided paired
   **t-test** on ``d_i = W^h_i - W^f_i - epsilon`` (mean < 0 under H1); the
   paper recommends 30+ instances per annotator for the t-test's normality:
   with fewer, the Wilcoxon signed-rank test is used (the authors' FAQ) and
   flagged. The p-values across annotators (pooled over the domains of a
   study: :func:`alt_test_pooled`) are corrected with the
   Benjamini-Yekutieli procedure at ``q``; the judge "wins" against ``j`` when
   ``H0`` is rejected. The winning rate ``omega`` is the share of annotators
   it wins against; the judge passes when ``omega >= 0.5``. The average
   advantage probability ``rho = mean_j rho^f_j`` compares judges. The paper
   asks for at least three annotators (two give no consensus signal). The
   cost-benefit margin ``epsilon``: their rule of thumb is 0.2 for experts, 0.15
   for skilled annotators, 0.1 for crowd workers.

2. :func:`agreement_gap`: the plain comparison. Mean pairwise Krippendorff
   alpha of the judge with each human against the mean pairwise alpha among
   the humans, with a paired bootstrap CI of the difference (the same
   resampled units for both sides).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from analysis.alpha import Level, _alpha_from_coincidences, alpha_features
from analysis.bootstrap import grouped_sums, percentile_ci, unit_weights
from analysis.ratings import as_ratings_matrix, nominal_codes

__all__ = [
    "EPSILON_GRID",
    "AgreementGap",
    "AltTestResult",
    "AnnotatorComparison",
    "agreement_gap",
    "alt_test",
    "alt_test_pooled",
    "benjamini_yekutieli",
]

Alignment = Literal["accuracy", "neg_rmse"]


def benjamini_yekutieli(p_values: Sequence[float], q: float = 0.05) -> np.ndarray:
    """Rejections of the Benjamini-Yekutieli (2001) step-up procedure at FDR ``q``.

    Valid under arbitrary dependence: reject the ``k`` smallest p-values, ``k``
    the largest with ``p_(k) <= k q / (m c_m)``, ``c_m = sum_{i<=m} 1/i``.
    NaN p-values are never rejected.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    reject = np.zeros(m, dtype=bool)
    if m == 0:
        return reject
    c_m = np.sum(1.0 / np.arange(1, m + 1))
    order = np.argsort(np.where(np.isnan(p), np.inf, p))
    thresholds = np.arange(1, m + 1) * q / (m * c_m)
    below = np.flatnonzero(p[order] <= thresholds)
    if below.size:
        reject[order[: below.max() + 1]] = True
    return reject


EPSILON_GRID: tuple[float, ...] = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


@dataclass(frozen=True)
class AnnotatorComparison:
    """The judge against one left-out annotator.

    ``test`` is the one-sided test used: the paper's t-test, or the Wilcoxon
    signed-rank test below ``min_instances`` (the authors' advice for fewer
    than 30 instances). ``p_values_grid`` holds the p-value at each epsilon of
    the result's ``epsilons``.
    """

    annotator: str
    n_instances: int
    rho_judge: float | None
    rho_human: float | None
    p_value: float | None
    won: bool
    note: str | None = None
    test: str | None = None
    p_values_grid: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class AltTestResult:
    """Outcome of :func:`alt_test`.

    ``winning_rate`` (omega) and ``passed`` are None with a ``reason`` when the
    test does not apply (too few annotators or instances).
    ``winning_rate_grid[k]`` is omega at ``epsilons[k]``, with the same FDR
    family. ``fdr_family`` says which p-values were corrected together (this
    group's annotators, or pooled over the domains of a study by
    :func:`alt_test_pooled`). ``premise`` is set when the test's premise does
    not hold (e.g. rater ids that are slots, not people).
    """

    epsilon: float
    q: float
    alignment: str
    winning_rate: float | None
    passed: bool | None
    advantage_probability: float | None
    annotators: list[AnnotatorComparison] = field(default_factory=list)
    reason: str | None = None
    epsilons: tuple[float, ...] = EPSILON_GRID
    winning_rate_grid: tuple[float | None, ...] = ()
    fdr_family: str = "the annotators of this group"
    premise: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "q": self.q,
            "alignment": self.alignment,
            "winning_rate": _r(self.winning_rate),
            "passed": self.passed,
            "advantage_probability": _r(self.advantage_probability),
            "reason": self.reason,
            "fdr_family": self.fdr_family,
            "premise": self.premise,
            "epsilon_grid": [
                {"epsilon": e, "winning_rate": _r(w)}
                for e, w in zip(self.epsilons, self.winning_rate_grid, strict=True)
            ],
            "annotators": [
                {
                    "annotator": a.annotator,
                    "n_instances": a.n_instances,
                    "rho_judge": _r(a.rho_judge),
                    "rho_human": _r(a.rho_human),
                    "p_value": _r(a.p_value),
                    "test": a.test,
                    "won": a.won,
                    "note": a.note,
                }
                for a in self.annotators
            ],
        }


def _r(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 6)


def _one_sided_p(d: np.ndarray, epsilons: Sequence[float], test: str) -> list[float]:
    """p-values of H0: mean(d) >= epsilon against H1: mean(d) < epsilon, d = W_h - W_f, per epsilon.

    The t-test is scipy's ``ttest_1samp(d, epsilon, alternative="less")``
    (the reference's), written out so one call serves the whole epsilon grid.
    """
    n = d.size
    eps = np.asarray(epsilons, dtype=float)
    sd = float(np.std(d, ddof=1)) if n > 1 else 0.0
    if sd == 0:
        # No variance: the statistic is undefined; the sign decides (as scipy's t-test does).
        return [0.0 if d[0] - e < 0 else 1.0 for e in eps]
    if test == "t":
        return [float(p) for p in stats.t.cdf((d.mean() - eps) / (sd / np.sqrt(n)), n - 1)]
    out = []
    for e in eps:
        z = d - e
        out.append(float(stats.wilcoxon(z, alternative="less").pvalue) if np.any(z != 0) else 1.0)
    return out


def alt_test(
    humans: Any,
    judge: Any,
    *,
    epsilon: float = 0.1,
    alignment: Alignment = "accuracy",
    q: float = 0.05,
    annotator_names: Sequence[str] | None = None,
    min_annotators: int = 3,
    min_instances: int = 30,
    epsilons: Sequence[float] = EPSILON_GRID,
) -> AltTestResult:
    """The Alternative Annotator Test (see the module docstring).

    Follows the authors' reference implementation (github nitaytech/AltTest,
    ``alt_test``): instances need two human labels and a judge label; each
    annotator is left out in turn and scored, with the judge, against the
    remaining humans on the instances it labelled; ``d_i = W^h_i - W^f_i``;
    one-sided one-sample t-test of ``mean(d) < epsilon``; Benjamini-Yekutieli
    over the annotators; omega = rejections / annotators tested.
    Where the reference skips an annotator with fewer than 30 instances, this
    implementation tests it with the Wilcoxon signed-rank test, as the
    authors' FAQ advises, and flags it.

    Parameters
    ----------
    humans : array-like, shape (annotators, instances)
        Human labels or scores, ``None``/NaN where an annotator did not rate;
        labels may be strings for ``"accuracy"``.
    judge : array-like, shape (instances,)
        The judge's labels or scores (NaN where it gave none; those instances are left out).
    epsilon : float
        Cost-benefit margin (0.1 crowd, 0.15 skilled, 0.2 experts).
    alignment : {"accuracy", "neg_rmse"}
        Per-instance alignment with the other annotators: share of equal
        labels, or minus the root mean squared difference of scores.
    q : float
        False discovery rate of the Benjamini-Yekutieli correction.
    min_annotators : int
        The paper's minimum of three annotators.
    min_instances : int
        Below this many instances an annotator is tested with the Wilcoxon
        signed-rank test instead of the t-test (noted).
    epsilons : sequence of float
        The grid of margins at which the winning rate is also reported.
    """
    if alignment not in ("accuracy", "neg_rmse"):
        raise ValueError("alignment must be 'accuracy' or 'neg_rmse'")
    if alignment == "accuracy":
        coded, _, _ = nominal_codes(
            np.vstack([np.asarray(humans, dtype=object), np.asarray(judge, dtype=object)[None]])
        )
        h, f = coded[:-1], coded[-1]
    else:
        h = as_ratings_matrix(humans)
        f = _scores(judge)
    if f.shape != (h.shape[1],):
        raise ValueError("judge must have one rating per instance (humans is annotators x instances)")
    names = list(annotator_names) if annotator_names is not None else [str(i) for i in range(h.shape[0])]
    if len(names) != h.shape[0]:
        raise ValueError("annotator_names must name every annotator")
    grid = tuple(float(e) for e in epsilons)
    active = [j for j in range(h.shape[0]) if np.any(~np.isnan(h[j]))]
    if len(active) < min_annotators:
        return AltTestResult(
            epsilon=epsilon,
            q=q,
            alignment=alignment,
            winning_rate=None,
            passed=None,
            advantage_probability=None,
            reason=f"needs at least {min_annotators} human annotators, has {len(active)}",
            epsilons=grid,
            winning_rate_grid=(None,) * len(grid),
        )
    kept = (np.sum(~np.isnan(h), axis=0) >= 2) & ~np.isnan(f)
    comparisons: list[AnnotatorComparison] = []
    for j in active:
        ok = kept & ~np.isnan(h[j])
        n = int(ok.sum())
        if n == 0:
            comparisons.append(
                AnnotatorComparison(
                    names[j],
                    0,
                    None,
                    None,
                    None,
                    False,
                    "no instance to compare on",
                    None,
                    (None,) * len(grid),
                )
            )
            continue
        others = np.delete(h, j, axis=0)[:, ok]
        s_f = _alignment(f[ok], others, alignment)
        s_h = _alignment(h[j, ok], others, alignment)
        w_f = (s_f >= s_h).astype(float)
        w_h = (s_h >= s_f).astype(float)
        d = w_h - w_f
        test = "t" if n >= min_instances else "wilcoxon"
        note = None if test == "t" else f"fewer than {min_instances} instances: Wilcoxon signed-rank test"
        p_values = _one_sided_p(d, [epsilon, *grid], test)
        comparisons.append(
            AnnotatorComparison(
                names[j],
                n,
                float(w_f.mean()),
                float(w_h.mean()),
                p_values[0],
                False,
                note,
                "one-sided t-test" if test == "t" else "Wilcoxon signed-rank",
                tuple(p_values[1:]),
            )
        )
    tested = AltTestResult(
        epsilon=epsilon,
        q=q,
        alignment=alignment,
        winning_rate=None,
        passed=None,
        advantage_probability=None,
        annotators=comparisons,
        epsilons=grid,
    )
    return alt_test_pooled([tested], q=q)[0]


def alt_test_pooled(
    results: Sequence[AltTestResult], *, q: float, family: str | None = None
) -> list[AltTestResult]:
    """Benjamini-Yekutieli over every annotator of ``results`` at once.

    The authors' advice for several domains: one FDR step over all domain x
    annotator p-values, then a winning rate per domain ("passes in X of Y
    domains"). Results that did not run (``reason`` set, no annotators) are
    returned as they are. Applied at ``epsilon`` and at each grid epsilon.
    """
    live = [i for i, r in enumerate(results) if r.annotators and r.reason is None]
    out = list(results)
    if not live:
        return out
    flat = [(i, k) for i in live for k in range(len(results[i].annotators))]

    def p_at(i: int, k: int, e: int | None) -> float:
        a = results[i].annotators[k]
        p = a.p_value if e is None else a.p_values_grid[e]
        return np.nan if p is None else p

    reject = benjamini_yekutieli([p_at(i, k, None) for i, k in flat], q)
    grid_len = len(results[live[0]].epsilons)
    reject_grid = [benjamini_yekutieli([p_at(i, k, e) for i, k in flat], q) for e in range(grid_len)]
    won = {ik: bool(r) for ik, r in zip(flat, reject, strict=True)}
    won_grid = [{ik: bool(r) for ik, r in zip(flat, rg, strict=True)} for rg in reject_grid]
    text = family or (
        "the annotators of this group"
        if len(live) == 1
        else f"pooled over {len(live)} groups ({len(flat)} annotators)"
    )
    for i in live:
        r = results[i]
        n = len(r.annotators)
        annotators = [dataclasses.replace(a, won=won[(i, k)]) for k, a in enumerate(r.annotators)]
        omega = sum(a.won for a in annotators) / n
        rhos = [a.rho_judge for a in annotators if a.rho_judge is not None]
        out[i] = dataclasses.replace(
            r,
            annotators=annotators,
            winning_rate=omega,
            passed=omega >= 0.5,
            advantage_probability=float(np.mean(rhos)) if rhos else None,
            winning_rate_grid=tuple(sum(wg[(i, k)] for k in range(n)) / n for wg in won_grid),
            fdr_family=text,
        )
    return out


def _scores(v: Any) -> np.ndarray:
    """A judge's ratings as floats, NaN for ``None`` (a float array is used as it is)."""
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v
    return np.asarray([np.nan if e is None else e for e in np.asarray(v, dtype=object)], float)


def _alignment(source: np.ndarray, others: np.ndarray, kind: str) -> np.ndarray:
    """Alignment of ``source`` (n,) with ``others`` (k, n), averaged over the raters present."""
    present = ~np.isnan(others)
    count = present.sum(axis=0)
    if kind == "accuracy":
        same = np.where(present, others == source[None, :], False).sum(axis=0)
        return same / count
    sq = np.where(present, (others - source[None, :]) ** 2, 0.0).sum(axis=0)
    return -np.sqrt(sq / count)


@dataclass(frozen=True)
class AgreementGap:
    """Judge-human against human-human agreement (pairwise Krippendorff alpha).

    ``verdict`` is ``"better than people"`` when the CI of the difference lies
    above 0, ``"worse than people"`` below 0, ``"as good as people"`` when it
    covers 0, or None with ``reason`` when undefined.
    """

    level: str
    human_human: float | None
    human_human_ci: tuple[float, float] | None
    judge_human: float | None
    judge_human_ci: tuple[float, float] | None
    difference: float | None
    difference_ci: tuple[float, float] | None
    n_units: int
    n_humans: int
    ci_method: str | None
    verdict: str | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        def ci(c: tuple[float, float] | None) -> list[float | None] | None:
            return None if c is None else [_r(c[0]), _r(c[1])]

        return {
            "statistic": f"mean pairwise krippendorff_alpha[{self.level}]",
            "human_human": _r(self.human_human),
            "human_human_ci": ci(self.human_human_ci),
            "judge_human": _r(self.judge_human),
            "judge_human_ci": ci(self.judge_human_ci),
            "difference": _r(self.difference),
            "difference_ci": ci(self.difference_ci),
            "n_units": self.n_units,
            "n_humans": self.n_humans,
            "ci_method": self.ci_method,
            "verdict": self.verdict,
            "reason": self.reason,
        }


def _pair_alphas(
    x: np.ndarray,
    pairs: list[tuple[int, int]],
    values: np.ndarray | None,
    level: str,
    weights: np.ndarray,
    unit_index: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Alpha of each rater pair (rows of ``x``) on the data, shape (P,), and on every weighted
    resample, shape (B, P).

    A unit both raters rated adds 1 to the coincidence cells (a, b) and (b, a);
    a replicate's coincidence matrix is the weighted histogram of those cells,
    and all pairs' histograms come from one pass over ``weights``
    (:func:`analysis.bootstrap.grouped_sums`). Without ``values`` (continuous
    interval scores) the closed form's four sums per unit. ``unit_index[u]`` is
    the column of ``weights`` of unit ``u`` of ``x`` (default ``u``).
    """
    if values is None:
        w = weights if unit_index is None else weights[:, unit_index]
        points, reps = [], []
        for i, k in pairs:
            feats = alpha_features(x[[i, k]], "interval")
            points.append(feats.alpha(feats.features.sum(axis=0))[0])
            reps.append(feats.alpha(w @ feats.features))
        return np.array(points), np.stack(reps, axis=1)
    v = values.size
    cells, units = [], []
    for p, (i, k) in enumerate(pairs):
        both = np.flatnonzero(~np.isnan(x[i]) & ~np.isnan(x[k]))
        a = np.searchsorted(values, x[i, both])
        b = np.searchsorted(values, x[k, both])
        cells.append(p * v * v + a * v + b)
        units.append(both)
    codes, rows = np.concatenate(cells), np.concatenate(units)
    n_codes = len(pairs) * v * v
    point = grouped_sums(np.ones((1, x.shape[1])), codes, n_codes, rows)
    columns = rows if unit_index is None else unit_index[rows]
    sums = np.vstack([point, grouped_sums(weights, codes, n_codes, columns)]).reshape(-1, len(pairs), v, v)
    sums = sums + sums.transpose(0, 1, 3, 2)
    alphas = _alpha_from_coincidences(sums.reshape(-1, v, v), values, level).reshape(-1, len(pairs))
    return alphas[0], alphas[1:]


def agreement_gap(
    humans: Any,
    judge: Any,
    *,
    level: Level = "nominal",
    ci: float = 0.95,
    n_resamples: int = 1000,
    seed: int | None = 0,
    clusters: Any = None,
    weights: np.ndarray | None = None,
    values: Any = None,
    cache: dict[bytes, tuple[float, np.ndarray]] | None = None,
) -> AgreementGap:
    """Mean pairwise alpha judge-human minus mean pairwise alpha human-human.

    Like with like: both sides use the same level and the same units, those
    the judge rated that carry at least two human ratings.

    Parameters
    ----------
    humans : array-like, shape (humans, units)
        At least two humans; ``None``/NaN for missing.
    judge : array-like, shape (units,)
    level : {"nominal", "ordinal", "interval", "ratio"}
    ci, n_resamples, seed, clusters
        Paired percentile bootstrap over units (or clusters): every replicate
        recomputes all pairwise alphas on the same resampled units.
    weights : ndarray, shape (n_resamples, units), optional
        The resample counts to use (:func:`analysis.bootstrap.unit_weights`),
        shared with other judges of the same group: their gaps are then paired too.
    values : array-like, optional
        The value domain (the declared scale); default the observed values.
    cache : dict, optional
        Human-human replicates by unit set, reused across the judges of a group.
    """
    h = as_ratings_matrix(humans)
    f = _scores(judge)
    if f.shape != (h.shape[1],):
        raise ValueError("judge must have one rating per unit (humans is humans x units)")
    n_humans = h.shape[0]
    same = ~np.isnan(f) & (np.sum(~np.isnan(h), axis=0) >= 2)
    n_units = int(same.sum())

    def empty(reason: str) -> AgreementGap:
        return AgreementGap(level, None, None, None, None, None, None, n_units, n_humans, None, None, reason)

    if n_humans < 2:
        return empty("needs at least two humans")
    if n_units == 0:
        return empty("no unit rated by the judge and two humans")
    x = np.vstack([h[:, same], f[None, same]])
    observed = np.unique(x[~np.isnan(x)])
    domain: np.ndarray | None = (
        observed if values is None else np.union1d(np.asarray(values, dtype=float), observed)
    )
    assert domain is not None
    if level == "interval" and domain.size > 50:
        domain = None  # continuous scores: the closed form
    elif domain.size > 200:
        return empty(
            f"{domain.size} distinct values: too many for pairwise {level} alpha; round them to the scale"
        )
    if weights is None:
        weights = unit_weights(h.shape[1], n_resamples=n_resamples, seed=seed, clusters=clusters)
    w = np.asarray(weights, dtype=float)
    columns = np.flatnonzero(same)
    key = same.tobytes() + (b"" if domain is None else domain.tobytes()) + level.encode()
    if cache is not None and key in cache:
        hh0, hh_r = cache[key]
    else:
        hh_point, hh_reps = _pair_alphas(
            x, list(itertools.combinations(range(n_humans), 2)), domain, level, w
        )
        hh0, hh_r = float(_nanmean(hh_point[None])[0]), _nanmean(hh_reps)
        if cache is not None:
            cache[key] = (hh0, hh_r)
    jh_point, jh_reps = _pair_alphas(x, [(i, n_humans) for i in range(n_humans)], domain, level, w, columns)
    jh0, jh_r = float(_nanmean(jh_point[None])[0]), _nanmean(jh_reps)
    if np.isnan(hh0) or np.isnan(jh0):
        side = "human-human" if np.isnan(hh0) else "judge-human"
        return empty(f"{side} alpha undefined (no pairable units or no variation)")
    over = "clusters" if clusters is not None else "units"
    method = f"{round(ci * 100, 3):g}% paired percentile bootstrap over {over}, {w.shape[0]} resamples"
    diff_ci, _ = percentile_ci(jh_r - hh_r, ci)
    hh_ci, _ = percentile_ci(hh_r, ci)
    jh_ci, _ = percentile_ci(jh_r, ci)
    verdict = None
    if diff_ci is not None:
        if diff_ci[0] > 0:
            verdict = "better than people"
        elif diff_ci[1] < 0:
            verdict = "worse than people"
        else:
            verdict = "as good as people"
    return AgreementGap(
        level=level,
        human_human=hh0,
        human_human_ci=hh_ci,
        judge_human=jh0,
        judge_human_ci=jh_ci,
        difference=jh0 - hh0,
        difference_ci=diff_ci,
        n_units=n_units,
        n_humans=n_humans,
        ci_method=method,
        verdict=verdict,
    )


def _nanmean(a: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok.any(axis=1), np.where(ok, a, 0.0).sum(axis=1) / ok.sum(axis=1), np.nan)
