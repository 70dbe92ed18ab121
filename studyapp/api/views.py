"""The annotator API: the same actions as the pages, for platforms and scripts.

Every view finds the rater from the authenticated user; an assignment of
another rater is a 404. Nothing here serves judgments or others' labels.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from studyapp.api import serializers as s
from studyapp.api.errors import error_body, error_response
from studyapp.api.json_body import JsonBodyInvalid, json_body_load, max_body_bytes
from studyapp.api.submit_input import plain_submission
from studyapp.models import Assignment, Item, Rater, Step, Study
from studyapp.selectors.annotation_tasks import (
    assignment_of_user,
    assignment_public,
    item_task,
    newcomer_rater,
    participation_progress,
    rater_of_user,
    study_joinable_by_slug,
)
from studyapp.selectors.api_callers import (
    assignment_by_token,
    fast_path_available,
    rater_by_token,
    token_key,
)
from studyapp.selectors.queues import rater_retry_after
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import (
    assignment_claim_next,
    assignment_draft_save,
    assignment_flag,
    assignment_skip,
)
from studyapp.services.errors import ServiceError
from studyapp.services.participants import (
    participation_consent,
    participation_instructions_read,
    rater_for_user,
)


def _json(body: dict[str, Any], status_code: int = 200) -> HttpResponse:
    """The body as DRF's JSONRenderer would write it."""
    text = json.dumps(body, cls=JSONEncoder, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return HttpResponse(text.encode(), status=status_code, content_type="application/json")


class TokenFastPathView(APIView):
    """An API view whose token-authenticated POSTs can skip DRF's request cycle.

    On PostgreSQL a POST with `Authorization: Token <key>` first tries
    `post_fast`, which finds the caller (and what it acts on) in one query and
    calls the same service and the same response builder as `post`. It
    returns None for anything it does not plainly handle (unknown or inactive
    token, not enrolled, another rater's assignment, a body that needs the
    serializer's verdict), and the request then goes through DRF as usual.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST" and fast_path_available():
            key = token_key(request.headers.get("authorization", ""))
            if key is not None:
                response = self.post_fast(request, key, **kwargs)
                if response is not None:
                    return response
        return super().dispatch(request, *args, **kwargs)

    def post_fast(self, request: HttpRequest, key: str, **kwargs: Any) -> HttpResponse | None:
        return None


def _rater(request: Request, slug: str) -> tuple[Study, Any]:
    """The caller's rater in the study; a first call enrols them, in an open study only."""
    rater = rater_of_user(slug=slug, user=request.user)
    if rater is not None:
        return rater.study, rater
    study = study_joinable_by_slug(slug=slug, enrolled=False)
    return study, rater_for_user(study=study, user=request.user)


class JoinView(APIView):
    @extend_schema(request=s.JoinIn, responses={200: s.ProgressOut, 400: s.ErrorOut})
    def post(self, request: Request, slug: str) -> Response:
        """Agree to the consent text (and mark the instructions read)."""
        data = s.JoinIn(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["consent"]:
            return Response(
                {"error": "consent_required", "detail": "Consent is needed to take part."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        _, rater = _rater(request, slug)
        participation_consent(rater=rater)
        if data.validated_data["instructions_read"]:
            participation_instructions_read(rater=rater)
        return Response(participation_progress(rater=rater))


def _serving(assignment: Assignment) -> dict[str, Any]:
    """The `next` answer that serves an item."""
    return {
        "assignment": assignment_public(assignment=assignment),
        "task": item_task(assignment=assignment),
        "finished": False,
        "wait": False,
        "retry_after": None,
        "completion_code": None,
    }


def _next(*, study: Study, rater: Rater) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The `next` answer: an item; or finished; or wait, with when to ask again (also `Retry-After`)."""
    try:
        assignment = assignment_claim_next(rater=rater, study=study)
    except ServiceError as error:
        return error_body(error), error.status, {}
    if assignment is not None:
        return _serving(assignment), 200, {}
    participation = rater.participation
    participation.refresh_from_db(fields=["finished_at", "completion_code"])
    if participation.finished_at is not None:
        return (
            {
                "assignment": None,
                "task": None,
                "finished": True,
                "wait": False,
                "retry_after": None,
                "completion_code": participation.completion_code or None,
            },
            200,
            {},
        )
    seconds = rater_retry_after(rater=rater, now=timezone.now())
    return (
        {
            "assignment": None,
            "task": None,
            "finished": False,
            "wait": True,
            "retry_after": seconds,
            "completion_code": None,
        },
        200,
        {"Retry-After": str(seconds)},
    )


class NextView(TokenFastPathView):
    @extend_schema(request=None, responses={200: s.NextOut, 409: s.ErrorOut})
    def post(self, request: Request, slug: str) -> Response:
        """Claim the next item (or get the one already claimed)."""
        study, rater = _rater(request, slug)
        body, code, headers = _next(study=study, rater=rater)
        return Response(body, status=code, headers=headers)

    def post_fast(self, request: HttpRequest, key: str, **kwargs: Any) -> HttpResponse | None:
        rater = rater_by_token(key=key, slug=kwargs["slug"])
        if rater is None:
            return None
        body, code, headers = _next(study=rater.study, rater=rater)
        response = _json(body, code)
        for name, value in headers.items():
            response[name] = value
        return response


class ProgressView(APIView):
    @extend_schema(responses={200: s.ProgressOut})
    def get(self, request: Request, slug: str) -> Response:
        """Items done and assigned to the caller (a caller not enrolled yet is not enrolled by a GET)."""
        rater = rater_of_user(slug=slug, user=request.user)
        if rater is None:
            study = study_joinable_by_slug(slug=slug, enrolled=False)
            rater = newcomer_rater(study=study, user=request.user)
        return Response(participation_progress(rater=rater))


class AssignmentView(APIView):
    @extend_schema(responses={200: s.NextOut, 404: s.ErrorOut})
    def get(self, request: Request, pk: int) -> Response:
        """One of the caller's assignments with its blinded task."""
        assignment = assignment_of_user(assignment_id=pk, user=request.user)
        return Response(_serving(assignment))


class DraftView(APIView):
    @extend_schema(request=s.DraftIn, responses={200: s.DraftOut, 409: s.ErrorOut})
    def put(self, request: Request, pk: int) -> Response:
        """Save work in progress and time on task."""
        assignment = assignment_of_user(assignment_id=pk, user=request.user)
        data = s.DraftIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            assignment = assignment_draft_save(
                assignment=assignment,
                draft=data.validated_data["draft"],
                time_on_task=data.validated_data.get("time_on_task"),
            )
        except ServiceError as error:
            return error_response(error)
        return Response({"saved_at": assignment.draft_saved_at, "time_on_task": assignment.time_on_task})

    post = put


def _submit(
    *, assignment: Assignment, fields: dict[str, Any], steps: list[Step] | None = None
) -> tuple[dict[str, Any], int]:
    try:
        result = annotation_submit(
            assignment=assignment,
            step_labels=fields.get("steps"),
            step_comments=fields.get("step_comments"),
            ratings=fields.get("ratings"),
            trajectory_rating=fields.get("trajectory_rating"),
            comment=fields.get("comment", ""),
            time_on_task=fields.get("time_on_task"),
            steps=steps,
        )
    except ServiceError as error:
        return error_body(error), error.status
    return {
        "annotation": result.annotation.id,
        "first_error": result.annotation.first_error,
        "created": result.created,
    }, (status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


def _plain_json(request: HttpRequest) -> bool:
    """A JSON body of a length the API takes (anything else goes to DRF's parsers for its answer)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return request.content_type == "application/json" and length <= max_body_bytes()


class SubmitView(TokenFastPathView):
    @extend_schema(
        request=s.SubmitIn,
        responses={201: s.SubmitOut, 200: s.SubmitOut, 400: s.ErrorOut, 409: s.ErrorOut},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Submit the labels; a retry returns the stored annotation (200)."""
        assignment = assignment_of_user(assignment_id=pk, user=request.user, related=("item", "study"))
        data = s.SubmitIn(data=request.data)
        if not data.is_valid():
            return Response(
                {"error": "invalid", "detail": "Malformed submission.", "errors": data.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        body, code = _submit(assignment=assignment, fields=data.validated_data)
        return Response(body, status=code)

    def post_fast(self, request: HttpRequest, key: str, **kwargs: Any) -> HttpResponse | None:
        if not _plain_json(request):
            return None
        try:
            fields = plain_submission(json_body_load(request.body or b"{}"))
        except (JsonBodyInvalid, RequestDataTooBig):
            return None  # DRF's parser gives the answer
        if fields is None:
            return None
        found = assignment_by_token(key=key, assignment_id=kwargs["pk"])
        if found is None:
            return None
        assignment, steps = found
        reasoning = assignment.item.kind == Item.Kind.REASONING
        return _json(*_submit(assignment=assignment, fields=fields, steps=steps if reasoning else None))


class SkipView(APIView):
    @extend_schema(request=s.ReasonIn, responses={200: s.AssignmentOut, 409: s.ErrorOut})
    def post(self, request: Request, pk: int) -> Response:
        """Give the item back; you will not see it again."""
        assignment = assignment_of_user(assignment_id=pk, user=request.user)
        data = s.ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            assignment = assignment_skip(assignment=assignment, reason=data.validated_data["reason"])
        except ServiceError as error:
            return error_response(error)
        return Response(assignment_public(assignment=assignment))


class FlagView(APIView):
    @extend_schema(request=s.ReasonIn, responses={200: s.AssignmentOut, 400: s.ErrorOut})
    def post(self, request: Request, pk: int) -> Response:
        """Report a broken item (a reason is required); it is released like a skip."""
        assignment = assignment_of_user(assignment_id=pk, user=request.user)
        data = s.ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            assignment = assignment_flag(assignment=assignment, reason=data.validated_data["reason"])
        except ServiceError as error:
            return error_response(error)
        return Response(assignment_public(assignment=assignment))
