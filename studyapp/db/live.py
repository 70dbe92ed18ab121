"""The submission's one extra statement: mark a study's live snapshot pending.

`services.live.live_refresh_request` runs it after each submission; a refresh is queued
only when it returns a row, so a burst of submissions queues one refresh. One statement
on both databases (PostgreSQL, SQLite >= 3.35): it creates the row the first time and
otherwise updates it only while no refresh is pending. docs/architecture.md gives its
ORM equivalent.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.db import connection

from studyapp.db.rows import literal, prepared_row, table
from studyapp.models import LiveSnapshot

PENDING_SQL = """
INSERT INTO {live} (study_id, pending, requested_at, status, attempts, n_annotations, error)
VALUES (%s, TRUE, %s, {queued}, 0, 0, '')
ON CONFLICT (study_id) DO UPDATE
SET pending = TRUE,
    requested_at = excluded.requested_at,
    status = CASE WHEN {live}.status = {running} THEN {live}.status ELSE {queued} END
WHERE NOT {live}.pending
RETURNING id
"""


@functools.cache
def _statement(vendor: str) -> str:
    return PENDING_SQL.format(
        live=table(LiveSnapshot),
        queued=literal(LiveSnapshot.Status.QUEUED),
        running=literal(LiveSnapshot.Status.RUNNING),
    )


def live_mark_pending(*, study_id: int, now: datetime) -> bool:
    """Set the study's snapshot pending (creating it); True when it was not pending already.
    A running build keeps its lease (status running); any other is queued."""
    sql = _statement(connection.vendor)
    if connection.vendor == "postgresql":
        return prepared_row(sql, [study_id, now]) is not None
    with connection.cursor() as cursor:
        cursor.execute(sql, [study_id, now])
        return cursor.fetchone() is not None
