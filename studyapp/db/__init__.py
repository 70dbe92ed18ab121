"""Every hand-written SQL statement, and the helpers that map its rows to model instances.

`rows` maps rows to instances, names tables and choice values in a
statement's text and prepares statements; `claim` (take a slot, lock the
participation), `submit` (store an annotation) and `callers` (the API's
token lookups) hold the statements of the annotation cycle; `bulk_insert`
(COPY on PostgreSQL) and `item_delete` (set-based deletes of replaced items)
are the study import's. Services and
selectors call these functions; the rules (what may be claimed, when a
submission is refused, what it counts) stay in the services.
docs/architecture.md lists each statement beside the ORM code that would do
the same.
"""
