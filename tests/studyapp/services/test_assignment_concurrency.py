"""50 annotators claiming at once on PostgreSQL (FOR UPDATE SKIP LOCKED), each on its own connection."""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict

import pytest
from django.db import connection

from studyapp.models import Annotation, Assignment, Item, Slot
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="row locks with SKIP LOCKED need PostgreSQL; SQLite serialises writers instead",
    ),
]

N_RATERS = 50
N_ITEMS = 24
K = 3


def _run_threads(n: int, target) -> list[BaseException]:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def _claim_and_submit_all(study, raters) -> dict[int, list[int]]:
    """Each rater on its own thread claims and submits (one-step items) until nothing is left;
    returns rater id -> items in the order served. Fails the test on any thread's error."""
    served: dict[int, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def work(i: int) -> None:
        rater = raters[i]
        while (a := assignment_claim_next(rater=rater, study=study)) is not None:
            with lock:
                served[rater.id].append(a.item_id)
            annotation_submit(assignment=a, step_labels={0: 1})

    assert _run_threads(len(raters), work) == []
    return served


def test_fifty_annotators_claiming_at_once_respect_overlap(make_study, make_rater):
    study = make_study(n=N_ITEMS, steps=2, overlap=K)
    raters = [make_rater(study) for _ in range(N_RATERS)]
    claims: list[tuple[int, int, int]] = []  # (rater, item, slot) at claim time
    lock = threading.Lock()

    def work(i: int) -> None:
        rater = raters[i]
        while (a := assignment_claim_next(rater=rater, study=study)) is not None:
            slot = Slot.objects.get(holder_id=a.id)
            with lock:
                claims.append((rater.id, a.item_id, slot.id))
            annotation_submit(assignment=a, step_labels={0: 1, 1: 1})

    errors = _run_threads(N_RATERS, work)
    assert errors == []
    # Never an item twice to one annotator.
    assert len({(r, item) for r, item, _ in claims}) == len(claims)
    # Never a slot twice, never more than k raters per item.
    assert len({s for _, _, s in claims}) == len(claims)
    raters_per_item: dict[int, set[int]] = defaultdict(set)
    for r, item, _ in claims:
        raters_per_item[item].add(r)
    assert max(len(v) for v in raters_per_item.values()) == K
    # Every item got exactly k annotations, one per (item, rater).
    per_item = Counter(Annotation.objects.values_list("item_id", flat=True))
    assert len(per_item) == N_ITEMS and set(per_item.values()) == {K}
    assert Annotation.objects.count() == len(claims) == N_ITEMS * K
    assert Assignment.objects.filter(status="claimed").count() == 0


def test_one_annotator_asking_twice_at_once_gets_one_claim(make_study, make_rater):
    study = make_study(n=5, steps=1, overlap=1)
    rater = make_rater(study)
    got: list[int] = []

    def ask(_: int) -> None:
        a = assignment_claim_next(rater=rater, study=study)
        got.append(a.id)

    assert _run_threads(8, ask) == []
    assert len(set(got)) == 1
    assert Slot.objects.filter(holder__isnull=False).count() == 1


def test_submitting_twice_at_once_stores_one_annotation(make_study, make_rater):
    study = make_study(n=1, steps=2, overlap=1)
    rater = make_rater(study)
    assignment = assignment_claim_next(rater=rater, study=study)
    results = []

    def submit(_: int) -> None:
        a = Assignment.objects.select_related("item", "study").get(id=assignment.id)
        results.append(annotation_submit(assignment=a, step_labels={0: 1, 1: -1}))

    assert _run_threads(6, submit) == []
    assert sorted(r.created for r in results) == [False] * 5 + [True]
    assert len({r.annotation.id for r in results}) == 1
    assert Annotation.objects.count() == 1


def test_concurrent_first_claims_on_small_queue_chunks(make_study, make_rater, settings):
    """30 raters start at once on queues grown 4 items at a time: every item reached, k each."""
    settings.ASSIGNMENT_QUEUE_CHUNK = 4
    n_items, k, n_raters = 30, 2, 30
    study = make_study(n=n_items, steps=1, overlap=k)
    served = _claim_and_submit_all(study, [make_rater(study) for _ in range(n_raters)])
    pairs = [(r, item) for r, items in served.items() for item in items]
    assert len(set(pairs)) == len(pairs)  # no item twice to a rater
    per_item = Counter(Annotation.objects.values_list("item_id", flat=True))
    assert len(per_item) == n_items and set(per_item.values()) == {k}  # every item reached, k times
    assert len(pairs) == n_items * k
    # Nothing was skipped or timed out, so each rater's items come in their own hash order.
    positions = dict(Assignment.objects.values_list("id", "position"))
    rows = {(a.rater_id, a.item_id): a.id for a in Assignment.objects.all()}
    for rater_id, items in served.items():
        order = [positions[rows[(rater_id, item)]] for item in items]
        assert order == sorted(order)


def test_thirty_annotators_on_an_active_study_get_only_drawn_items_k_each(make_study, make_rater, settings):
    """`allocation: active`: the same claims, on the drawn items only, most valuable first."""
    settings.ASSIGNMENT_QUEUE_CHUNK = 4
    study = make_study(
        n=30, steps=1, overlap=K, spec={"annotation": {"allocation": "active", "allocation_budget": 0.5}}
    )
    items = list(Item.objects.filter(study=study).order_by("pk"))
    for i, item in enumerate(items):  # a third drawn, with three levels of pi
        item.allocation_pi = (0.3, 0.6, 0.9)[i % 3]
        item.allocation_drawn = i % 3 != 0
    Item.objects.bulk_update(items, ["allocation_pi", "allocation_drawn"])
    drawn = {item.id for item in items if item.allocation_drawn}
    pi = {item.id: item.allocation_pi for item in items}
    served = _claim_and_submit_all(study, [make_rater(study) for _ in range(30)])
    pairs = [(r, item) for r, got in served.items() for item in got]
    assert len(set(pairs)) == len(pairs)
    per_item = Counter(Annotation.objects.values_list("item_id", flat=True))
    assert set(per_item) == drawn and set(per_item.values()) == {K}
    for got in served.values():  # no skips or timeouts: each rater's items by decreasing pi
        assert [pi[i] for i in got] == sorted((pi[i] for i in got), reverse=True)
