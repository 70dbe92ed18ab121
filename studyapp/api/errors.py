"""Service errors as API answers: `{"error": code, "detail": message[, "errors": {...}]}`."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from studyapp.services.errors import AnnotationInvalid, ServiceError


def error_body(error: ServiceError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error.code, "detail": error.message}
    if isinstance(error, AnnotationInvalid):
        body["errors"] = error.errors
    return body


def error_response(error: ServiceError) -> Response:
    return Response(error_body(error), status=error.status)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, and a service error raised anywhere in an API view gets its own status."""
    if isinstance(exc, ServiceError):
        return error_response(exc)
    return drf_exception_handler(exc, context)


__all__ = ["error_body", "error_response", "exception_handler"]
