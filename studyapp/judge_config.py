"""A study judge's configuration as its runs see it, and what is wrong with it in
words a researcher can act on: the problem, then the command or setting that fixes it.

Used where a judge is checked: `load_study` (the spec's own mistakes are errors with
the file and line; a missing model or environment variable is a warning, since it can
be fixed before the first run), the start of a run (`run_judges`, the dashboard) and
the worker that builds the judge.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from judges.config import (
    ENV_UNSET,
    FILES_MISSING,
    INVALID,
    MODEL_INVALID,
    MODEL_MISSING,
    NEEDS_REDIS,
    UNKNOWN_KIND,
    ConfigProblem,
)

TRAIN = "python manage.py train_sprm --data FILE --format FORMAT --out {model_dir}"
FIXES = {
    MODEL_MISSING: f"train one with `{TRAIN}` (the demo study's: `python manage.py demo` trains it)",
    MODEL_INVALID: f"train it again with `{TRAIN}`, or point model_dir at a model train_sprm wrote",
    ENV_UNSET: "set it where runs are started (web server, run_judges) and for the Celery workers",
    NEEDS_REDIS: "set CONCORDANCE_JUDGE_REDIS_URL (or a Redis CELERY_BROKER_URL) or the judge's redis_url",
    FILES_MISSING: "add the template files (docs/judges.md) or remove prompt_dir",
    INVALID: "fix the judge in the study spec and load it again (`python manage.py load_study SPEC`)",
    UNKNOWN_KIND: "give the judge kind critic or sprm in the study spec and load it again",
}


def judge_config(*, kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration a run builds the judge from: the spec's, with the project's
    Redis for a critic's shared rate limit and cache when it names none."""
    config = dict(config)
    if (
        kind == "critic"
        and settings.JUDGE_REDIS_URL
        and not (config.get("redis_url") or config.get("redis_url_env"))
    ):
        config["redis_url"] = settings.JUDGE_REDIS_URL
    return config


def judge_fix(problem: ConfigProblem, config: Mapping[str, Any]) -> str:
    """What fixes `problem`: a command or a setting."""
    return FIXES.get(problem.code, "").replace("{model_dir}", str(config.get("model_dir") or "DIR"))


def judge_problem_text(problem: ConfigProblem, config: Mapping[str, Any]) -> str:
    """One problem and what fixes it, as a sentence."""
    return _sentence([problem], judge_fix(problem, config))


def judge_problems_text(*, name: str, problems: Sequence[ConfigProblem], config: Mapping[str, Any]) -> str:
    """Every problem of judge `name` with what fixes it (said once for problems in a row
    that the same thing fixes), on one line."""
    groups = itertools.groupby(problems, key=lambda p: judge_fix(p, config))
    return f"judge {name}: " + " ".join(_sentence(list(group), fix) for fix, group in groups)


def _sentence(problems: Sequence[ConfigProblem], fix: str) -> str:
    said = "; ".join(map(str, problems))
    return f"{said}. To fix: {fix}." if fix else f"{said}."
