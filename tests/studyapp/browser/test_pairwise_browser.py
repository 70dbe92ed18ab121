"""A pair labelled in Chromium by two people shown it in opposite screen orders: the database
holds each preference against the underlying response, whichever side it was shown on."""

from __future__ import annotations

import pytest

from studyapp.models import Annotation, Label
from studyapp.services.assignments import pair_swapped
from studyapp.services.participants import rater_for_user
from tests.factories import CriterionFactory, PairwiseItemFactory, RubricFactory, StudyFactory, UserFactory
from tests.studyapp.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESPONSE_A = "Response **alpha**: 11 is prime."
RESPONSE_B = "Response beta <script>window.__pwned = 'b'</script><img src=x onerror=\"window.__pwned='img'\">"


def _users_for_both_orders(study, item):
    """(username, shown B first) for two people whose seeded screen orders differ."""
    found: dict[bool, str] = {}
    for i in range(64):
        user = UserFactory(username=f"pairer{i}")
        rater = rater_for_user(study=study, user=user)
        found.setdefault(pair_swapped(seed=study.seed, rater_id=rater.id, item_id=item.id), user.username)
        if len(found) == 2:
            return [(found[False], False), (found[True], True)]
    raise AssertionError("64 raters all saw the same order")


def test_a_pair_is_labelled_against_the_underlying_responses_in_both_orders(page, live_server):
    study = StudyFactory(overlap=2, spec={"annotation": {"allow_tie": True}})
    rubric = RubricFactory(study=study)
    CriterionFactory(rubric=rubric, name="helpfulness", scale_min=-1, scale_max=1, anchors={}, position=0)
    CriterionFactory(rubric=rubric, name="harmlessness", scale_min=-1, scale_max=1, anchors={}, position=1)
    item = PairwiseItemFactory(
        study=study, problem="Name a *prime*.", response_a=RESPONSE_A, response_b=RESPONSE_B
    )
    people = _users_for_both_orders(study, item)
    for username, swapped in people:
        login(page, username, next_url=f"/studies/{study.slug}/")
        assert "/queue/" in page.url
        with page.expect_navigation():
            page.click("#start")
        page.wait_for_function("window.concordancePage && window.concordancePage.ready")
        left, right = page.inner_text("#response-1"), page.inner_text("#response-2")
        assert ("beta" in left, "alpha" in right) == (swapped, swapped)
        assert ("alpha" in left, "beta" in right) == (not swapped, not swapped)
        assert "Tie" in page.inner_text(".criteria")
        # helpfulness: the left response, by keyboard; harmlessness: the right one, by mouse
        page.keyboard.press("1")
        page.click('.row[data-key="harmlessness"] .choice[data-value="-1"]')
        page.fill("#comment", "the left one answers")
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
        assert "/queue/" in page.url
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not page.js_errors and page.dialogs == []
    stored = {}
    for annotation in Annotation.objects.filter(item=item).select_related("rater__user"):
        labels = dict(Label.objects.filter(annotation=annotation).values_list("criterion__name", "value"))
        stored[annotation.rater.user.username] = (
            labels,
            annotation.comment,
            annotation.time_on_task is not None,
        )
    (straight, _), (flipped, _) = people
    assert stored == {
        straight: ({"helpfulness": 1.0, "harmlessness": -1.0}, "the left one answers", True),  # left was A
        flipped: ({"helpfulness": -1.0, "harmlessness": 1.0}, "the left one answers", True),  # left was B
    }


def test_without_ties_no_tie_is_offered_and_a_draft_survives_a_reload(page, live_server):
    study = StudyFactory(overlap=1, spec={"annotation": {"allow_tie": False}})
    rubric = RubricFactory(study=study)
    CriterionFactory(rubric=rubric, name="overall", scale_min=-1, scale_max=1, anchors={}, position=0)
    item = PairwiseItemFactory(study=study)
    UserFactory(username="notie")
    login(page, "notie", next_url=f"/studies/{study.slug}/")
    with page.expect_navigation():
        page.click("#start")
    page.wait_for_function("window.concordancePage && window.concordancePage.ready")
    assert page.query_selector('.choice[data-value="0"]') is None
    page.keyboard.press("2")  # tie: not offered, nothing chosen
    assert page.query_selector('.choice[aria-pressed="true"]') is None
    page.keyboard.press("3")
    page.fill("#comment", "kept over a reload")
    page.reload()  # the draft (screen answers) comes back, and so does the same screen order
    page.wait_for_function("window.concordancePage && window.concordancePage.ready")
    assert page.get_attribute('.choice[data-value="-1"]', "aria-pressed") == "true"
    assert page.input_value("#comment") == "kept over a reload"
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    value = Label.objects.get(annotation__item=item).value
    swapped = pair_swapped(seed=study.seed, rater_id=Annotation.objects.get().rater_id, item_id=item.id)
    assert value == (1.0 if swapped else -1.0)  # the right-hand response: A when B was shown first
    assert Annotation.objects.get().comment == "kept over a reload"
