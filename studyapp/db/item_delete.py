"""Delete items and what hangs on them, a fixed number of statements for any number of items.

`delete_items(ids)` stands for `Item.objects.filter(pk__in=ids).delete()`.
Django's collector reads every step, annotation, judgment, assignment and
slot of the items into memory and deletes them in batches of a few hundred
(441 statements and 9 s for 5,000 items of 6 steps); here each table is one
statement per `BATCH` items, following the models' `on_delete` rules:

| row | points at | on_delete | here |
| --- | --- | --- | --- |
| Label | Step, Annotation, Judgment | CASCADE | deleted |
| Slot | Assignment (`holder`) | SET_NULL | cleared, with `held_until` (a check wants both) |
| Participation | Assignment (`current`) | SET_NULL | cleared |
| Slot, Assignment, Annotation, Judgment, Step | Item | CASCADE | deleted |
| Assignment | Annotation | PROTECT | the foreign key fails the transaction |

`RELATIONS` lists these; a test checks it against the models, so a new
model pointing at one of these tables cannot be missed. Like a queryset
`delete()`, it sends no signals. It must run inside `transaction.atomic()`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from studyapp.models import Annotation, Assignment, Item, Judgment, Label, Participation, Slot, Step

__all__ = ["RELATIONS", "delete_items"]

# (model, field, on_delete) for every relation that reaches an item, as the statements below handle it.
RELATIONS = {
    (Label, "step", "CASCADE"),
    (Label, "annotation", "CASCADE"),
    (Label, "judgment", "CASCADE"),
    (Slot, "holder", "SET_NULL"),
    (Participation, "current", "SET_NULL"),
    (Assignment, "annotation", "PROTECT"),
    (Slot, "item", "CASCADE"),
    (Assignment, "item", "CASCADE"),
    (Annotation, "item", "CASCADE"),
    (Judgment, "item", "CASCADE"),
    (Step, "item", "CASCADE"),
}
BATCH = 500  # items a statement (SQLite binds at most 999 parameters)


def delete_items(ids: Sequence[int]) -> None:
    """Delete the items `ids` with their steps, labels, annotations, judgments, assignments and slots."""
    if not connection.in_atomic_block:
        raise RuntimeError("delete_items runs inside transaction.atomic()")
    models = (Item, Step, Annotation, Judgment, Label, Assignment, Slot, Participation)
    t = {m.__name__: connection.ops.quote_name(m._meta.db_table) for m in models}
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH):
            batch = list(ids[start : start + BATCH])
            items = ", ".join(["%s"] * len(batch))
            statements = [
                f"DELETE FROM {t['Label']} WHERE step_id IN "
                f"(SELECT id FROM {t['Step']} WHERE item_id IN ({items}))",
                f"DELETE FROM {t['Label']} WHERE annotation_id IN "
                f"(SELECT id FROM {t['Annotation']} WHERE item_id IN ({items}))",
                f"DELETE FROM {t['Label']} WHERE judgment_id IN "
                f"(SELECT id FROM {t['Judgment']} WHERE item_id IN ({items}))",
                f"DELETE FROM {t['Slot']} WHERE item_id IN ({items})",
                f"UPDATE {t['Slot']} SET holder_id = NULL, held_until = NULL WHERE holder_id IN "
                f"(SELECT id FROM {t['Assignment']} WHERE item_id IN ({items}))",
                f"UPDATE {t['Participation']} SET current_id = NULL WHERE current_id IN "
                f"(SELECT id FROM {t['Assignment']} WHERE item_id IN ({items}))",
                f"DELETE FROM {t['Assignment']} WHERE item_id IN ({items})",
                f"DELETE FROM {t['Annotation']} WHERE item_id IN ({items})",
                f"DELETE FROM {t['Judgment']} WHERE item_id IN ({items})",
                f"DELETE FROM {t['Step']} WHERE item_id IN ({items})",
                f"DELETE FROM {t['Item']} WHERE id IN ({items})",
            ]
            for sql in statements:
                cursor.execute(sql, batch)
