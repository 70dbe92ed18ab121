"""Agreement statistics: the public API of :mod:`analysis`.

Every function takes ratings as ``raters x units`` (like the ``krippendorff``
package; ``None``/NaN for a missing rating), except the two-rater ones that
take two vectors, and returns an :class:`~analysis.result.AgreementResult`
with ``.value``, ``.ci`` (when asked), ``.n_units``, ``.n_dropped`` (units with
a single rating, or incomplete pairs) and ``.reason`` when undefined.

Each statistic lives in its own module (definitions and citations there):

- :func:`krippendorff_alpha` (:mod:`analysis.alpha`), four levels, closed form
  for continuous interval data, vectorised bootstrap over units or clusters;
- :func:`cohen_kappa` (:mod:`analysis.cohen`), unweighted / linear /
  quadratic over a declared label set;
- :func:`fleiss_kappa`, :func:`gwet_ac1`, :func:`gwet_ac2`,
  :func:`percent_agreement` (:mod:`analysis.multirater`);
- :func:`icc` (:mod:`analysis.icc`), Shrout & Fleiss / McGraw & Wong kinds;
- :func:`correlation`, :func:`kendall`, :func:`spearman`
  (:mod:`analysis.correlation`), pooled or averaged per group.
"""

from analysis.alpha import LEVELS, krippendorff_alpha
from analysis.cohen import cohen_kappa, confusion_table
from analysis.correlation import correlation, kendall, spearman
from analysis.icc import ICC_KINDS, icc
from analysis.multirater import fleiss_kappa, gwet_ac1, gwet_ac2, percent_agreement
from analysis.result import AgreementResult

__all__ = [
    "ICC_KINDS",
    "LEVELS",
    "AgreementResult",
    "cohen_kappa",
    "confusion_table",
    "correlation",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "icc",
    "kendall",
    "krippendorff_alpha",
    "percent_agreement",
    "spearman",
]
