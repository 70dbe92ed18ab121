"""The annotator's pages: entry, consent, instructions, queue, item, done.

The item pages are rendered on the server (Markdown and sanitised HTML) and
talk to the JSON API (`studyapp.api`) for drafts, submission, skip and flag,
so pages and scripts share one implementation. A GET changes nothing: a
user is enrolled by their first POST (consent, instructions, or asking for
an item), an item is claimed by a POST, and a participant link's account is
made by the POST of its landing page's Start button.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from studyapp.models import Assignment, Item, Participation, Rater, Study
from studyapp.ratelimits import PARTICIPANT_IP, client_ip, ratelimit_hit, wait_text
from studyapp.selectors.annotation_tasks import (
    assignment_of_user,
    item_steps,
    newcomer_rater,
    participation_progress,
    rater_of_user,
    study_allows_tie,
    study_criteria,
    study_joinable_by_slug,
    study_preference_criteria,
)
from studyapp.selectors.participants import participant_account_exists, participant_account_of
from studyapp.selectors.queues import rater_retry_after
from studyapp.selectors.studies import study_by_slug
from studyapp.services.assignments import assignment_claim_next, pair_shown
from studyapp.services.errors import ParticipationBlocked, ServiceError, StudyNotOpen
from studyapp.services.participants import (
    participant_enter,
    participant_link_ids,
    participation_consent,
    participation_instructions_read,
    rater_for_user,
)

PROLIFIC_COMPLETE_URL = "https://app.prolific.com/submissions/complete?cc="


def _participant(request: HttpRequest, slug: str) -> tuple[Study, Rater | None]:
    """The open study and the user's rater in it if they are enrolled (GET: nothing is written)."""
    rater = rater_of_user(slug=slug, user=request.user)
    return study_joinable_by_slug(slug=slug, enrolled=rater is not None), rater


def _enrolled(request: HttpRequest, slug: str) -> tuple[Study, Rater]:
    """The user's rater in an open study, enrolling them (POST only)."""
    study, rater = _participant(request, slug)
    return study, rater if rater is not None else rater_for_user(study=study, user=request.user)


def _says_when_closed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A study that is not open gets a page saying so (with the completion code of a finished rater)."""

    @wraps(view)
    def wrapped(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, slug, *args, **kwargs)
        except StudyNotOpen:
            study = study_by_slug(slug=slug)
            rater = rater_of_user(slug=slug, user=request.user)
            progress = participation_progress(rater=rater) if rater is not None else None
            return render(
                request, "studyapp/annotate/closed.html", {"study": study, "progress": progress}, status=403
            )

    return wrapped


def _gate(study: Study, participation: Participation | None) -> str | None:
    """The page the participant must see first, if any."""
    if study.consent and (participation is None or participation.consented_at is None):
        return reverse("studyapp:consent", args=[study.slug])
    if study.instructions and (participation is None or participation.instructions_read_at is None):
        return reverse("studyapp:instructions", args=[study.slug])
    return None


@login_required
@_says_when_closed
def study_entry(request: HttpRequest, slug: str) -> HttpResponse:
    study, rater = _participant(request, slug)
    participation = rater.participation if rater is not None else None
    return redirect(_gate(study, participation) or reverse("studyapp:queue", args=[slug]))


@login_required
@require_http_methods(["GET", "POST"])
@_says_when_closed
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST":
        study, rater = _enrolled(request, slug)
        if request.POST.get("agree") == "yes":
            participation_consent(rater=rater)
            return redirect("studyapp:study_entry", slug=slug)
        return render(
            request,
            "studyapp/annotate/consent.html",
            {"study": study, "error": "Tick the box to agree, or close this page to leave."},
        )
    study, _ = _participant(request, slug)
    return render(request, "studyapp/annotate/consent.html", {"study": study})


@login_required
@require_http_methods(["GET", "POST"])
@_says_when_closed
def instructions(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST":
        _, rater = _enrolled(request, slug)
        participation_instructions_read(rater=rater)
        return redirect("studyapp:queue", slug=slug)
    study, _ = _participant(request, slug)
    return render(request, "studyapp/annotate/instructions.html", {"study": study})


@login_required
@require_http_methods(["GET"])
@_says_when_closed
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    study, rater = _participant(request, slug)
    participation = rater.participation if rater is not None else None
    gate = _gate(study, participation)
    if gate:
        return redirect(gate)
    now = timezone.now()
    who = rater or newcomer_rater(study=study, user=request.user)  # (a newcomer is not saved)
    progress = participation_progress(rater=who, now=now)
    retry_after = rater_retry_after(rater=who, now=now) if progress["wait"] else None
    complete_url = None
    if progress["finished"] and participation and participation.external_id and progress["completion_code"]:
        complete_url = PROLIFIC_COMPLETE_URL + progress["completion_code"]
    return render(
        request,
        "studyapp/annotate/queue.html",
        {
            "study": study,
            "progress": progress,
            "percent": round(100 * progress["done"] / progress["assigned"]) if progress["assigned"] else 0,
            "current": participation.current_id if participation else None,
            "complete_url": complete_url,
            "retry_after": retry_after,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_when_closed
def next_item(request: HttpRequest, slug: str) -> HttpResponse:
    """POST: claim (or resume) and go to the item page; back to the queue when none is free.

    A GET claims nothing: it shows the queue, whose button POSTs here.
    """
    if request.method != "POST":
        return redirect("studyapp:queue", slug=slug)
    study, rater = _enrolled(request, slug)
    try:
        assignment = assignment_claim_next(rater=rater, study=study)
    except ParticipationBlocked:
        return redirect("studyapp:study_entry", slug=slug)
    except StudyNotOpen:
        raise
    except ServiceError:
        return redirect("studyapp:queue", slug=slug)
    if assignment is None:
        return redirect("studyapp:queue", slug=slug)
    return redirect("studyapp:assignment_page", pk=assignment.id)


@login_required
@ensure_csrf_cookie  # the page's script sends it with every API call
def assignment_page(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = assignment_of_user(assignment_id=pk, user=request.user)
    study = assignment.study
    if assignment.status != Assignment.Status.CLAIMED:
        return redirect("studyapp:queue", slug=study.slug)
    item = assignment.item
    participation = assignment.rater.participation
    progress = participation_progress(rater=assignment.rater)
    context: dict[str, Any] = {
        "study": study,
        "assignment": assignment,
        "item": item,
        "progress": progress,
        "percent": round(100 * progress["done"] / progress["assigned"]) if progress["assigned"] else 0,
        "participation": participation,
        "page": {
            "assignment": assignment.id,
            "kind": item.kind,
            "labelMode": study.label_mode,
            "draft": assignment.draft,
            "timeOnTask": assignment.time_on_task,
            "urls": {
                "draft": reverse("api:draft", args=[assignment.id]),
                "submit": reverse("api:submit", args=[assignment.id]),
                "skip": reverse("api:skip", args=[assignment.id]),
                "flag": reverse("api:flag", args=[assignment.id]),
            },
        },
    }
    if item.kind == Item.Kind.REASONING:
        steps = item_steps(item=item)
        context["trajectory"] = [s for s in steps if s.section == "trajectory"]
        context["response"] = [s for s in steps if s.section == "response"]
        context["ask_trajectory"] = study.trajectory_rating and bool(context["trajectory"])
        context["page"]["steps"] = [s.index for s in steps]
        return render(request, "studyapp/annotate/reasoning.html", context)
    if item.kind == Item.Kind.PAIRWISE:
        # Which response is on the left is fixed per rater and item; the page never learns A from B.
        context["shown"] = pair_shown(seed=study.seed, rater_id=assignment.rater_id, item=item)
        context["allow_tie"] = study_allows_tie(study=study)
        context["criteria"] = study_preference_criteria(study=study)
        context["page"]["criteria"] = [c.name for c in context["criteria"]]
        return render(request, "studyapp/annotate/pairwise.html", context)
    criteria = study_criteria(study=study)
    context["criteria"] = [
        {
            "c": c,
            "scale": [
                {"value": v, "anchor": (c.anchors or {}).get(str(v), "")}
                for v in range(c.scale_min, c.scale_max + 1)
            ],
        }
        for c in criteria
    ]
    context["page"]["criteria"] = [c.name for c in criteria]
    return render(request, "studyapp/annotate/summary.html", context)


@require_http_methods(["GET", "POST"])
@_says_when_closed
def participant_link(request: HttpRequest, slug: str) -> HttpResponse:
    """A crowdsourcing link: `?PROLIFIC_PID=...&STUDY_ID=...&SESSION_ID=...`.

    The GET is a landing page with a Start button; its POST makes (or finds)
    the participant's account and logs it in. Someone logged in with another
    account is told so and asked to confirm before being logged out of it.
    """
    study = study_joinable_by_slug(slug=slug, enrolled=False)
    raw = {
        "participant_id": request.GET.get("PROLIFIC_PID", ""),
        "external_study_id": request.GET.get("STUDY_ID", ""),
        "session_id": request.GET.get("SESSION_ID", ""),
    }
    try:
        participant_id, _, _ = participant_link_ids(**raw)
    except ServiceError as error:
        return _link_error(request, error)
    user = request.user
    mine = participant_account_of(user=user) == participant_id
    other = user.get_username() if user.is_authenticated and not mine else None
    if request.method == "GET" and mine:
        return redirect("studyapp:study_entry", slug=slug)
    if request.method == "GET" or (other and request.POST.get("switch") != "yes"):
        context = {"study": study, "participant_id": participant_id, "other_user": other}
        status = 200 if request.method == "GET" else 409  # a POST that did not confirm the switch
        return render(request, "studyapp/annotate/landing.html", context, status=status)
    if not participant_account_exists(participant_id=participant_id):
        wait = ratelimit_hit(scope=PARTICIPANT_IP, subject=client_ip(request))
        if wait:
            message = f"Too many new participants from this network: try again in {wait_text(wait)}."
            context = {"heading": "Please wait a little", "error": message}
            response = render(request, "studyapp/annotate/link_error.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
    try:
        rater = participant_enter(study=study, **raw)
    except ServiceError as error:
        return _link_error(request, error)
    login(request, rater.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("studyapp:study_entry", slug=slug)


def _link_error(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return render(request, "studyapp/annotate/link_error.html", {"error": error.message}, status=error.status)


__all__ = [
    "assignment_page",
    "consent",
    "instructions",
    "next_item",
    "participant_link",
    "queue",
    "study_entry",
]
