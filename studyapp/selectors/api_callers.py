"""Who is calling the annotator API with a token, in one query (PostgreSQL).

The two hot API calls (next item, submit) find the caller's rater, or the
caller's assignment with its item, study and steps, in one statement
(`studyapp.db.callers`) instead of DRF's token lookup followed by ORM
queries. They return None whenever the row is not there (bad or inactive
token, not enrolled, someone else's assignment); the API then takes its
ordinary path, which gives the exact error or enrols the user, so these
selectors only ever shortcut a success.
"""

from __future__ import annotations

from django.db import connection

from studyapp.db import callers
from studyapp.models import Assignment, Rater, Step


def token_key(authorization: str) -> str | None:
    """The key of an `Authorization: Token <key>` header, else None."""
    parts = authorization.split()
    if len(parts) == 2 and parts[0].lower() == "token":
        return parts[1]
    return None


def fast_path_available() -> bool:
    """The one-query lookups are written for PostgreSQL; SQLite takes the ORM path."""
    return connection.vendor == "postgresql"


def rater_by_token(*, key: str, slug: str) -> Rater | None:
    """The token's active user's enrolled rater in the study, with study and participation."""
    return callers.rater_with_token_postgres(key=key, slug=slug)


def assignment_by_token(*, key: str, assignment_id: int) -> tuple[Assignment, list[Step]] | None:
    """The token's user's assignment with its item and study, and the item's steps (id, index, section)."""
    if not -(2**63) <= assignment_id < 2**63:
        return None  # no such bigint id (the ORM path answers 404)
    return callers.assignment_with_token_postgres(key=key, assignment_id=assignment_id)


__all__ = ["assignment_by_token", "fast_path_available", "rater_by_token", "token_key"]
