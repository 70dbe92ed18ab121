"""The claim's statements: take a free slot in the rater's queue order, lock the participation.

`services.assignments` decides what to claim and when; these functions only
run the statements and map their rows. docs/architecture.md gives each
statement's ORM equivalent (the portable path, which SQLite runs).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection

from studyapp.db.rows import from_row, literal, prefetched, prepared_row, select_list, split_row, table
from studyapp.models import Assignment, Domain, Item, Participation, Persona, Slot, Step

CLAIM_SQL_POSTGRES = """
WITH pick AS (
    SELECT a.id AS aid, s.id AS sid, s.holder_id AS old
    FROM {assignment} a JOIN {slot} s ON s.item_id = a.item_id
    WHERE a.rater_id = %(rater)s::bigint AND a.status = {queued} AND a.role = {role_item}
      AND (s.holder_id IS NULL OR s.held_until < %(now)s::timestamptz)
    ORDER BY a.position
    LIMIT 1
    FOR UPDATE OF s SKIP LOCKED
), freed AS (
    UPDATE {assignment} o SET status = {queued}, expires_at = NULL, expiries = o.expiries + 1
    FROM pick WHERE o.id = pick.old AND o.status = {claimed}
    RETURNING o.id
), held AS (
    UPDATE {slot} t SET holder_id = pick.aid, held_until = %(deadline)s::timestamptz
    FROM pick WHERE t.id = pick.sid
    RETURNING t.id
), claimed AS (
    UPDATE {assignment} c
    SET status = {claimed}, claimed_at = %(now)s::timestamptz, expires_at = %(deadline)s::timestamptz
    FROM pick WHERE c.id = pick.aid
    RETURNING c.*
), current AS (
    UPDATE {participation} p SET current_id = pick.aid, n_served = p.n_served + 1
    FROM pick WHERE p.id = %(participation)s::bigint
    RETURNING p.id
)
SELECT pick.aid, (SELECT count(*) FROM held), (SELECT count(*) FROM claimed),
       (SELECT count(*) FROM current),
       {assignment_columns}, {item_columns}, {domain_columns}, {persona_columns},
       (SELECT json_agg(json_build_array(st.id, st.index, st.section, st.text) ORDER BY st.index)
        FROM {step} st WHERE st.item_id = i.id)
FROM pick
LEFT JOIN claimed ON claimed.id = pick.aid
LEFT JOIN {item} i ON i.id = claimed.item_id
LEFT JOIN {domain} d ON d.id = i.domain_id
LEFT JOIN {persona} ps ON ps.id = i.persona_id
"""
# One statement picks the slot, takes it, frees a timed-out holder, records the
# claim on the participation and returns the claimed assignment with its item,
# domain, persona and steps (what the API serves next): one round trip.

CLAIM_SQL_PORTABLE = """
SELECT a.id, s.id, s.holder_id FROM {assignment} a JOIN {slot} s ON s.item_id = a.item_id
WHERE a.rater_id = %s AND a.status = {queued} AND a.role = {role_item}
  AND (s.holder_id IS NULL OR s.held_until < %s)
ORDER BY a.position
LIMIT 1
"""
# Both order by the queue position alone, so the planner walks the queue index
# and stops at the first free slot (adding the slot index forces a sort of
# every candidate row). The status is in the text, not a parameter: the queue
# index is partial (`status = 'queued'`), and a prepared statement's generic
# plan can use it only when the value is written in the statement.

LOCK_SQL_POSTGRES = """
SELECT {columns}, set_config('synchronous_commit', 'off', true)
FROM {participation} p WHERE p.rater_id = %s::bigint
FOR UPDATE
"""
# A claim commits asynchronously (`synchronous_commit = off` for this
# transaction only): PostgreSQL stays consistent, and a crash can at most lose
# claims of the last fraction of a second, whose raters then get their next
# item again. Submissions commit synchronously, and a durable commit also
# makes every earlier commit durable (the WAL is flushed in order), so an
# acknowledged submission never rests on a lost claim.


def _names() -> dict[str, str]:
    models = {
        "assignment": Assignment,
        "slot": Slot,
        "participation": Participation,
        "item": Item,
        "domain": Domain,
        "persona": Persona,
        "step": Step,
    }
    return {
        **{name: table(model) for name, model in models.items()},
        "queued": literal(Assignment.Status.QUEUED),
        "claimed": literal(Assignment.Status.CLAIMED),
        "role_item": literal(Assignment.Role.ITEM),
    }


@functools.cache
def _claim_sql_postgres() -> str:
    return CLAIM_SQL_POSTGRES.format(
        **_names(),
        assignment_columns=select_list(Assignment, "claimed"),
        item_columns=select_list(Item, "i"),
        domain_columns=select_list(Domain, "d"),
        persona_columns=select_list(Persona, "ps"),
    )


@functools.cache
def _claim_sql_portable() -> str:
    return CLAIM_SQL_PORTABLE.format(**_names())


@functools.cache
def _lock_sql_postgres() -> str:
    return LOCK_SQL_POSTGRES.format(columns=select_list(Participation, "p"), **_names())


def slot_claim_postgres(
    *, rater_id: int, participation_id: int, now: datetime, deadline: datetime
) -> Assignment | None:
    """Claim the first free slot in the rater's queue order (PostgreSQL, one prepared statement).

    Takes the slot until ``deadline``, returns its timed-out previous holder to
    that rater's queue, records the claim on the participation (current item,
    one more served) and returns the claimed assignment with its item (domain,
    persona and steps loaded); None when no slot in the queue is free.
    """
    row = prepared_row(
        _claim_sql_postgres(),
        {"rater": rater_id, "now": now, "deadline": deadline, "participation": participation_id},
    )
    if row is None:
        return None
    if tuple(row[1:4]) != (1, 1, 1):
        raise RuntimeError(f"claim of assignment {row[0]} updated {row[1:4]} rows")
    return _claimed_from_row(row)


def _claimed_from_row(row: Any) -> Assignment:
    """The claimed assignment, its item (domain, persona, steps prefetched) from the claim's row."""
    assignment_values, item_values, domain_values, persona_values, (raw,) = split_row(
        row[4:], Assignment, Item, Domain, Persona
    )
    assignment = from_row(Assignment, assignment_values)
    item = from_row(Item, item_values)
    item.domain = from_row(Domain, domain_values)
    item.persona = from_row(Persona, persona_values) if persona_values[0] is not None else None
    if isinstance(raw, str):
        raw = json.loads(raw)
    steps = [
        Step.from_db(connection.alias, ["id", "item_id", "index", "section", "text"], [sid, item.id, *rest])
        for sid, *rest in raw or []
    ]
    prefetched(item, "steps", steps)
    assignment.item = item
    return assignment


class FreeSlot(NamedTuple):
    assignment_id: int
    slot_id: int
    holder_id: int | None  # a timed-out claim still recorded on the slot


def slot_first_free(*, rater_id: int, now: datetime) -> FreeSlot | None:
    """The first queued real item of the rater with a free slot, in queue order (any database)."""
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql_portable(), [rater_id, now])
        row = cursor.fetchone()
    return None if row is None else FreeSlot(*row)


def participation_lock_postgres(*, rater_id: int) -> Participation | None:
    """The rater's participation, locked until the end of the transaction, which commits
    asynchronously (see LOCK_SQL_POSTGRES); None when the rater has none."""
    row = prepared_row(_lock_sql_postgres(), [rater_id])
    return None if row is None else from_row(Participation, row[:-1])


__all__ = ["FreeSlot", "participation_lock_postgres", "slot_claim_postgres", "slot_first_free"]
