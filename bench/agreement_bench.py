"""Benchmark: Krippendorff's alpha with a 1,000-resample bootstrap CI.

Run from the project root:  python bench/agreement_bench.py

Cases (targets from issue 6):
1. 5 raters x 10,000 units, nominal: vectorised CI against a naive loop that
   calls ``krippendorff.alpha`` once per resample, in the same run
   (target: at least 20x faster).
2. 3 raters x 1,000,000 units, 30% missing, ordinal: vectorised CI
   (target: under 15 s). The naive loop is timed on a few resamples only and
   extrapolated to 1,000 (the output says so).
3. 3 raters x 1,000,000 continuous scores, interval alpha point estimate
   (target: under 1 s); krippendorff 0.9.0 allocates units x values x values
   and cannot run on these.

Times are wall clock (``time.perf_counter``): the first (cold) call and the
median of three. Peak memory is measured in a separate call under
``tracemalloc`` (numpy reports its allocations to it), so that tracing does
not slow the timed calls; the process's max RSS is printed at the end.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.agreement import krippendorff_alpha

N_RESAMPLES = 1000


def clock(fn: Callable[[], Any], repeats: int = 3) -> tuple[Any, float, float]:
    """Return (result, first call seconds, median seconds over ``repeats`` calls)."""
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times[0], statistics.median(times)


def peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def naive(x: np.ndarray, level: Any, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(n):
        idx = rng.integers(0, x.shape[1], x.shape[1])
        reps.append(krippendorff.alpha(reliability_data=x[:, idx], level_of_measurement=level))
    return np.percentile(reps, [2.5, 97.5])


def categorical(raters: int, units: int, values: int, missing: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, values + 1, units)
    noise = rng.integers(1, values + 1, (raters, units))
    x = np.where(rng.random((raters, units)) < 0.7, truth, noise).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x


def main() -> None:
    print(f"numpy {np.__version__}; krippendorff 0.9.0; {N_RESAMPLES} resamples, 95% CI")

    print("\ncase 1: 5 raters x 10,000 units, nominal")
    x1 = categorical(5, 10_000, 4, 0.0, 1)
    ours = lambda: krippendorff_alpha(x1, "nominal", ci=0.95, n_resamples=N_RESAMPLES)  # noqa: E731
    r1, first1, med1 = clock(ours)
    t0 = time.perf_counter()
    n1 = naive(x1, "nominal", N_RESAMPLES)
    tn1 = time.perf_counter() - t0
    print(f"  vectorised : first {first1:7.3f} s, median {med1:7.3f} s, peak {peak_mib(ours):6.1f} MiB")
    print(f"               alpha {r1.value:.4f}, CI {r1.ci[0]:.4f} .. {r1.ci[1]:.4f}")
    print(f"  naive loop : {tn1:7.3f} s for 1,000 krippendorff.alpha calls, CI {n1[0]:.4f} .. {n1[1]:.4f}")
    print(
        f"  speed-up   : {tn1 / med1:.0f}x (first call: {tn1 / first1:.0f}x); target >= 20x: "
        f"{'MET' if tn1 / first1 >= 20 else 'MISSED'}"
    )

    print("\ncase 2: 3 raters x 1,000,000 units, 30% missing, ordinal (5 values)")
    x2 = categorical(3, 1_000_000, 5, 0.3, 2)
    ours2 = lambda: krippendorff_alpha(x2, "ordinal", ci=0.95, n_resamples=N_RESAMPLES)  # noqa: E731
    r2, first2, med2 = clock(ours2)
    print(f"  vectorised : first {first2:7.3f} s, median {med2:7.3f} s, peak {peak_mib(ours2):6.1f} MiB")
    print(
        f"               alpha {r2.value:.4f}, CI {r2.ci[0]:.4f} .. {r2.ci[1]:.4f}; "
        f"{r2.n_units} pairable units, {r2.n_dropped} single-rating units dropped"
    )
    k = 2
    t0 = time.perf_counter()
    naive(x2, "ordinal", k)
    tn2 = time.perf_counter() - t0
    print(
        f"  naive loop : {tn2:7.3f} s for {k} resamples only -> extrapolated "
        f"{tn2 / k * N_RESAMPLES:,.0f} s for 1,000 (extrapolation, not run in full)"
    )
    print(f"  target < 15 s: {'MET' if first2 < 15 else 'MISSED'}")

    print("\ncase 3: 3 raters x 1,000,000 continuous scores, interval alpha (closed form)")
    rng = np.random.default_rng(3)
    truth = rng.random(1_000_000)
    x3 = np.clip(truth + 0.1 * rng.normal(size=(3, 1_000_000)), 0, 1)
    ours3 = lambda: krippendorff_alpha(x3, "interval")  # noqa: E731
    r3, first3, med3 = clock(ours3)
    print(f"  closed form: first {first3:7.3f} s, median {med3:7.3f} s, peak {peak_mib(ours3):6.1f} MiB")
    print(f"               alpha {r3.value:.4f}")
    print(f"  target < 1 s: {'MET' if first3 < 1 else 'MISSED'}")
    t0 = time.perf_counter()
    small = krippendorff.alpha(reliability_data=x3[:, :100], level_of_measurement="interval")
    ts = time.perf_counter() - t0
    check = krippendorff_alpha(x3[:, :100], "interval").value
    print(
        f"  krippendorff 0.9.0 on only 3 x 100 of these scores: {ts:.3f} s "
        f"(alpha {small:.6f}, closed form {check:.6f})"
    )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmax RSS of the whole run: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
