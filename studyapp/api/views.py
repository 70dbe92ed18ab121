"""The annotator API: the same actions as the pages, for platforms and scripts.

Every view finds the rater from the authenticated user; an assignment of
another rater is a 404. Nothing here serves judgments or others' labels.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from studyapp.api import serializers as s
from studyapp.models import Study
from studyapp.selectors.annotation_tasks import (
    assignment_of_user,
    assignment_public,
    item_task,
    participation_progress,
    rater_of_user,
    study_open_by_slug,
)
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import (
    assignment_claim_next,
    assignment_draft_save,
    assignment_flag,
    assignment_skip,
)
from studyapp.services.errors import AnnotationInvalid, ServiceError
from studyapp.services.participants import (
    participation_consent,
    participation_instructions_read,
    rater_for_user,
)


def error_response(error: ServiceError) -> Response:
    body: dict[str, Any] = {"error": error.code, "detail": error.message}
    if isinstance(error, AnnotationInvalid):
        body["errors"] = error.errors
    return Response(body, status=error.status)


def _rater(request: Request, slug: str) -> tuple[Study, Any]:
    rater = rater_of_user(slug=slug, user=request.user)
    if rater is not None:
        return rater.study, rater
    study = study_open_by_slug(slug=slug)
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


class NextView(APIView):
    @extend_schema(request=None, responses={200: s.NextOut, 409: s.ErrorOut})
    def post(self, request: Request, slug: str) -> Response:
        """Claim the next item (or get the one already claimed)."""
        study, rater = _rater(request, slug)
        try:
            assignment = assignment_claim_next(rater=rater, study=study)
        except ServiceError as error:
            return error_response(error)
        if assignment is None:
            participation = rater.participation
            participation.refresh_from_db(fields=["finished_at", "completion_code"])
            return Response(
                {
                    "assignment": None,
                    "task": None,
                    "finished": participation.finished_at is not None,
                    "completion_code": participation.completion_code or None,
                }
            )
        return Response(
            {
                "assignment": assignment_public(assignment=assignment),
                "task": item_task(assignment=assignment),
                "finished": False,
                "completion_code": None,
            }
        )


class ProgressView(APIView):
    @extend_schema(responses={200: s.ProgressOut})
    def get(self, request: Request, slug: str) -> Response:
        """Items done and assigned to the caller."""
        _, rater = _rater(request, slug)
        return Response(participation_progress(rater=rater))


class AssignmentView(APIView):
    @extend_schema(responses={200: s.NextOut, 404: s.ErrorOut})
    def get(self, request: Request, pk: int) -> Response:
        """One of the caller's assignments with its blinded task."""
        assignment = assignment_of_user(assignment_id=pk, user=request.user)
        return Response(
            {
                "assignment": assignment_public(assignment=assignment),
                "task": item_task(assignment=assignment),
                "finished": False,
                "completion_code": None,
            }
        )


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


class SubmitView(APIView):
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
        v = data.validated_data
        try:
            result = annotation_submit(
                assignment=assignment,
                step_labels=v.get("steps"),
                step_comments=v.get("step_comments"),
                ratings=v.get("ratings"),
                trajectory_rating=v.get("trajectory_rating"),
                comment=v.get("comment", ""),
                time_on_task=v.get("time_on_task"),
            )
        except ServiceError as error:
            return error_response(error)
        return Response(
            {
                "annotation": result.annotation.id,
                "first_error": result.annotation.first_error,
                "created": result.created,
            },
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


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
