"""The level of measurement of each kind of rating, for every statistic that needs one.

One table for the report, the reliability gate and the researcher dashboard,
so a number on the dashboard and the same number in the report agree.

- ``step_label`` (+1 correct, 0 neutral, -1 incorrect): **ordinal**. The three
  labels are ordered (PRM800K's "neutral" is a step that is neither wrong nor
  progress), so one rater's -1 against another's +1 is a larger disagreement
  than 0 against +1; nominal alpha would count both alike. Where a study uses
  only +1 and -1, ordinal and nominal alpha are equal, so nothing is lost.
- ``first_error`` (0-based index of the first wrong step, -1 for none):
  **nominal**. "No error" is not a position after the last step, and two
  raters who pick steps 2 and 3 disagree as much as 2 and 7 when the question
  is *which* step is the first wrong one.
- ``rubric`` and ``trajectory`` ratings on a 1-k scale: **ordinal**.
- ``pairwise`` (+1 response A, 0 tie, -1 B): **nominal**, as FastChat and
  LLMBar count agreement (a tie against A is as much a disagreement as B
  against A), and the judge's reference is the human majority.
"""

from __future__ import annotations

from analysis.alpha import Level

__all__ = ["ALPHA_LEVEL", "CATEGORICAL", "STEP_SCALE"]

ALPHA_LEVEL: dict[str, Level] = {
    "step_label": "ordinal",
    "first_error": "nominal",
    "rubric": "ordinal",
    "trajectory": "ordinal",
    "pairwise": "nominal",
}
# Levels whose judge reference is the human majority label (the others: the human mean).
CATEGORICAL: tuple[str, ...] = ("step_label", "first_error", "pairwise")
STEP_SCALE: tuple[float, ...] = (-1.0, 0.0, 1.0)
