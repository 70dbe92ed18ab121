"""delete_items handles every relation that reaches an item, as the models declare it."""

from __future__ import annotations

from django.db import models

from studyapp.db.item_delete import RELATIONS
from studyapp.models import Annotation, Assignment, Item, Judgment, Slot, Step

RULES = ("CASCADE", "SET_NULL", "PROTECT", "RESTRICT", "SET_DEFAULT", "DO_NOTHING")


def test_relations_match_the_models() -> None:
    # Every row that points at an item, or at a row deleted with it, with its on_delete rule.
    deleted = [Item, Step, Annotation, Judgment, Assignment, Slot]
    found = set()
    for model in deleted:
        for relation in model._meta.get_fields(include_hidden=True):  # hidden: related_name="+"
            if not (relation.auto_created and not relation.concrete and relation.is_relation):
                continue
            on_delete = relation.on_delete
            rule = next(n for n in RULES if on_delete is getattr(models, n))
            found.add((relation.related_model, relation.field.name, rule))
    assert found == RELATIONS
