"""Who is calling the annotator API with a token, in one statement (PostgreSQL).

Each statement joins the token to its active user and that user's human
rater, so a row comes back only for the caller's own rater or assignment.
`selectors.api_callers` says when these are used; docs/architecture.md gives
the ORM equivalent (DRF's token authentication followed by the selectors).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from studyapp.db.rows import from_row, literal, prepared_row, select_list, split_row, table
from studyapp.models import Assignment, Item, Participation, Rater, Step, Study

RATER_SQL_POSTGRES = """
SELECT {rater_columns}, {study_columns}, {participation_columns}
FROM {token} t
JOIN {user} u ON u.id = t.user_id AND u.is_active
JOIN {rater} r ON r.user_id = u.id AND r.kind = {human}
JOIN {study} s ON s.id = r.study_id AND s.slug = %s::text
JOIN {participation} p ON p.rater_id = r.id
WHERE t.key = %s::text
"""

ASSIGNMENT_SQL_POSTGRES = """
SELECT {assignment_columns}, {item_columns}, {study_columns},
       (SELECT json_agg(json_build_array(st.id, st.index, st.section) ORDER BY st.index)
        FROM {step} st WHERE st.item_id = i.id)
FROM {token} t
JOIN {user} u ON u.id = t.user_id AND u.is_active
JOIN {assignment} a ON a.id = %s::bigint
JOIN {rater} r ON r.id = a.rater_id AND r.user_id = u.id AND r.kind = {human}
JOIN {item} i ON i.id = a.item_id
JOIN {study} s ON s.id = a.study_id
WHERE t.key = %s::text
"""


@cache
def _statement(template: str) -> str:
    """The template with its tables, the human kind and each alias's columns filled in."""
    tables: dict[str, Any] = {
        "token": Token,
        "user": get_user_model(),
        "rater": Rater,
        "study": Study,
        "participation": Participation,
        "assignment": Assignment,
        "item": Item,
        "step": Step,
    }
    columns = {"rater": "r", "study": "s", "participation": "p", "assignment": "a", "item": "i"}
    return template.format(
        **{name: table(model) for name, model in tables.items()},
        **{f"{name}_columns": select_list(tables[name], alias) for name, alias in columns.items()},
        human=literal(Rater.Kind.HUMAN),
    )


def rater_with_token_postgres(*, key: str, slug: str) -> Rater | None:
    """The token's active user's enrolled human rater in the study, with study and participation."""
    row = prepared_row(_statement(RATER_SQL_POSTGRES), [slug, key])
    if row is None:
        return None
    rater_values, study_values, participation_values = split_row(row, Rater, Study)
    rater = from_row(Rater, rater_values)
    rater.study = from_row(Study, study_values)
    rater.participation = from_row(Participation, participation_values)
    return rater


def assignment_with_token_postgres(*, key: str, assignment_id: int) -> tuple[Assignment, list[Step]] | None:
    """The token's user's assignment with its item and study, and the item's steps (id, index, section)."""
    row = prepared_row(_statement(ASSIGNMENT_SQL_POSTGRES), [assignment_id, key])
    if row is None:
        return None
    assignment_values, item_values, study_values, (raw,) = split_row(row, Assignment, Item, Study)
    assignment = from_row(Assignment, assignment_values)
    assignment.item = from_row(Item, item_values)
    assignment.study = from_row(Study, study_values)
    if isinstance(raw, str):
        raw = json.loads(raw)
    steps = [
        Step(id=step_id, item_id=assignment.item_id, index=index, section=section)
        for step_id, index, section in raw or []
    ]
    return assignment, steps


__all__ = ["assignment_with_token_postgres", "rater_with_token_postgres"]
