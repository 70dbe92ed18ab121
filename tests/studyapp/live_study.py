"""A study for the live estimates: summaries in two domains rated by three external raters
and a critic. In "news" people agree and the critic rates as they do; in "stories"
people rate at random. The critic also rated `unrated` items per domain that no person
rated, so the prediction-powered estimates have something to add."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studyapp.models import Study
from studyapp.services.study_load import study_load
from tests.studyapp.report_study import RATERS, write_rated_study


def write_live_study(tmp_path: Path, *, n: int = 60, unrated: int = 30, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for domain, noise in (("news", 0.05), ("stories", 0.9)):
        for i in range(n + unrated):
            quality = int(rng.integers(1, 6))

            def rate(noise: float, quality: int = quality) -> dict[str, int]:
                value = quality if rng.random() > noise else int(rng.integers(1, 6))
                return {"accuracy": value}

            lines.append(
                {
                    "id": f"{domain}-{i}",
                    "kind": "summary",
                    "domain": domain,
                    "persona": "patient",
                    "document": f"document {domain} {i}",
                    "summary": f"summary {domain} {i}",
                    "annotations": [{"rater": r, "ratings": rate(noise)} for r in RATERS] if i < n else [],
                    "judgments": [{"judge": "critic", "ratings": rate(0.05)}],
                }
            )
    return write_rated_study(
        tmp_path, lines, slug="live", title="Live test", domains=("news", "stories"), prefix="live-"
    )


def load_live_study(tmp_path: Path, **kwargs: int) -> Study:
    return study_load(path=write_live_study(tmp_path, **kwargs)).study
