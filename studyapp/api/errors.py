"""Service errors as API answers: `{"error": code, "detail": message[, "errors": {...}]}`."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import APIException
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
    """DRF's handler, with a stable `error` code beside its `detail`; a service error gets its own status."""
    if isinstance(exc, ServiceError):
        return error_response(exc)
    response = drf_exception_handler(exc, context)
    plain = response is not None and isinstance(response.data, dict) and set(response.data) == {"detail"}
    if plain and isinstance(exc, APIException):
        codes = exc.get_codes()
        response.data = {"error": codes if isinstance(codes, str) else "invalid", **response.data}
    return response


__all__ = ["error_body", "error_response", "exception_handler"]
