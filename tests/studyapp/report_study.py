"""A small study with external raters and imported judges, loaded through load_study."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from studyapp.models import Study
from studyapp.services.study_load import study_load

RATERS = ("ann-1", "ann-2", "ann-3")


def write_report_study(tmp_path: Path, *, n_reasoning: int = 8, n_summary: int = 6, seed: int = 0) -> Path:
    """Reasoning items (1 trajectory + 3 response steps) and summaries, each rated by
    three external raters, a critic (labels, first error, ratings) and an SPRM (step scores)."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n_reasoning):
        wrong = int(rng.integers(-1, 4))
        truth = [1 if wrong == -1 or s < wrong else -1 for s in range(4)]

        def noisy(p: float, truth: list[int] = truth) -> list[int]:
            return [t if rng.random() < p else -t for t in truth]

        annotations = []
        for name in RATERS:
            labels = noisy(0.85)
            first = next((s for s, v in enumerate(labels) if v == -1), -1)
            annotations.append({"rater": name, "steps": labels, "first_error": first})
        critic = noisy(0.8)
        scores = [
            round(float(np.clip((0.8 if t == 1 else 0.3) + rng.normal(0, 0.1), 0, 1)), 3) for t in truth
        ]
        lines.append(
            {
                "id": f"r{i}",
                "domain": "math",
                "problem": f"problem {i}",
                "trajectory": ["think"],
                "response": ["a", "b", "c"],
                "outcome": wrong == -1,
                "annotations": annotations,
                "judgments": [
                    {
                        "judge": "critic",
                        "steps": critic,
                        "first_error": next((s for s, v in enumerate(critic) if v == -1), -1),
                    },
                    {"judge": "sprm", "step_scores": scores},
                ],
            }
        )
    for i in range(n_summary):
        quality = int(rng.integers(1, 6))

        def rate(quality: int = quality) -> dict[str, int]:
            return {"accuracy": int(np.clip(quality + rng.integers(-1, 2), 1, 5))}

        lines.append(
            {
                "id": f"s{i}",
                "kind": "summary",
                "domain": "medical",
                "persona": "patient",
                "document": f"document {i}",
                "summary": f"summary {i}",
                "annotations": [{"rater": name, "ratings": rate()} for name in RATERS],
                "judgments": [{"judge": "critic", "ratings": rate()}],
            }
        )
    return write_rated_study(tmp_path, lines, slug="rep", title="Report test", domains=("math", "medical"))


def write_rated_study(
    tmp_path: Path, lines: list[dict], *, slug: str, title: str, domains: tuple[str, ...], prefix: str = ""
) -> Path:
    """Write native items and a spec (k = 3, a patient persona, an `accuracy` criterion on
    1-5, the items as its one source) as `<prefix>items.jsonl` and `<prefix>study.yaml`."""
    data = tmp_path / f"{prefix}items.jsonl"
    data.write_text("".join(json.dumps(line) + "\n" for line in lines))
    spec = tmp_path / f"{prefix}study.yaml"
    names = ", ".join(f"{{name: {d}}}" for d in domains)
    spec.write_text(
        f"""\
slug: {slug}
title: {title}
overlap: 3
domains: [{names}]
personas: [{{name: patient, description: p, prompt: p}}]
rubric:
  name: r
  criteria:
    - {{name: accuracy, description: d, scale: [1, 5]}}
sources: [{{path: {data}, format: native}}]
"""
    )
    return spec


def load_report_study(tmp_path: Path, **kwargs: int) -> Study:
    return study_load(path=write_report_study(tmp_path, **kwargs)).study
