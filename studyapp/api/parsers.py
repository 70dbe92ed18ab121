"""The API's request parsers: bounded in size, and JSON read with `json_body_load`'s limits.

DRF's parsers read the request stream directly, past Django's
`DATA_UPLOAD_MAX_MEMORY_SIZE`, so each of these refuses a body whose
Content-Length is over `API_MAX_BODY_BYTES` (413) before reading it.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from studyapp.api.json_body import JsonBodyInvalid, JsonBodyTooLarge, json_body_load, max_body_bytes


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _bounded(parser_context: dict[str, Any] | None) -> None:
    request = (parser_context or {}).get("request")
    length = request.META.get("CONTENT_LENGTH") if request is not None else None
    try:
        size = int(length or 0)
    except ValueError:
        raise ParseError("The Content-Length header is not a number.") from None
    if size > max_body_bytes():
        raise PayloadTooLarge(f"The request body is longer than {max_body_bytes()} bytes.")


class StrictJSONParser(JSONParser):
    """JSON with limits on size and depth, finite numbers, and only text the database can store."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        _bounded(parser_context)
        raw = stream.read(max_body_bytes() + 1) if stream is not None else b""
        try:
            return json_body_load(raw)
        except JsonBodyTooLarge as error:
            raise PayloadTooLarge(str(error)) from None
        except JsonBodyInvalid as error:
            raise ParseError(str(error)) from None


class BoundedFormParser(FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        _bounded(parser_context)
        return super().parse(stream, media_type, parser_context)


class BoundedMultiPartParser(MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        _bounded(parser_context)
        return super().parse(stream, media_type, parser_context)


__all__ = ["BoundedFormParser", "BoundedMultiPartParser", "PayloadTooLarge", "StrictJSONParser"]
