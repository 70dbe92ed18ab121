"""A researcher watches the live estimates appear on the dashboard after an annotator
rates items in the browser; a real worker (the embedded filesystem broker) refreshes them."""

from __future__ import annotations

import time

import pytest

from studyapp.models import LiveSnapshot
from studyapp.selectors.live import live_annotation_count
from tests.factories import UserFactory
from tests.studyapp.browser.conftest import login
from tests.studyapp.live_study import load_live_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("broker", ["filesystem"], indirect=True)
def test_the_dashboard_shows_the_estimates_after_annotations(
    page, browser, live_server, tmp_path, settings, broker, workers
):
    settings.LIVE_DEBOUNCE_SECONDS = 1
    study = load_live_study(tmp_path, n=40, unrated=10)
    workers.start("w", env={"CONCORDANCE_LIVE_DEBOUNCE_SECONDS": "1"})

    UserFactory(username="ann")
    login(page, "ann", next_url=f"/studies/{study.slug}/")
    with page.expect_navigation():
        page.click("#start")
    for _ in range(2):
        page.wait_for_function("window.concordancePage && window.concordancePage.ready")
        page.keyboard.press("4")  # accuracy
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
    assert not page.js_errors
    total = live_annotation_count(study=study)
    assert total == 2 * 40 * 3 + 2

    UserFactory(username="res", is_staff=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    researcher = context.new_page()
    login(researcher, "res", next_url=f"/researcher/studies/{study.slug}/")
    status = researcher.locator("#live .live-status")
    end = time.monotonic() + 120
    while f"{total} annotations; 0 since." not in status.inner_text():
        assert time.monotonic() < end, f"the estimates never appeared: {status.inner_text()!r}"
        time.sleep(0.5)
        researcher.reload()
    assert "Refreshing" not in status.inner_text()
    domains = researcher.locator("#live h3.live-domain").all_inner_texts()
    assert domains == ["news: decided", "stories: not decided"]
    news = researcher.locator("#live h3[data-domain=news] + p + table tr.live-row")
    assert news.count() == 1
    cells = news.first.locator("td").all_inner_texts()
    assert cells[0] == "rubric / accuracy" and cells[2] == "critic" and cells[3] == "mean human rating"
    value, ci = cells[4].split(" ", 1)
    low, high = (float(x) for x in ci.strip("[]").split(", "))
    assert low <= float(value) <= high
    assert cells[8].startswith("replace: passes the alternative-annotator test at epsilon 0.1")
    stories = researcher.locator("#live h3[data-domain=stories] + p")
    assert stories.inner_text().startswith("rubric/accuracy, critic: no verdict while people disagree")
    assert LiveSnapshot.objects.get(study=study).n_annotations == total
    researcher.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    context.close()
