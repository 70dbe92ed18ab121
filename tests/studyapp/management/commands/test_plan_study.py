"""`manage.py plan_study SLUG [--width W]`: labels per domain with and without PPI."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from analysis.plan import PLAN_ASSUMPTIONS, alt_test_items, judge_only_plan, plan_table
from studyapp.selectors.ratings import ratings_table
from studyapp.services.study_load import study_load
from tests.factories import JudgmentFactory
from tests.studyapp.report_study import load_report_study, write_report_study

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
    assert "From a pilot (units with both human and judge labels):" in text
    assert "From the judge's labels alone (no pilot), at an assumed judge-human correlation" in text


def test_the_width_defaults_to_the_spec_target_width(tmp_path: Path) -> None:
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    spec = write_report_study(spec_dir, n_reasoning=10, n_summary=8)
    spec.write_text(spec.read_text() + "analysis:\n  target_width: 2\n")
    study_load(path=spec)
    default, given = _run("rep").splitlines(), _run("rep", "--width", "2").splitlines()
    assert default[0] == (
        "rep: human labels for a 95% interval of width 2 (the spec's analysis.target_width; plug-in from "
        "the current labels; step labels are planned through first errors)"
    )
    assert given[0].startswith("rep: human labels for a 95% interval of width 2 (plug-in from")
    assert default[1:] == given[1:] and len(default) > 3
    # --width overrides the spec's
    wider = _run("rep", "--width", "3").splitlines()
    assert wider[0].startswith("rep: human labels for a 95% interval of width 3 (plug-in from")
    assert wider[1:] != default[1:]


def test_without_a_width_or_a_target_width_the_command_says_so(tmp_path: Path) -> None:
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    load_report_study(spec_dir, n_reasoning=2, n_summary=2)  # its spec has no analysis block
    with pytest.raises(CommandError) as exc:
        _run("rep")
    assert str(exc.value) == "no target width: pass --width or set analysis.target_width in rep's spec"


def test_the_demo_plans_at_its_spec_target_width(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONCORDANCE_VAR_DIR", str(tmp_path))
    study_load(path=DEMO)
    assert _run("demo").startswith(
        "demo: human labels for a 95% interval of width 0.5 (the spec's analysis.target_width;"
    )


def test_demo_study(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONCORDANCE_VAR_DIR", str(tmp_path))
    study_load(path=DEMO)
    text = _run("demo", "--width", "0.5")
    assert text.startswith("demo: human labels for a 95% interval of width 0.5")
    # Freshly loaded, the demo has neither annotations nor judgments: nothing to estimate from,
    # but the alternative-annotator test's needs follow from the study's epsilon alone.
    assert text.splitlines()[1] == "no item-level ratings yet: nothing to plan from"
    items = alt_test_items(0.1, annotators=3)
    assert text.splitlines()[2].startswith(
        f"Alternative-annotator test at epsilon 0.1: {items} items per domain, each labelled by 3 annotators"
    )
    # the assumptions are the plan's own, as the dashboard shows them
    assert text.splitlines()[3:] == ["Assumptions:"] + [f"- {a}" for a in PLAN_ASSUMPTIONS]


def test_demo_from_the_judge_labels_alone(monkeypatch, tmp_path: Path) -> None:
    """After a judge run on the demo (judgments written here as a run writes them), no person has
    labelled yet: the plan comes from the judge's labels and the assumed correlation grid."""
    monkeypatch.setenv("CONCORDANCE_VAR_DIR", str(tmp_path))
    study = study_load(path=DEMO).study
    judge = study.raters.get(name="sprm")
    reasoning = [i for i in study.items.all() if i.steps.exists()]
    assert len(reasoning) >= 4
    for n, item in enumerate(reasoning):
        JudgmentFactory(item=item, rater=judge, first_error=-1 if n % 2 else 0)
    text = _run("demo", "--width", "0.5", "--epsilon", "0.2")
    assert "at an assumed judge-human correlation rho in {0, 0.5, 0.8}:" in text
    table = ratings_table(study=study, include_gold=False)
    plan = judge_only_plan(table, width=0.5)
    assert not plan.empty and "needs a pilot of 2 or more units" in text
    for r in plan.to_dict("records"):
        cells = " | ".join(
            "not reachable" if r[c] is None else str(int(r[c]))
            for c in ("human_only", "ppi_rho=0", "ppi_rho=0.5", "ppi_rho=0.8")
        )
        head = f"{r['domain']} | first_error | - | sprm | {r['n_units']} | {r['sd_judge']:.3g}"
        assert f"{head} | {cells}" in text
    assert f"epsilon 0.2: {alt_test_items(0.2, annotators=3)} items per domain" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "--width", "1"), "no study with slug 'nope'"),
        (("demo", "--width", "0"), "--width must be positive (got 0.0)"),
        (("demo", "--width", "1", "--alpha", "1.5"), "--alpha must lie strictly between 0 and 1 (got 1.5)"),
        (("demo", "--width", "1", "--epsilon", "0"), "--epsilon must lie in (0, 1] (got 0.0)"),
        (("demo", "--width", "1", "--epsilon", "nan"), "--epsilon must lie in (0, 1] (got nan)"),
        (
            ("demo", "--width", "1", "--annotators", "2"),
            "--annotators must be at least 3, the alternative-annotator test's minimum (got 2)",
        ),
    ],
)
def test_bad_arguments(monkeypatch, tmp_path: Path, args, message) -> None:
    monkeypatch.setenv("CONCORDANCE_VAR_DIR", str(tmp_path))
    study_load(path=DEMO)
    with pytest.raises(CommandError) as exc:
        _run(*args)
    assert str(exc.value) == message
