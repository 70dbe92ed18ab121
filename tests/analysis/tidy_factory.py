"""A small synthetic tidy ratings table with known structure, for report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.tidy import COLUMNS


def make_tidy(seed: int = 0, n_items: int = 20, steps: int = 4, humans: int = 3) -> pd.DataFrame:
    """Steps labelled by ``humans`` people, a critic and an SPRM; first errors; rubric ratings."""
    rng = np.random.default_rng(seed)
    rows = []
    for it in range(n_items):
        item = f"i{it}"
        wrong_at = int(rng.integers(-1, steps))
        for s in range(steps):
            unit = f"{item}:{s}"
            truth = 1 if (wrong_at == -1 or s < wrong_at) else -1
            for hh in range(humans):
                v = truth if rng.random() < 0.85 else -truth
                rows.append((unit, item, f"h{hh}", "human", "math", "step_label", "", v))
            critic = truth if rng.random() < 0.8 else -truth
            rows.append((unit, item, "critic", "judge", "math", "step_label", "", critic))
            p = 0.8 if truth == 1 else 0.3
            score = float(np.clip(p + rng.normal(0, 0.15), 0, 1))
            rows.append((unit, item, "sprm", "judge", "math", "step_label", "", score))
        for hh in range(humans):
            fe = wrong_at if rng.random() < 0.8 else -1
            rows.append((item, item, f"h{hh}", "human", "math", "first_error", "", fe))
        rows.append((item, item, "critic", "judge", "math", "first_error", "", wrong_at))
        quality = int(rng.integers(1, 6))
        for crit in ("coherence", "relevance"):
            for hh in range(humans):
                v = int(np.clip(quality + rng.integers(-1, 2), 1, 5))
                rows.append((f"s{it}", f"s{it}", f"h{hh}", "human", "summaries", "rubric", crit, v))
            v = int(np.clip(quality + rng.integers(-1, 2), 1, 5))
            rows.append((f"s{it}", f"s{it}", "critic", "judge", "summaries", "rubric", crit, v))
    return pd.DataFrame(rows, columns=list(COLUMNS))
