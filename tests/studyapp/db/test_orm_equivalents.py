"""The ORM equivalents that docs/architecture.md gives for the hand-written statements
return what the statements return (so the document stays true)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from studyapp.db import callers, claim
from studyapp.models import Assignment, Rater, Slot, Step
from studyapp.services.assignments import assignment_claim_next, assignment_queue_extend


def _first_free_orm(rater: Rater, now):
    return (
        Slot.objects.filter(
            Q(holder__isnull=True) | Q(held_until__lt=now),
            item__assignments__rater_id=rater.id,
            item__assignments__status=Assignment.Status.QUEUED,
            item__assignments__role=Assignment.Role.ITEM,
        )
        .order_by("item__assignments__position")
        .values_list("item__assignments__id", "id", "holder_id")
        .first()
    )


def test_first_free_slot_matches_its_orm_equivalent(make_study, make_rater):
    study = make_study(n=6, overlap=1, claim_timeout=5)
    first, second = make_rater(study), make_rater(study)
    t0 = timezone.now()
    for rater in (first, second):
        assignment_queue_extend(rater=rater, role=Assignment.Role.ITEM)
    for _ in range(3):
        assignment_claim_next(rater=first, study=study, now=t0)
        Assignment.objects.filter(rater=first, status=Assignment.Status.CLAIMED).update(
            status=Assignment.Status.SKIPPED
        )
    # some slots are held (one past its deadline), some free
    for now in (t0, t0 + timedelta(minutes=10)):
        for rater in (first, second):
            assert claim.slot_first_free(rater_id=rater.id, now=now) == _first_free_orm(rater, now)
    assert claim.slot_first_free(rater_id=second.id, now=t0) is not None


@pytest.mark.postgres
def test_token_lookups_match_their_orm_equivalents(make_study, make_rater):
    study = make_study(n=2)
    rater = make_rater(study)
    key = Token.objects.create(user=rater.user).key
    found = callers.rater_with_token_postgres(key=key, slug=study.slug)
    expected = (
        Rater.objects.select_related("study", "participation")
        .filter(
            user__auth_token__key=key,
            user__is_active=True,
            kind=Rater.Kind.HUMAN,
            study__slug=study.slug,
            participation__isnull=False,
        )
        .first()
    )
    assert found == expected and found.study == expected.study
    assert found.participation == expected.participation
    assert callers.rater_with_token_postgres(key="nope", slug=study.slug) is None

    assignment = assignment_claim_next(rater=rater, study=study)
    got, steps = callers.assignment_with_token_postgres(key=key, assignment_id=assignment.id)
    orm = (
        Assignment.objects.select_related("item", "study")
        .filter(
            id=assignment.id,
            rater__user__auth_token__key=key,
            rater__user__is_active=True,
            rater__kind=Rater.Kind.HUMAN,
        )
        .first()
    )
    orm_steps = list(
        Step.objects.filter(item_id=orm.item_id).order_by("index").only("id", "index", "section")
    )
    assert (got, got.item, got.study) == (orm, orm.item, orm.study)
    assert [(s.id, s.index, s.section) for s in steps] == [(s.id, s.index, s.section) for s in orm_steps]
    rater.user.is_active = False
    rater.user.save()
    assert callers.assignment_with_token_postgres(key=key, assignment_id=assignment.id) is None
