"""Who is calling the annotator API with a token, in one query (PostgreSQL).

The two hot API calls (next item, submit) find the caller's rater, or the
caller's assignment with its item, study and steps, in one statement instead
of DRF's token lookup followed by ORM queries. They return None whenever the
row is not there (bad or inactive token, not enrolled, someone else's
assignment); the API then takes its ordinary path, which gives the exact
error or enrols the user, so these selectors only ever shortcut a success.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token

from studyapp.models import Assignment, Item, Participation, Rater, Step, Study
from studyapp.sql_rows import from_row, prepared_cursor, select_list, width


def token_key(authorization: str) -> str | None:
    """The key of an `Authorization: Token <key>` header, else None."""
    parts = authorization.split()
    if len(parts) == 2 and parts[0].lower() == "token":
        return parts[1]
    return None


def fast_path_available() -> bool:
    """The one-query lookups are written for PostgreSQL; SQLite takes the ORM path."""
    return connection.vendor == "postgresql"


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    models = {
        "token": Token,
        "user": get_user_model(),
        "rater": Rater,
        "study": Study,
        "participation": Participation,
        "assignment": Assignment,
        "item": Item,
        "step": Step,
    }
    return {name: quote(model._meta.db_table) for name, model in models.items()}


@cache
def _rater_sql() -> str:
    return f"""
SELECT {select_list(Rater, "r")}, {select_list(Study, "s")}, {select_list(Participation, "p")}
FROM {{token}} t
JOIN {{user}} u ON u.id = t.user_id AND u.is_active
JOIN {{rater}} r ON r.user_id = u.id AND r.kind = 'human'
JOIN {{study}} s ON s.id = r.study_id AND s.slug = %s::text
JOIN {{participation}} p ON p.rater_id = r.id
WHERE t.key = %s::text
""".format(**_tables())


def rater_by_token(*, key: str, slug: str) -> Rater | None:
    """The token's active user's enrolled rater in the study, with study and participation."""
    with prepared_cursor() as cursor:
        cursor.execute(_rater_sql(), [slug, key])
        row = cursor.fetchone()
    if row is None:
        return None
    n_rater, n_study = width(Rater), width(Study)
    rater = from_row(Rater, row[:n_rater])
    rater.study = from_row(Study, row[n_rater : n_rater + n_study])
    rater.participation = from_row(Participation, row[n_rater + n_study :])
    return rater


@cache
def _assignment_sql() -> str:
    return f"""
SELECT {select_list(Assignment, "a")}, {select_list(Item, "i")}, {select_list(Study, "s")},
       (SELECT json_agg(json_build_array(st.id, st.index, st.section) ORDER BY st.index)
        FROM {{step}} st WHERE st.item_id = i.id)
FROM {{token}} t
JOIN {{user}} u ON u.id = t.user_id AND u.is_active
JOIN {{assignment}} a ON a.id = %s::bigint
JOIN {{rater}} r ON r.id = a.rater_id AND r.user_id = u.id AND r.kind = 'human'
JOIN {{item}} i ON i.id = a.item_id
JOIN {{study}} s ON s.id = a.study_id
WHERE t.key = %s::text
""".format(**_tables())


def assignment_by_token(*, key: str, assignment_id: int) -> tuple[Assignment, list[Step]] | None:
    """The token's user's assignment with its item and study, and the item's steps (id, index, section)."""
    if not -(2**63) <= assignment_id < 2**63:
        return None  # no such bigint id (the ORM path answers 404)
    with prepared_cursor() as cursor:
        cursor.execute(_assignment_sql(), [assignment_id, key])
        row = cursor.fetchone()
    if row is None:
        return None
    n_assignment, n_item = width(Assignment), width(Item)
    assignment = from_row(Assignment, row[:n_assignment])
    assignment.item = from_row(Item, row[n_assignment : n_assignment + n_item])
    assignment.study = from_row(Study, row[n_assignment + n_item : -1])
    raw: Any = row[-1]
    if isinstance(raw, str):
        raw = json.loads(raw)
    steps = [
        Step(id=step_id, item_id=assignment.item_id, index=index, section=section)
        for step_id, index, section in raw or []
    ]
    return assignment, steps


__all__ = ["assignment_by_token", "fast_path_available", "rater_by_token", "token_key"]
