"""`manage.py plan_study SLUG --width W`: labels per domain with and without PPI."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from analysis.plan import plan_table
from studyapp.selectors.ratings import ratings_table
from studyapp.services.study_load import study_load
from tests.studyapp.report_study import load_report_study

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[4] / "fixtures" / "demo" / "study.yaml"


def _run(*args: str) -> str:
    out = StringIO()
    call_command("plan_study", *args, stdout=out)
    return out.getvalue()


def test_plan_of_a_study_with_human_and_judge_labels(tmp_path: Path) -> None:
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    study = load_report_study(spec_dir, n_reasoning=10, n_summary=8)
    text = _run("rep", "--width", "2")
    plan = plan_table(ratings_table(study=study, include_gold=False), width=2.0)
    assert not plan.empty
    lines = text.splitlines()
    assert lines[0].startswith("rep: human labels for a 95% interval of width 2")
    for r in plan.itertuples(index=False):
        ho = "not reachable" if r.human_only != r.human_only else str(int(r.human_only))
        pp = "not reachable" if r.ppi != r.ppi else str(int(r.ppi))
        head = f"{r.domain} | {r.level} | {r.criterion or '-'} | {r.judge} | {r.n_units} | {r.n_pilot}"
        assert f"{head} | {ho} | {pp}" in text
    assert "medical | rubric | accuracy | critic | 8 | 8 |" in text
    assert "pilot of 8 units: a rough guide" in text


def test_demo_study(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONCORDANCE_VAR_DIR", str(tmp_path))
    study_load(path=DEMO)
    text = _run("demo", "--width", "0.5")
    assert text.startswith("demo: human labels for a 95% interval of width 0.5")
    # Freshly loaded, the demo has neither annotations nor judgments: nothing to estimate from.
    assert text.splitlines()[1] == "no item-level ratings yet: nothing to plan from"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "--width", "1"), "no study with slug 'nope'"),
        (("demo", "--width", "0"), "--width must be positive (got 0.0)"),
        (("demo", "--width", "1", "--alpha", "1.5"), "--alpha must lie strictly between 0 and 1 (got 1.5)"),
    ],
)
def test_bad_arguments(monkeypatch, tmp_path: Path, args, message) -> None:
    monkeypatch.setenv("CONCORDANCE_VAR_DIR", str(tmp_path))
    study_load(path=DEMO)
    with pytest.raises(CommandError) as exc:
        _run(*args)
    assert str(exc.value) == message
