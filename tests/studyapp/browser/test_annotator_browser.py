"""An annotator's path in a real browser: keyboard labelling, drafts, summaries, XSS, dashboard."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from studyapp.models import Annotation, Label, Participation
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next
from studyapp.services.participants import (
    participation_consent,
    participation_instructions_read,
    rater_for_user,
)
from tests.factories import (
    CriterionFactory,
    ReasoningItemFactory,
    RubricFactory,
    StudyFactory,
    SummaryItemFactory,
    UserFactory,
)
from tests.studyapp.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _study(**fields):
    study = StudyFactory(
        overlap=1,
        consent="You agree to take part.",
        instructions="Rate each **step**.",
        trajectory_rating=True,
        **fields,
    )
    rubric = RubricFactory(study=study)
    CriterionFactory(rubric=rubric, name="accuracy", position=0)
    CriterionFactory(rubric=rubric, name="usefulness", position=1)
    return study


def _pressed(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        ".row",
        """rows => Object.fromEntries(rows.map(r => {
            const b = r.querySelector('.choice[aria-pressed="true"]');
            return [r.dataset.key, b ? b.dataset.value : null];
        }))""",
    )


def _submit(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")


def _label_reasoning(page) -> None:
    # Steps 0-1 are the thinking trajectory, 2-4 the final response.
    assert page.is_visible("#trajectory") and page.is_visible("#response")
    page.keyboard.press("1")  # step 0: +1
    page.keyboard.press("2")  # step 1: 0
    page.wait_for_function("localStorage.length > 0")
    page.wait_for_selector("#save-state:has-text('draft saved')")
    # Time on task counts while the page is visible and survives a reload.
    page.wait_for_function("document.getElementById('timer').textContent >= '0:02'")
    page.reload()  # (leaving the page saves the draft with the time so far)
    page.wait_for_function("window.concordancePage && window.concordancePage.ready")
    assert _pressed(page) == {"0": "1", "1": "0", "2": None, "3": None, "4": None}
    assert page.inner_text("#timer") >= "0:02"
    # The draft also lives on the server: clear the browser copy and reload again.
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_function("window.concordancePage && window.concordancePage.ready")
    assert _pressed(page)["1"] == "0"
    # Submitting now is refused, with the missing steps marked inline.
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".row.invalid")
    assert page.eval_on_selector_all(".row.invalid", "rs => rs.map(r => r.dataset.key)") == [
        "2",
        "3",
        "4",
    ]
    page.click("#step-2")
    page.keyboard.press("3")  # step 2: -1
    page.keyboard.press("+")  # step 3: +1
    page.keyboard.press("1")  # step 4: +1
    assert page.inner_text("#first-error") == "step 3"
    page.keyboard.press("k")
    page.keyboard.press("k")  # back on step 2
    page.keyboard.press("c")
    page.keyboard.type("sign error")
    page.keyboard.press("Escape")
    page.check("input[name=trajectory_rating][value='4']")
    assert _pressed(page) == {"0": "1", "1": "0", "2": "-1", "3": "1", "4": "1"}
    _submit(page)


def _rate_summary(page) -> None:
    assert "You are rating this summary for" in page.inner_text("#persona")
    page.keyboard.press("5")  # accuracy
    page.keyboard.press("3")  # usefulness
    page.fill("#comment", "clear enough")
    _submit(page)


def test_annotator_labels_by_keyboard_restores_draft_and_submits(page, live_server):
    study = _study()
    reasoning = ReasoningItemFactory(study=study, steps=3, steps__trajectory=2)
    summary = SummaryItemFactory(study=study)
    UserFactory(username="ann")
    login(page, "ann", next_url=f"/studies/{study.slug}/")
    assert "/consent/" in page.url
    page.check("#agree")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "Rate each" in page.inner_text("main")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.inner_text("#progress-text") == "0 / 2 done"
    with page.expect_navigation():
        page.click("#start")
    for _ in range(2):
        page.wait_for_function("window.concordancePage && window.concordancePage.ready")
        if page.query_selector(".annotation.reasoning"):
            _label_reasoning(page)
        else:
            _rate_summary(page)
    assert "/queue/" in page.url
    assert page.is_visible("#finished")
    code = Participation.objects.get(rater__user__username="ann").completion_code
    assert page.inner_text("#completion-code") == code
    assert not page.js_errors

    a = Annotation.objects.get(item=reasoning)
    assert a.first_error == 2 and a.trajectory_rating == 4
    assert a.time_on_task >= 2
    steps = {lab.step.index: lab for lab in Label.objects.filter(annotation=a).select_related("step")}
    assert {i: lab.value for i, lab in steps.items()} == {0: 1, 1: 0, 2: -1, 3: 1, 4: 1}
    assert steps[2].rationale == "sign error"
    s = Annotation.objects.get(item=summary)
    assert s.comment == "clear enough"
    ratings = dict(Label.objects.filter(annotation=s).values_list("criterion__name", "value"))
    assert ratings == {"accuracy": 5, "usefulness": 3}
    assert Annotation.objects.count() == 2 and Label.objects.count() == 7


def test_untrusted_html_in_items_does_not_run(page, live_server):
    study = StudyFactory(overlap=1)
    item = ReasoningItemFactory(
        study=study, steps=0, problem="Problem <script>window.__pwned = 'problem'; alert(1)</script>"
    )
    item.steps.create(index=0, section="response", text="<script>window.__pwned = 'step'</script>x")
    item.steps.create(
        index=1, section="response", text="<img src=x onerror=\"window.__pwned='img'; alert(2)\">"
    )
    item.steps.create(index=2, section="response", text="[click](javascript:alert(3)) <svg onload=alert(4)>")
    item.steps.create(index=3, section="response", text="$x<script>alert(5)</script>$")
    UserFactory(username="ann2")
    login(page, "ann2", next_url=f"/studies/{study.slug}/next/")  # a GET claims nothing: the queue
    assert "/queue/" in page.url
    with page.expect_navigation():
        page.click("#start")
    page.wait_for_function("window.concordancePage && window.concordancePage.ready")
    page.click("#step-2 a")  # a sanitised link has no href: nothing happens
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []
    assert page.query_selector_all(".prose script, .prose img, .prose iframe") == []
    assert (
        page.eval_on_selector_all(".prose svg", "svgs => svgs.filter(s => !s.closest('.katex')).length") == 0
    )
    assert "alert(5)" in page.inner_text("#step-3")  # math source shown as text, not run


def test_researcher_sees_progress_and_annotators_cannot(page, live_server):
    study = _study()
    for _ in range(2):
        ReasoningItemFactory(study=study, steps=2)
    worker = UserFactory(username="worker")
    rater = rater_for_user(study=study, user=worker)
    participation_consent(rater=rater)
    participation_instructions_read(rater=rater)
    assignment = assignment_claim_next(rater=rater, study=study)
    annotation_submit(assignment=assignment, step_labels={0: 1, 1: 1}, time_on_task=42)
    researcher = UserFactory(username="res")
    researcher.groups.add(Group.objects.get_or_create(name="researchers")[0])

    login(page, "worker", next_url="/")
    response = page.goto(f"/researcher/studies/{study.slug}/")
    assert response.status == 403
    response = page.goto("/admin/")
    assert "/admin/login/" in page.url  # the admin asks for a staff login
    page.context.clear_cookies()

    login(page, "res", next_url=f"/researcher/studies/{study.slug}/")
    domains = page.inner_text("#domains")
    assert "math" in domains and "1 / 2" in domains
    annotators = page.inner_text("#annotators")
    assert "worker" in annotators and "42 s" in annotators


def test_prolific_participant_starts_from_the_landing_page(page, live_server):
    study = _study(spec={"annotation": {"completion_code": "LAND1"}})
    ReasoningItemFactory(study=study, steps=2)
    researcher = UserFactory(username="res2")
    researcher.groups.add(Group.objects.get_or_create(name="researchers")[0])
    link = f"/p/{study.slug}/?PROLIFIC_PID=5f00aa&STUDY_ID=s1&SESSION_ID=x1"
    # A researcher logged in on this browser is asked before being logged out.
    login(page, "res2", next_url="/")
    page.goto(link)
    assert "You are logged in as res2" in page.inner_text("#logged-in-as")
    with page.expect_navigation():
        page.click("#stay")
    assert "res2" in page.inner_text("header")
    page.goto(link)
    with page.expect_navigation():
        page.click("#start")  # log out of res2 and start
    assert "/consent/" in page.url and "p-5f00aa" in page.inner_text("header")
    page.check("#agree")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    with page.expect_navigation():
        page.click("form button[type=submit]")  # instructions read
    with page.expect_navigation():
        page.click("#start")
    page.wait_for_function("window.concordancePage && window.concordancePage.ready")
    page.keyboard.press("1")
    page.keyboard.press("1")
    page.check("input[name=trajectory_rating][value='3']") if page.query_selector(
        "#trajectory-rating"
    ) else None
    _submit(page)  # the page POSTs for the next item; none is left: the queue says finished
    assert "/queue/" in page.url and page.inner_text("#completion-code") == "LAND1"
    assert "app.prolific.com/submissions/complete?cc=LAND1" in page.get_attribute(
        "text=Return to Prolific", "href"
    )
    assert Annotation.objects.get().rater.user.username == "p-5f00aa"
    assert not page.js_errors
