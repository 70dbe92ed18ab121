"""The result of an agreement statistic: a value, or the reason there is none.

Every public statistic in :mod:`analysis` returns an :class:`AgreementResult`.
An undefined statistic (no variation, no unit with two ratings, a zero
denominator) has ``value=None`` and a ``reason``; it is never reported as a
made-up 1.0 or 0.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AgreementResult", "undefined", "with_bootstrap_ci"]


@dataclass(frozen=True)
class AgreementResult:
    """A statistic with its confidence interval and the data it rests on.

    Attributes
    ----------
    statistic : str
        Name, e.g. ``"krippendorff_alpha[ordinal]"``.
    value : float or None
        The estimate; ``None`` when the statistic is undefined.
    ci : tuple of float or None
        ``(low, high)`` when a confidence interval was asked for and could be
        computed.
    n_units : int
        Units (or pairs, for two-rater statistics) that entered the estimate.
    n_dropped : int
        Units dropped because they held a single rating (or, for paired
        statistics, pairs with a missing side).
    reason : str or None
        Why ``value`` (or ``ci``) is missing.
    ci_method : str or None
        How the interval was made, e.g. ``"percentile bootstrap over units, 1000 resamples"``.
    extra : dict
        Statistic-specific figures (observed agreement, chance agreement,
        standard errors, ...).
    """

    statistic: str
    value: float | None
    n_units: int
    n_dropped: int = 0
    ci: tuple[float, float] | None = None
    reason: str | None = None
    ci_method: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def defined(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (floats rounded to 6 dp; NaN becomes None)."""
        return {
            "statistic": self.statistic,
            "value": _clean(self.value),
            "ci": None if self.ci is None else [_clean(self.ci[0]), _clean(self.ci[1])],
            "ci_method": self.ci_method,
            "n_units": int(self.n_units),
            "n_dropped": int(self.n_dropped),
            "reason": self.reason,
            "extra": {k: _clean(v) for k, v in self.extra.items()},
        }


def _clean(v: Any) -> Any:
    if isinstance(v, float | int) and not isinstance(v, bool):
        f = float(v)
        if math.isnan(f) or math.isinf(f):
            return None
        return round(f, 6) if isinstance(v, float) else v
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:  # numpy scalar
        return _clean(v.item())
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    return v


def undefined(
    statistic: str, reason: str, *, n_units: int = 0, n_dropped: int = 0, **extra: Any
) -> AgreementResult:
    """An :class:`AgreementResult` with no value, saying why."""
    return AgreementResult(
        statistic=statistic,
        value=None,
        n_units=n_units,
        n_dropped=n_dropped,
        reason=reason,
        extra=dict(extra),
    )


def with_bootstrap_ci(
    statistic: str,
    value: float | None,
    *,
    n_units: int,
    n_dropped: int,
    replicates: Any = None,
    level: float | None = None,
    resampled: str = "units",
    extra: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AgreementResult:
    """Build a result, with a percentile bootstrap CI when ``replicates`` are given."""
    from analysis.bootstrap import percentile_ci  # local: bootstrap imports nothing from here

    extra = dict(extra or {})
    ci = None
    ci_method = None
    if value is not None and (value != value):  # NaN
        value = None
    if replicates is not None and level is not None:
        ci, n_undef = percentile_ci(replicates, level)
        n_res = len(replicates)
        ci_method = f"{round(level * 100, 3):g}% percentile bootstrap over {resampled}, {n_res} resamples"
        extra["n_resamples_undefined"] = n_undef
        if ci is None:
            reason = reason or "no bootstrap resample gave a defined value"
    return AgreementResult(
        statistic=statistic,
        value=None if value is None else float(value),
        n_units=n_units,
        n_dropped=n_dropped,
        ci=ci,
        reason=reason,
        ci_method=ci_method,
        extra=extra,
    )
