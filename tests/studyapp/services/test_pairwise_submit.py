"""Pairwise submissions: screen answers are mapped to the underlying responses on the server,
ties are refused when the study does not allow them, and the API serves the pair blinded."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from studyapp.models import Annotation, Label
from studyapp.selectors.annotation_tasks import item_task
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next, pair_swapped
from studyapp.services.errors import AnnotationInvalid
from studyapp.services.participants import annotator_create
from tests.factories import CriterionFactory, PairwiseItemFactory, RubricFactory

pytestmark = pytest.mark.django_db


def _pair_study(make_study, *, allow_tie: bool = True, n: int = 1):
    study = make_study(n=0, spec={"annotation": {"allow_tie": allow_tie}})
    rubric = RubricFactory(study=study)
    CriterionFactory(rubric=rubric, name="helpfulness", scale_min=-1, scale_max=1, anchors={}, position=0)
    CriterionFactory(rubric=rubric, name="harmlessness", scale_min=-1, scale_max=1, anchors={}, position=1)
    items = [PairwiseItemFactory(study=study) for _ in range(n)]
    return study, items


def _raters_for_both_orders(study, item, make_rater):
    """Two raters of `item`: one shown A first, one shown B first (the hash decides who)."""
    by_order: dict[bool, object] = {}
    for i in range(64):
        rater = make_rater(study, username=f"pair-{i}")
        by_order.setdefault(pair_swapped(seed=study.seed, rater_id=rater.id, item_id=item.id), rater)
        if len(by_order) == 2:
            return by_order[False], by_order[True]
    raise AssertionError("64 raters all saw the same order")


def test_the_screen_order_is_seeded_and_varies_between_raters_and_items():
    orders = [pair_swapped(seed=7, rater_id=r, item_id=i) for r in range(40) for i in range(5)]
    assert orders == [pair_swapped(seed=7, rater_id=r, item_id=i) for r in range(40) for i in range(5)]
    assert 0.3 < sum(orders) / len(orders) < 0.7
    assert orders != [pair_swapped(seed=8, rater_id=r, item_id=i) for r in range(40) for i in range(5)]


def test_the_label_refers_to_the_underlying_response_in_both_screen_orders(make_study, make_rater):
    study, (item,) = _pair_study(make_study, n=1)
    study.overlap = 2
    study.save(update_fields=["overlap"])
    straight, swapped = _raters_for_both_orders(study, item, make_rater)
    for rater, first_shown in ((straight, item.response_a), (swapped, item.response_b)):
        assignment = assignment_claim_next(rater=rater, study=study)
        assert assignment.item_id == item.id
        task = item_task(assignment=assignment)
        assert task["responses"][0] == first_shown
        assert "response_a" not in task and "A" not in str(task["criteria"])
        # the person prefers the response shown first on helpfulness, the second on harmlessness
        annotation_submit(
            assignment=assignment, ratings={"helpfulness": 1, "harmlessness": -1}, comment="why"
        )
    stored = {
        (label.annotation.rater_id, label.criterion.name): label.value
        for label in Label.objects.filter(annotation__item=item).select_related("annotation", "criterion")
    }
    assert stored == {
        (straight.id, "helpfulness"): 1.0,  # shown A first and chose it: A
        (straight.id, "harmlessness"): -1.0,
        (swapped.id, "helpfulness"): -1.0,  # shown B first and chose it: B
        (swapped.id, "harmlessness"): 1.0,
    }
    assert set(Annotation.objects.values_list("comment", flat=True)) == {"why"}
    # the screen order each label was mapped from is recorded with it
    assert dict(Annotation.objects.values_list("rater_id", "pair_swapped")) == {
        straight.id: False,
        swapped.id: True,
    }


def test_a_tie_is_stored_as_zero_and_submission_is_idempotent(make_study, make_rater):
    study, _ = _pair_study(make_study)
    rater = make_rater(study)
    a = assignment_claim_next(rater=rater, study=study)
    first = annotation_submit(assignment=a, ratings={"helpfulness": 0, "harmlessness": 0}, time_on_task=4)
    again = annotation_submit(assignment=a, ratings={"helpfulness": 1, "harmlessness": 1})
    assert first.created and not again.created and again.annotation.id == first.annotation.id
    assert sorted(Label.objects.values_list("value", flat=True)) == [0.0, 0.0]


def test_ties_refused_when_the_study_does_not_allow_them(make_study, make_rater):
    study, _ = _pair_study(make_study, allow_tie=False)
    rater = make_rater(study)
    a = assignment_claim_next(rater=rater, study=study)
    assert item_task(assignment=a)["allow_tie"] is False
    with pytest.raises(AnnotationInvalid) as info:
        annotation_submit(assignment=a, ratings={"helpfulness": 0, "harmlessness": 1, "other": 1})
    assert info.value.errors == {
        "ratings": {
            "helpfulness": "This study does not allow ties: choose one response.",
            "other": "There is no such criterion.",
        }
    }
    with pytest.raises(AnnotationInvalid) as info:
        annotation_submit(assignment=a, ratings={"helpfulness": 2})
    assert set(info.value.errors["ratings"]) == {"helpfulness", "harmlessness"}
    assert not Annotation.objects.exists()


def test_api_refuses_a_tie_with_400_and_accepts_a_choice(make_study):
    study, _ = _pair_study(make_study, allow_tie=False)
    (cred,) = annotator_create(study=study, count=1, prefix="pairapi")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {cred.token}")
    assert api.post(f"/api/studies/{study.slug}/join/", {"consent": True}, format="json").status_code == 200
    body = api.post(f"/api/studies/{study.slug}/next/").json()
    aid, task = body["assignment"]["id"], body["task"]
    assert task["kind"] == "pairwise" and len(task["responses"]) == 2 and task["allow_tie"] is False
    url = f"/api/assignments/{aid}/submit/"
    tie = api.post(url, {"ratings": {"helpfulness": 0, "harmlessness": 0}}, format="json")
    assert tie.status_code == 400
    for hostile in ({"ratings": {"helpfulness": "A"}}, {"ratings": {"helpfulness": 1e300}}, {"ratings": [1]}):
        assert api.post(url, hostile, format="json").status_code == 400
    ok = api.post(url, {"ratings": {"helpfulness": -1, "harmlessness": 1}}, format="json")
    assert ok.status_code in (200, 201)
    assert api.post(url, {"ratings": {"helpfulness": -1, "harmlessness": 1}}, format="json").status_code in (
        200,
        201,
    )
    assert Annotation.objects.count() == 1
