"""Model instances from hand-written SQL rows, for the few hot queries that skip the ORM.

`select_list(Model, "a")` names every concrete column of the model under a
table alias, in field order; `from_row(Model, values)` turns the matching
slice of a row back into an instance the way the ORM would (each field's
`from_db_value` applied, e.g. JSON text parsed), without compiling a query;
`prefetched` attaches related rows loaded in the same statement. `table`
and `literal` put table names and choice values (`Assignment.Status.QUEUED`)
into a statement's text, so no statement spells a status by hand.

`prepared_cursor()` (PostgreSQL) runs them as server-side prepared
statements: Django's default psycopg cursor interpolates parameters on the
client, so PostgreSQL plans every execution again, which for the multi-join
hot statements costs more than running them (1 to 2 ms each, measured). The
cursor is wrapped like any Django cursor, so queries are logged and counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection, models
from django.db.backends.utils import CursorWrapper

M = TypeVar("M", bound=models.Model)


@cache
def _fields(model: type[models.Model]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    fields = model._meta.concrete_fields
    attnames = tuple(f.attname for f in fields)
    converters = tuple(getattr(f, "from_db_value", None) for f in fields)
    return attnames, converters


def table(model: type[models.Model]) -> str:
    """The model's table name, quoted for the connection's database."""
    return connection.ops.quote_name(model._meta.db_table)


def literal(choice: str) -> str:
    """A choice value (`Assignment.Status.QUEUED`) as an SQL string literal.

    For values a statement must carry in its text rather than as a parameter:
    PostgreSQL uses a partial index (`assignment_queue_idx`, `status =
    'queued'`) in a prepared statement's generic plan only when it sees the
    value. Choice values are identifiers; anything else is refused.
    """
    if not re.fullmatch(r"[a-z][a-z_]*", choice):
        raise ValueError(f"not a choice value: {choice!r}")
    return f"'{choice}'"


def width(model: type[models.Model]) -> int:
    """How many columns `select_list` names for this model."""
    return len(_fields(model)[0])


def split_row(row: Sequence[Any], *models: type[models.Model]) -> list[Sequence[Any]]:
    """The row cut into each model's `select_list` columns, in order, then what is left."""
    parts, cut = [], 0
    for model in models:
        parts.append(row[cut : cut + width(model)])
        cut += width(model)
    return [*parts, row[cut:]]


def select_list(model: type[models.Model], alias: str) -> str:
    """`alias."col", ...` for every concrete field of the model, in field order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


def from_row(model: type[M], values: Sequence[Any]) -> M:
    """An instance from the values of `select_list(model, ...)`, as the ORM would load it."""
    attnames, converters = _fields(model)
    converted = [
        value if convert is None or value is None else convert(value, None, connection)
        for value, convert in zip(values, converters, strict=True)
    ]
    return model.from_db(connection.alias, list(attnames), converted)


def prefetched(instance: models.Model, name: str, objects: list[Any]) -> None:
    """Store related rows as if `prefetch_related(name)` had loaded them: `instance.<name>.all()`."""
    manager = getattr(instance, name)
    queryset = manager.model._base_manager.all()
    queryset._result_cache = objects
    queryset._prefetch_done = True
    store: dict[str, Any] = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    store[manager.field.remote_field.cache_name] = queryset


def prepared_cursor() -> CursorWrapper:
    """A Django cursor whose statements PostgreSQL prepares once per connection and reuses."""
    connection.ensure_connection()
    raw = _preparing_cursor_class()(connection.connection)
    wrapped: CursorWrapper = (
        connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    )
    return wrapped


def prepared_row(sql: str, params: Any) -> Any:
    """Run one statement through `prepared_cursor()` and return its first row (or None)."""
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


@cache
def _preparing_cursor_class() -> Any:
    from django.db.backends.postgresql.base import ServerBindingCursor

    base: Any = ServerBindingCursor

    class PreparingCursor(base):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)

    return PreparingCursor


__all__ = [
    "from_row",
    "literal",
    "prefetched",
    "prepared_cursor",
    "prepared_row",
    "select_list",
    "table",
    "width",
]
