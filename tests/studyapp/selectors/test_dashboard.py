"""The dashboard's numbers on a small study whose answers are known."""

from __future__ import annotations

import krippendorff
import pytest

from studyapp.selectors.dashboard import annotator_progress, domain_progress, human_agreement
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next, assignment_flag, assignment_skip
from tests.factories import ReasoningItemFactory

pytestmark = pytest.mark.django_db


def test_progress_gold_accuracy_flags_and_agreement(make_study, make_rater):
    study = make_study(n=2, steps=2, overlap=2, gold_rate=0.0)
    ReasoningItemFactory(study=study, steps=2, is_gold=True, gold={"first_error": -1})
    ann, bob, cy = make_rater(study, "ann"), make_rater(study, "bob"), make_rater(study, "cy")
    labels = {"ann": {0: 1, 1: 1}, "bob": {0: 1, 1: -1}}
    for rater in (ann, bob):
        while (a := assignment_claim_next(rater=rater, study=study)) is not None:
            if a.role == "gold":
                continue
            annotation_submit(assignment=a, step_labels=labels[rater.name], time_on_task=10)
    # Gold is served only by the gold rate; serve it to ann directly for the count.
    study.gold_rate = 1.0
    study.save()
    ann.participation.refresh_from_db()
    ann.participation.finished_at = None
    ann.participation.save()
    gold = assignment_claim_next(rater=ann, study=study)
    assert gold.role == "gold"
    annotation_submit(assignment=gold, step_labels={0: 1, 1: -1})  # wrong: gold says no error
    c1 = assignment_claim_next(rater=cy, study=study)
    assignment_flag(assignment=c1, reason="garbled problem")

    (domain,) = domain_progress(study=study)
    assert (domain["items"], domain["complete"], domain["annotations"]) == (2, 2, 4)

    by_name = {row["name"]: row for row in annotator_progress(study=study)}
    recorded_time_on_task = by_name["ann"]["seconds"]  # the sum of the stored times, not a timing
    assert by_name["ann"]["done"] == 2 and recorded_time_on_task == 20
    assert (by_name["ann"]["gold_total"], by_name["ann"]["gold_accuracy"]) == (1, 0.0)
    assert by_name["cy"]["flagged"] == 1 and by_name["cy"]["done"] == 0

    steps = next(g for g in human_agreement(study=study) if g["level"] == "step_label")
    # Two raters on four steps: they agree on the two first steps, disagree on the two last.
    assert (steps["level"], steps["criterion"]) == ("step_label", "response") and steps["units"] == 4
    assert steps["percent"] == pytest.approx(0.5)
    # Krippendorff's ordinal alpha through analysis.agreement, checked against the
    # krippendorff package on the same 2 raters x 4 steps (two items of two steps).
    expected = krippendorff.alpha(
        reliability_data=[[1, 1, 1, 1], [1, -1, 1, -1]], level_of_measurement="ordinal"
    )
    assert steps["alpha"] == pytest.approx(expected, abs=1e-6)  # rounded to 6 dp, as in the report


def test_skip_is_listed_with_its_reason(make_study, make_rater):
    from studyapp.selectors.dashboard import skips_and_flags

    study = make_study(n=1, overlap=1)
    rater = make_rater(study)
    assignment_skip(assignment=assignment_claim_next(rater=rater, study=study), reason="too long")
    (row,) = skips_and_flags(study=study)
    assert (row.status, row.flag_reason, row.rater.name) == ("skipped", "too long", rater.name)


def test_dashboard_and_report_agree_on_step_alpha_level_and_gold(make_study, make_rater):
    """Regression: the dashboard used ordinal alpha for step labels and left gold items
    out; the report used nominal alpha and counted gold items. One level (ordinal,
    `analysis.levels`) and one default (gold left out) now give the same number."""
    from studyapp.selectors.reports import study_report
    from tests.factories import AnnotationFactory, LabelFactory

    study = make_study(n=4, steps=2, overlap=2, gold_rate=0.0)
    gold = ReasoningItemFactory(study=study, steps=2, is_gold=True, gold={"first_error": -1})
    ann, bob = make_rater(study, "ann"), make_rater(study, "bob")
    # 0 (neutral) against +1 is a smaller disagreement than -1 against +1: ordinal and
    # nominal alpha differ on these labels.
    labels = {"ann": [1, 0, 1, 1, -1, 1, 1, 0], "bob": [1, 1, 1, -1, -1, 1, 0, 0]}
    order = {
        pk: i
        for i, pk in enumerate(study.items.filter(is_gold=False).order_by("pk").values_list("pk", flat=True))
    }
    for rater in (ann, bob):
        while (a := assignment_claim_next(rater=rater, study=study)) is not None:
            i = order[a.item_id]
            values = labels[rater.name][2 * i : 2 * i + 2]
            annotation_submit(assignment=a, step_labels=dict(enumerate(values)))
    for rater, values in ((ann, [1, 1]), (bob, [-1, -1])):  # gold: the two disagree fully
        annotation = AnnotationFactory(item=gold, rater=rater)
        for step, value in zip(gold.steps.order_by("index"), values, strict=True):
            LabelFactory(annotation=annotation, step=step, value=value)

    steps = next(g for g in human_agreement(study=study) if g["level"] == "step_label")
    assert steps["reliable"] is False and steps["alpha_note"].startswith("the human reference is unreliable")
    group = next(g for g in study_report(study=study).data["groups"] if g["level"] == "step_label")
    alpha = group["human_human"]["alpha"]
    assert group["alpha_level"] == "ordinal" and alpha["statistic"] == "krippendorff_alpha[ordinal]"
    assert steps["units"] == alpha["n_units"] == 8  # the gold item's two steps are left out
    assert steps["alpha"] == pytest.approx(alpha["value"], abs=1e-6)
    assert steps["alpha_ci"] == group["human_reliability"]["alpha"]["ci"]  # the same gate, the same CI
    by_step = [labels["ann"], labels["bob"]]
    expected = krippendorff.alpha(reliability_data=by_step, level_of_measurement="ordinal")
    assert alpha["value"] == pytest.approx(expected, abs=1e-6)
    nominal = krippendorff.alpha(reliability_data=by_step, level_of_measurement="nominal")
    assert abs(expected - nominal) > 0.01


def test_the_dashboard_applies_the_reports_gate_with_the_studys_threshold(make_study, make_rater, client):
    """Regression: the dashboard showed alpha with no gate; now the report's gate and threshold."""
    from tests.factories import AnnotationFactory, ExternalRaterFactory, LabelFactory

    study = make_study(n=6, steps=2, overlap=3)
    raters = [ExternalRaterFactory(study=study, name=f"expert-{i}") for i in range(3)]
    items = list(study.items.order_by("pk"))
    for n, item in enumerate(items):
        for r, rater in enumerate(raters):
            annotation = AnnotationFactory(item=item, rater=rater)
            for step in item.steps.order_by("index"):
                LabelFactory(annotation=annotation, step=step, value=1 if (n + step.index + r) % 3 else -1)
    row = next(g for g in human_agreement(study=study) if g["level"] == "step_label")
    assert row["humans"] == 3 and row["threshold"] == 0.667
    assert row["alpha"] < 0.667 and row["reliable"] is False
    study.spec = {"analysis": {"min_human_alpha": -1.0}}
    study.save()
    lenient = next(g for g in human_agreement(study=study) if g["level"] == "step_label")
    assert lenient["reliable"] is True and lenient["alpha"] == row["alpha"]
    study.spec = {}
    study.save()
    from studyapp.services.demo import demo_accounts_ensure

    demo_accounts_ensure(study=study)
    client.login(username="researcher", password="concordance-demo")
    page = client.get(f"/researcher/studies/{study.slug}/").content.decode()
    section = page[page.index('<section id="agreement">') : page.index('<section id="reports">')]
    assert "no replacement verdict" in section and "the human reference is unreliable" in section
    assert "expert-0, expert-1, expert-2" in section
