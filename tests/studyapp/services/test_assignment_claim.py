"""Claiming items: overlap k, per-rater order, expiry, gold mixing, qualification."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studyapp.models import Assignment, Participation, Slot
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import (
    assignment_claim_next,
    assignment_release_expired,
    assignment_skip,
    queue_position,
)
from studyapp.services.errors import AssignmentNotActive, ParticipationBlocked
from tests.factories import ReasoningItemFactory

pytestmark = pytest.mark.django_db


def _submit_all_ok(assignment: Assignment) -> None:
    steps = list(assignment.item.steps.order_by("index"))
    annotation_submit(assignment=assignment, step_labels={s.index: 1 for s in steps})


def test_each_item_goes_to_exactly_k_raters(make_study, make_rater):
    study = make_study(n=5, overlap=2)
    raters = [make_rater(study) for _ in range(4)]
    seen: dict[int, set[int]] = {}
    for _ in range(10):
        for rater in raters:
            a = assignment_claim_next(rater=rater, study=study)
            if a is None:
                continue
            assert a.rater_id == rater.id
            seen.setdefault(a.item_id, set()).add(rater.id)
            _submit_all_ok(a)
    assert len(seen) == 5
    assert all(len(r) == 2 for r in seen.values())
    assert Assignment.objects.filter(status="submitted").count() == 10
    # Everyone is finished now and gets a completion code.
    for rater in raters:
        assert assignment_claim_next(rater=rater, study=study) is None
        assert Participation.objects.get(rater=rater).completion_code


def test_unfinished_claim_is_served_again(make_study, make_rater):
    study = make_study(n=3)
    rater = make_rater(study)
    first = assignment_claim_next(rater=rater, study=study)
    again = assignment_claim_next(rater=rater, study=study)
    assert first.id == again.id
    assert Slot.objects.filter(holder__isnull=False).count() == 1


def test_order_is_per_rater_and_fixed_by_seed(make_study, make_rater):
    study = make_study(n=12, overlap=3)
    a, b = make_rater(study), make_rater(study)
    order_a = [assignment_claim_next(rater=a, study=study) for _ in range(1)]
    assert order_a[0] is not None

    def expected(rater):
        items = list(study.items.values_list("id", flat=True))
        return sorted(items, key=lambda i: queue_position(seed=study.seed, rater_id=rater.id, item_id=i))

    assert expected(a) != expected(b)
    got = []
    for _ in range(12):
        x = assignment_claim_next(rater=b, study=study)
        got.append(x.item_id)
        _submit_all_ok(x)
    assert got == expected(b)
    study.seed = 8
    assert expected(b) != got


def test_expired_claim_returns_to_the_pool(make_study, make_rater):
    study = make_study(n=1, overlap=1, claim_timeout=5)
    slow, fast = make_rater(study), make_rater(study)
    t0 = timezone.now()
    held = assignment_claim_next(rater=slow, study=study, now=t0)
    assert assignment_claim_next(rater=fast, study=study, now=t0) is None  # the only slot is held
    # Before the timeout nobody else gets the only slot.
    fast2 = make_rater(study)
    assert assignment_claim_next(rater=fast2, study=study, now=t0 + timedelta(minutes=4)) is None
    taken = assignment_claim_next(rater=make_rater(study), study=study, now=t0 + timedelta(minutes=6))
    assert taken is not None and taken.item_id == held.item_id
    held.refresh_from_db()
    assert held.status == "queued" and held.expiries == 1
    with pytest.raises(AssignmentNotActive):
        _submit_all_ok(held)
    assert Slot.objects.get().holder_id == taken.id


def test_release_expired_frees_slots(make_study, make_rater):
    study = make_study(n=2, overlap=1, claim_timeout=1)
    rater = make_rater(study)
    t0 = timezone.now()
    a = assignment_claim_next(rater=rater, study=study, now=t0)
    assert assignment_release_expired(study=study, now=t0 + timedelta(minutes=2)) == 1
    a.refresh_from_db()
    assert a.status == "queued"
    assert not Slot.objects.filter(holder__isnull=False).exists()
    # The rater gets it back (their own order, draft kept).
    again = assignment_claim_next(rater=rater, study=study, now=t0 + timedelta(minutes=3))
    assert again.id == a.id


def test_skipped_item_is_not_served_again_and_slot_freed(make_study, make_rater):
    study = make_study(n=2, overlap=1)
    rater, other = make_rater(study), make_rater(study)
    a = assignment_claim_next(rater=rater, study=study)
    assignment_skip(assignment=a, reason="too long")
    b = assignment_claim_next(rater=rater, study=study)
    assert b.item_id != a.item_id
    c = assignment_claim_next(rater=other, study=study)
    assert c.item_id == a.item_id


def test_gold_items_are_mixed_in_and_scored(make_study, make_rater):
    study = make_study(n=20, overlap=1, gold_rate=0.3)
    golds = [
        ReasoningItemFactory(study=study, steps=3, is_gold=True, gold={"first_error": 1}) for _ in range(6)
    ]
    rater = make_rater(study)
    roles = []
    while (a := assignment_claim_next(rater=rater, study=study)) is not None:
        roles.append(a.role)
        labels = {0: 1, 1: -1, 2: 1} if a.role == "gold" else {0: 1, 1: 1, 2: 1}
        if a.role == "gold" and len(roles) % 2:
            labels = {0: 1, 1: 1, 2: -1}
        annotation_submit(assignment=a, step_labels=labels)
    assert roles.count("item") == 20
    assert 1 <= roles.count("gold") <= 6
    p = Participation.objects.get(rater=rater)
    assert p.n_gold == roles.count("gold")
    assert p.n_gold_correct == Assignment.objects.filter(rater=rater, gold_correct=True).count()
    # Gold items take no slot.
    assert not Slot.objects.filter(item__in=golds).exists()


def test_qualification_gate(make_study, make_rater):
    study = make_study(n=3, overlap=3, qualification_pass_mark=1.0)
    for _ in range(2):
        ReasoningItemFactory(
            study=study,
            steps=2,
            is_gold=True,
            gold={"first_error": -1},
            metadata={"qualification": True},
        )
    good, bad = make_rater(study), make_rater(study)
    for rater, labels in ((good, {0: 1, 1: 1}), (bad, {0: -1, 1: 1})):
        for _ in range(2):
            a = assignment_claim_next(rater=rater, study=study)
            assert a.role == "qualification"
            annotation_submit(assignment=a, step_labels=labels)
    a = assignment_claim_next(rater=good, study=study)
    assert a.role == "item"
    assert assignment_claim_next(rater=bad, study=study) is None
    assert Participation.objects.get(rater=bad).qualification == "failed"
    assert Participation.objects.get(rater=good).qualification == "passed"


def test_skipping_a_qualification_item_counts_as_wrong(make_study, make_rater):
    study = make_study(n=2, overlap=1, qualification_pass_mark=0.5)
    for _ in range(2):
        ReasoningItemFactory(
            study=study, steps=1, is_gold=True, gold={"first_error": -1}, metadata={"qualification": True}
        )
    rater = make_rater(study)
    assignment_skip(assignment=assignment_claim_next(rater=rater, study=study))
    annotation_submit(assignment=assignment_claim_next(rater=rater, study=study), step_labels={0: 1})
    # One right out of two reaches the pass mark of 0.5: real items follow.
    assert assignment_claim_next(rater=rater, study=study).role == "item"
    assert Participation.objects.get(rater=rater).qualification == "passed"


def test_consent_comes_first(make_study, make_rater):
    study = make_study(n=1, consent="I agree to take part.")
    rater = make_rater(study)
    with pytest.raises(ParticipationBlocked):
        assignment_claim_next(rater=rater, study=study)


def test_quota_finishes_the_participant(make_study, make_rater):
    study = make_study(n=5, spec={"annotation": {"annotator_quota": 2, "completion_code": "C0DE"}})
    rater = make_rater(study)
    for _ in range(2):
        _submit_all_ok(assignment_claim_next(rater=rater, study=study))
    assert assignment_claim_next(rater=rater, study=study) is None
    p = Participation.objects.get(rater=rater)
    assert p.finished_at is not None and p.completion_code == "C0DE"


def test_new_items_enter_existing_queues(make_study, make_rater):
    study = make_study(n=1, overlap=1)
    rater = make_rater(study)
    _submit_all_ok(assignment_claim_next(rater=rater, study=study))
    item = ReasoningItemFactory(study=study, steps=2)
    # Finished already? Only when nothing was left at the time of asking.
    p = Participation.objects.get(rater=rater)
    assert p.finished_at is None
    a = assignment_claim_next(rater=rater, study=study)
    assert a.item_id == item.id


def test_a_full_pool_of_claims_means_wait_not_finished(make_study, make_rater):
    """5 items, k = 2: ten claims hold every slot; the eleventh rater waits, then gets an item."""
    study = make_study(n=5, steps=1, overlap=2)
    holders = [make_rater(study) for _ in range(10)]
    claims = [assignment_claim_next(rater=r, study=study) for r in holders]
    assert all(claims) and not Slot.objects.filter(holder__isnull=True).exists()
    late = make_rater(study)
    assert assignment_claim_next(rater=late, study=study) is None
    p = Participation.objects.get(rater=late)
    assert p.finished_at is None and p.completion_code == ""
    for claim in claims:
        assignment_skip(assignment=claim)
    served = assignment_claim_next(rater=late, study=study)
    assert served is not None and served.rater_id == late.id


def test_finished_only_when_no_item_can_ever_be_served(make_study, make_rater):
    study = make_study(n=2, steps=1, overlap=1)
    first, second, late = make_rater(study), make_rater(study), make_rater(study)
    _submit_all_ok(assignment_claim_next(rater=first, study=study))
    held = assignment_claim_next(rater=second, study=study)
    assert assignment_claim_next(rater=late, study=study) is None  # one item done, one held
    assert Participation.objects.get(rater=late).finished_at is None
    _submit_all_ok(held)
    assert assignment_claim_next(rater=late, study=study) is None  # both items have their k
    p = Participation.objects.get(rater=late)
    assert p.finished_at is not None and p.completion_code


def test_a_rater_told_finished_under_the_old_rule_is_served_again(make_study, make_rater):
    study = make_study(n=3, steps=1, overlap=1)
    rater = make_rater(study)
    # What the rule before stored when every free slot was only claimed: finished, with a code.
    Participation.objects.filter(rater=rater).update(finished_at=timezone.now(), completion_code="OLD")
    rater.participation.refresh_from_db()
    from studyapp.selectors.annotation_tasks import participation_progress

    assert participation_progress(rater=rater)["finished"] is False
    served = assignment_claim_next(rater=rater, study=study)
    assert served is not None
    assert Participation.objects.get(rater=rater).finished_at is None


def test_a_quota_finish_holds_for_good(make_study, make_rater):
    study = make_study(n=3, steps=1, spec={"annotation": {"annotator_quota": 1}})
    rater = make_rater(study)
    _submit_all_ok(assignment_claim_next(rater=rater, study=study))
    assert assignment_claim_next(rater=rater, study=study) is None
    ReasoningItemFactory(study=study, steps=1)
    assert assignment_claim_next(rater=rater, study=study) is None
    assert Participation.objects.get(rater=rater).finished_at is not None
