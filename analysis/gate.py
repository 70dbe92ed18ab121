"""The reliability gate: is the human reference reliable enough to judge a replacement against?

Krippendorff (2004, Content Analysis, 2nd ed., p. 241): rely on variables with
alpha >= .800, consider those with .667 <= alpha < .800 only for tentative
conclusions. A judge compared with a reference its own people do not agree
on can look "as good as people" for the wrong reason, so below the threshold
(a study setting, default 0.667) the report gives no replacement verdict and
the dashboard says so. The alpha is the human-human alpha at the level of
:mod:`analysis.levels`, with its percentile bootstrap CI and its units.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.alpha import alpha_features, krippendorff_alpha
from analysis.bootstrap import percentile_ci
from analysis.levels import ALPHA_LEVEL

__all__ = ["human_reliability"]


def human_reliability(
    h: np.ndarray,
    humans: list[str],
    level: str,
    *,
    threshold: float,
    weights: np.ndarray,
    ci: float = 0.95,
    resampled: str = "units",
) -> dict[str, Any]:
    """``{"alpha": Result | None, "threshold", "reliable", "reason"}`` of the humans' ratings.

    ``h`` is humans x units; ``weights`` the group's resample counts per unit
    (:func:`analysis.bootstrap.unit_weights`), so the CI is drawn from the same
    resampled units as every other interval of the group. ``reason`` names the
    unreliable reference with its numbers and what would fix it.
    """
    alpha_level = ALPHA_LEVEL[level]
    out: dict[str, Any] = {"alpha": None, "threshold": threshold, "reliable": False, "reason": None}
    if len(humans) < 2:
        out["reason"] = f"{len(humans)} human rater(s): the reference's reliability cannot be assessed"
        return out
    point = krippendorff_alpha(h, alpha_level)
    result = point.to_dict()
    if point.value is not None:
        feats = alpha_features(h, alpha_level, values=np.unique(h[~np.isnan(h)]))
        interval, n_undef = percentile_ci(feats.alpha(weights @ feats.features), ci)
        result["ci"] = None if interval is None else [round(interval[0], 6), round(interval[1], 6)]
        result["ci_method"] = (
            f"{round(ci * 100, 3):g}% percentile bootstrap over {resampled}, {weights.shape[0]} resamples"
        )
        result["extra"]["n_resamples_undefined"] = n_undef
    out["alpha"] = result
    value = point.value
    ci_text = "" if not result["ci"] else f" [{result['ci'][0]:.2f}, {result['ci'][1]:.2f}]"
    if value is None:
        out["reason"] = f"human-human alpha undefined ({point.reason})"
    elif value < threshold:
        out["reason"] = (
            f"the human reference is unreliable: {', '.join(humans)} reach Krippendorff's "
            f"alpha[{alpha_level}] = {value:.3f}{ci_text} on {point.n_units} units, below the threshold "
            f"{threshold:g}; more raters per item or a clearer rubric (with anchors and examples) "
            "would make it usable"
        )
    else:
        out["reliable"] = True
    return out
