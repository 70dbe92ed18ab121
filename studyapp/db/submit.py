"""The submission's statement (PostgreSQL): annotation, labels, assignment and counters in one.

`services.annotations` validates the labels and decides what the submission
adds to the counters; this function only runs the statement and marks the
instances saved. docs/architecture.md gives its ORM equivalent (the portable
path in `services.annotations`, which SQLite runs).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime

from django.db import connection

from studyapp.db.rows import literal, prepared_row, table
from studyapp.models import Annotation, Assignment, Label, Participation, Slot

STORE_SQL_POSTGRES = """
WITH held AS (
    UPDATE {slot} SET held_until = NULL
    WHERE holder_id = %(assignment)s::bigint AND %(slotted)s::boolean
    RETURNING id
), annotation AS (
    INSERT INTO {annotation}
        (item_id, rater_id, first_error, trajectory_rating, comment, time_on_task, pair_swapped, created_at)
    SELECT %(item)s::bigint, %(rater)s::bigint, %(first_error)s::integer, %(trajectory_rating)s::float8,
           %(comment)s::text, %(time_on_task)s::float8, %(pair_swapped)s::boolean, %(now)s::timestamptz
    WHERE NOT %(slotted)s::boolean OR EXISTS (SELECT 1 FROM held)
    RETURNING id
), labels AS (
    INSERT INTO {label} (annotation_id, judgment_id, step_id, criterion_id, value, score, rationale)
    SELECT annotation.id, NULL, x.step_id, x.criterion_id, x.value, NULL, x.rationale
    FROM annotation,
         jsonb_to_recordset(%(labels)s::jsonb)
             AS x(step_id bigint, criterion_id bigint, value double precision, rationale text)
    RETURNING id
), submitted AS (
    UPDATE {assignment} a
    SET status = {submitted}, submitted_at = %(now)s, annotation_id = annotation.id,
        time_on_task = %(time_on_task)s::float8, gold_correct = %(gold_correct)s::boolean,
        draft = '{{}}'::jsonb
    FROM annotation WHERE a.id = %(assignment)s::bigint AND a.status = {claimed}
    RETURNING a.id
), counted AS (
    UPDATE {participation} p
    SET current_id = NULL, n_submitted = p.n_submitted + %(n_submitted)s::integer,
        n_gold = p.n_gold + %(n_gold)s::integer,
        n_gold_correct = p.n_gold_correct + %(n_gold_correct)s::integer
    FROM submitted WHERE p.rater_id = %(rater)s::bigint
    RETURNING p.id
)
SELECT (SELECT id FROM annotation), (SELECT count(*) FROM labels), (SELECT count(*) FROM submitted),
       (SELECT count(*) FROM counted)
"""
# Each step reads the one before it (the annotation needs the slot, the labels
# and the assignment need the annotation, the counters need the assignment),
# so the slot is locked first, in the claim's lock order (slot, then assignment).


@functools.cache
def _store_sql_postgres() -> str:
    return STORE_SQL_POSTGRES.format(
        slot=table(Slot),
        annotation=table(Annotation),
        label=table(Label),
        assignment=table(Assignment),
        participation=table(Participation),
        submitted=literal(Assignment.Status.SUBMITTED),
        claimed=literal(Assignment.Status.CLAIMED),
    )


def annotation_store_postgres(
    *,
    assignment_id: int,
    slotted: bool,
    annotation: Annotation,
    labels: list[Label],
    gold_correct: bool | None,
    counters: dict[str, int],
    now: datetime,
) -> bool:
    """Store the annotation and its labels and mark the assignment submitted, in one statement.

    ``slotted``: the assignment holds a slot, which is kept for good (and must
    still be held). ``counters`` (``n_submitted``, ``n_gold``,
    ``n_gold_correct``) are added to the rater's participation. Returns False,
    having stored nothing the caller may keep, when the slot or the claim was
    gone (the caller rolls its transaction back); True with ``annotation``
    and ``labels`` marked saved otherwise.
    """
    rows = [
        {"step_id": x.step_id, "criterion_id": x.criterion_id, "value": x.value, "rationale": x.rationale}
        for x in labels
    ]
    annotation_id, n_labels, n_submitted, n_counted = prepared_row(
        _store_sql_postgres(),
        {
            "assignment": assignment_id,
            "slotted": slotted,
            "item": annotation.item_id,
            "rater": annotation.rater_id,
            "first_error": annotation.first_error,
            "trajectory_rating": annotation.trajectory_rating,
            "comment": annotation.comment,
            "time_on_task": annotation.time_on_task,
            "pair_swapped": annotation.pair_swapped,
            "now": now,
            "labels": json.dumps(rows),
            "gold_correct": gold_correct,
            **counters,
        },
    )
    if annotation_id is None or n_submitted != 1:
        return False
    if n_labels != len(labels) or n_counted != 1:
        raise RuntimeError(f"submission {assignment_id} wrote {n_labels} labels, {n_counted} counter rows")
    annotation.id = annotation.pk = annotation_id
    annotation.created_at = now
    annotation._state.adding = False
    annotation._state.db = connection.alias
    for label in labels:
        label.annotation = annotation
    return True


__all__ = ["annotation_store_postgres"]
