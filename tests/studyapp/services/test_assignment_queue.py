"""The incremental queue: a chunk of the rater's order at a time, the same order and overlap as a full one."""

from __future__ import annotations

import pytest

from studyapp.models import Assignment, Slot
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next, assignment_skip, queue_position
from tests.factories import ReasoningItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chunk_of_three(settings) -> None:
    settings.ASSIGNMENT_QUEUE_CHUNK = 3


def _order(study, rater) -> list[int]:
    items = study.items.filter(is_gold=False).values_list("id", flat=True)
    return sorted(items, key=lambda i: queue_position(seed=study.seed, rater_id=rater.id, item_id=i))


def _submit(assignment) -> None:
    steps = assignment.item.steps.values_list("index", flat=True)
    annotation_submit(assignment=assignment, step_labels=dict.fromkeys(steps, 1))


def test_the_first_claim_makes_one_chunk_of_rows_not_one_per_item(make_study, make_rater):
    study = make_study(n=40, steps=1, overlap=2)
    rater = make_rater(study)
    first = assignment_claim_next(rater=rater, study=study)
    assert first.item_id == _order(study, rater)[0]
    rows = Assignment.objects.filter(rater=rater)
    assert sorted(rows.values_list("item_id", flat=True)) == sorted(_order(study, rater)[:3])
    assert Slot.objects.count() == 3 * 2  # slots only for the items queued so far


def test_a_rater_gets_every_item_in_their_hash_order_across_chunks(make_study, make_rater):
    study = make_study(n=11, steps=1, overlap=1)
    rater = make_rater(study)
    got = []
    while (a := assignment_claim_next(rater=rater, study=study)) is not None:
        got.append(a.item_id)
        _submit(a)
    assert got == _order(study, rater)
    assert Assignment.objects.filter(rater=rater).count() == 11


def test_items_taken_by_others_are_passed_over_and_the_order_kept(make_study, make_rater):
    study = make_study(n=9, steps=1, overlap=1)
    first, second = make_rater(study), make_rater(study)
    for _ in range(4):
        _submit(assignment_claim_next(rater=first, study=study))
    done = set(Assignment.objects.filter(rater=first, status="submitted").values_list("item_id", flat=True))
    got = []
    while (a := assignment_claim_next(rater=second, study=study)) is not None:
        got.append(a.item_id)
        _submit(a)
    assert got == [i for i in _order(study, second) if i not in done]
    # Items whose k slots hold submitted annotations never enter the second rater's queue.
    assert not Assignment.objects.filter(rater=second, item_id__in=done).exists()


def test_an_item_held_by_another_claim_comes_back_when_it_is_skipped(make_study, make_rater):
    study = make_study(n=2, steps=1, overlap=1)
    holder, waiter = make_rater(study), make_rater(study)
    held = assignment_claim_next(rater=holder, study=study)
    other = assignment_claim_next(rater=waiter, study=study)
    assert other.item_id != held.item_id
    _submit(other)
    assignment_skip(assignment=held)
    assert assignment_claim_next(rater=waiter, study=study).item_id == held.item_id


def test_items_added_later_take_their_place_in_the_order(make_study, make_rater):
    study = make_study(n=6, steps=1, overlap=1)
    rater = make_rater(study)
    got = [assignment_claim_next(rater=rater, study=study)]
    _submit(got[0])
    for _ in range(4):
        ReasoningItemFactory(study=study, steps=1)
    while (a := assignment_claim_next(rater=rater, study=study)) is not None:
        got.append(a)
        _submit(a)
    assert len(got) == 10 and len({a.item_id for a in got}) == 10


def test_a_larger_overlap_gives_queued_items_their_extra_slots(make_study, make_rater):
    study = make_study(n=2, steps=1, overlap=1)
    first, second = make_rater(study), make_rater(study)
    _submit(assignment_claim_next(rater=first, study=study))
    _submit(assignment_claim_next(rater=second, study=study))
    # The first rater's queue holds the other item (full at k = 1); the second's never took it.
    assert list(Assignment.objects.filter(status="queued").values_list("rater", flat=True)) == [first.id]
    study.overlap = 2
    study.save()
    both = {assignment_claim_next(rater=r, study=study).item_id for r in (first, second)}
    assert len(both) == 2 and Slot.objects.count() == 4


def test_gold_items_are_queued_a_chunk_at_a_time_too(make_study, make_rater):
    # gold_rate 1: every claim asks for a gold item first, so the draws do not depend on ids
    study = make_study(n=6, steps=1, overlap=1, gold_rate=1.0)
    gold = {"first_error": -1}
    golds = [ReasoningItemFactory(study=study, steps=1, is_gold=True, gold=gold) for _ in range(7)]
    rater = make_rater(study)
    gold_rows = Assignment.objects.filter(rater=rater, role="gold")
    roles, queued_gold = [], []
    while (a := assignment_claim_next(rater=rater, study=study)) is not None:
        roles.append(a.role)
        queued_gold.append(gold_rows.count())
        _submit(a)
    assert roles == ["gold"] * 7 + ["item"] * 6
    # three gold rows at a time (the chunk), never the whole gold set at once
    assert queued_gold[:7] == [3, 3, 3, 6, 6, 6, 7]
    assert gold_rows.filter(status="submitted").count() == len(golds)


def test_progress_counts_the_items_not_yet_queued(make_study, make_rater):
    from studyapp.selectors.annotation_tasks import participation_progress

    study = make_study(n=10, steps=1, overlap=1)
    rater, other = make_rater(study), make_rater(study)
    assert participation_progress(rater=rater)["assigned"] == 10  # no queue yet
    _submit(assignment_claim_next(rater=other, study=study))
    assignment_claim_next(rater=rater, study=study)
    rater.participation.refresh_from_db()
    progress = participation_progress(rater=rater)
    assert (progress["done"], progress["assigned"]) == (0, 9)  # 1 claimed + 8 free, 3 of them queued


def test_a_rater_finished_at_k_is_served_again_when_the_overlap_grows(make_study, make_rater):
    study = make_study(n=2, steps=1, overlap=1)
    first, second = make_rater(study), make_rater(study)
    _submit(assignment_claim_next(rater=first, study=study))
    _submit(assignment_claim_next(rater=second, study=study))
    assert assignment_claim_next(rater=first, study=study) is None
    first.participation.refresh_from_db()
    assert first.participation.finished_at is not None  # rightly: the other item had its k
    study.overlap = 2
    study.save()
    again = assignment_claim_next(rater=first, study=study)
    assert again is not None and again.status == "claimed"
    assert not Assignment.objects.filter(rater=first, item=again.item, status="submitted").exists()
