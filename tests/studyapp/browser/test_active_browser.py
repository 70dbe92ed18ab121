"""`allocation: active` in a real browser: the wait before the draw, then only drawn items,
most valuable first; the researcher's dashboard shows the draw."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from studyapp.models import Annotation, Item
from tests.factories import ReasoningItemFactory, StudyFactory, UserFactory, judge_step_scores
from tests.studyapp.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_annotator_is_served_only_the_drawn_items_and_the_dashboard_shows_the_draw(page, live_server):
    study = StudyFactory(overlap=1, spec={"annotation": {"allocation": "active", "allocation_budget": 0.5}})
    items = [ReasoningItemFactory(study=study, steps=2, problem=f"Problem number {i}.") for i in range(8)]
    ids = [item.pk for item in items]
    sure = {i: [0.95, 0.95] for i in ids}
    judge_step_scores(study, sure | {i: [0.5, 0.5] for i in ids[:2]}, "sprm-a")
    judge_step_scores(study, sure | {i: [0.05, 0.1] for i in ids[:2]}, "sprm-b")
    UserFactory(username="act")
    login(page, "act", next_url=f"/studies/{study.slug}/queue/")
    # No item is drawn yet: the queue says so and checks again; Start serves nothing.
    assert "not ready yet" in page.inner_text("#wait")
    with page.expect_navigation():
        page.click("#start")
    assert "/queue/" in page.url

    call_command("allocate", study.slug)
    drawn = {item.pk for item in Item.objects.filter(study=study, allocation_drawn=True)}
    pi = dict(Item.objects.values_list("pk", "allocation_pi"))
    assert set(ids[:2]) <= drawn  # the items the judges disagree on have pi = 1
    page.reload()
    assert page.query_selector("#wait") is None
    assert page.inner_text("#progress-text") == f"0 / {len(drawn)} done"
    with page.expect_navigation():
        page.click("#start")
    served = []
    while "/queue/" not in page.url:
        page.wait_for_function("window.concordancePage && window.concordancePage.ready")
        served.append(int(page.inner_text(".problem .prose").split("number ")[1].strip().rstrip(".")))
        page.keyboard.press("1")
        page.keyboard.press("1")
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
    assert page.is_visible("#finished")
    assert not page.js_errors
    assert {ids[i] for i in served} == drawn and len(served) == len(drawn)
    assert [pi[ids[i]] for i in served] == sorted((pi[ids[i]] for i in served), reverse=True)
    assert set(Annotation.objects.values_list("item_id", flat=True)) == drawn

    researcher = UserFactory(username="res-act")
    researcher.groups.add(Group.objects.get_or_create(name="researchers")[0])
    page.context.clear_cookies()
    login(page, "res-act", next_url=f"/researcher/studies/{study.slug}/")
    block = page.inner_text("#allocation")
    assert "about 50% of each domain's items" in block
    row = page.inner_text("#allocation tr:nth-child(2)")
    assert row.split() == ["math", "8", "0", str(len(drawn)), "4.0", *row.split()[5:]]
    domains = page.inner_text("#domains")
    assert f"{len(drawn)} / {len(drawn)}" in domains  # progress counts the drawn items only
