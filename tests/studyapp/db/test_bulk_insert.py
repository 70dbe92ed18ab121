"""insert_rows writes what bulk_create writes, with ids the caller can link to."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from studyapp.db.bulk_insert import insert_rows
from studyapp.models import Item, Judgment, Rater, Step
from tests.factories import DomainFactory, StudyFactory

pytestmark = pytest.mark.django_db

IGNORED = {"id", "created_at", "completed_at", "item_id"}


def row(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in type(obj).objects.filter(pk=obj.pk).values()[0].items() if k not in IGNORED}


def test_rows_equal_bulk_create_rows() -> None:
    domain = DomainFactory()
    study = domain.study
    fields = ("study", "domain", "kind", "external_id", "problem", "metadata", "gold", "content_hash")
    values = (study.pk, domain.pk, "reasoning", "a", "p", {"k": [1, "x"]}, None, "h" * 64)
    with transaction.atomic():
        (pk,) = insert_rows(Item, fields, [values])
    ours = Item.objects.get(pk=pk)
    orm = Item.objects.bulk_create(
        [
            Item(
                **dict(zip(fields, values, strict=True))
                | {"study": study, "domain": domain, "external_id": "b"}
            )
        ]
    )[0]
    assert row(ours) | {"external_id": "b"} == row(orm)
    assert ours.metadata == {"k": [1, "x"]} and ours.gold is None and ours.position == 0

    rater = Rater.objects.create(study=study, kind="judge", name="j", judge_kind="imported")
    fields = ("item", "rater", "status", "first_error", "raw", "completed_at")
    now = timezone.now()
    with transaction.atomic():
        (pk,) = insert_rows(Judgment, fields, [(ours.pk, rater.pk, "done", -1, {"source": "f:1"}, now)])
    judgment = Judgment.objects.get(pk=pk)
    assert (judgment.completed_at, judgment.tokens_in, judgment.error, judgment.raw) == (
        now,
        0,
        "",
        {"source": "f:1"},
    )
    assert judgment.created_at is not None  # auto_now_add


def test_ids_link_children_and_are_never_reused() -> None:
    domain = DomainFactory()
    fields = ("study", "domain", "kind", "external_id", "content_hash")
    with transaction.atomic():
        ids = insert_rows(
            Item, fields, [(domain.study_id, domain.pk, "reasoning", f"i{n}", "h") for n in range(3)]
        )
        steps = insert_rows(Step, ("item", "index", "text"), [(ids[n], 0, f"step of {n}") for n in range(3)])
    assert [Step.objects.get(pk=s).item.external_id for s in steps] == ["i0", "i1", "i2"]
    Item.objects.filter(pk=max(ids)).delete()
    with transaction.atomic():
        (again,) = insert_rows(Item, fields, [(domain.study_id, domain.pk, "reasoning", "i9", "h")])
    assert again > max(ids)  # as the ORM: a deleted id is not given again


def test_constraints_still_hold_and_nothing_is_left() -> None:
    study = StudyFactory()
    domain = DomainFactory(study=study)
    fields = ("study", "domain", "kind", "external_id", "content_hash")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Item, fields, [(study.pk, domain.pk, "reasoning", "same", "h")] * 2)
    assert not Item.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_needs_a_transaction() -> None:
    # Outside one, SQLite's ids could be taken by another writer between the read and the write.
    domain = DomainFactory()
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        insert_rows(
            Item, ("study", "domain", "kind", "external_id"), [(domain.study_id, domain.pk, "reasoning", "x")]
        )
