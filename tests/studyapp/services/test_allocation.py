"""`allocation: active`: the draw from the judges' labels, and queues that serve only drawn items."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from studyapp.models import Annotation, Item, Judgment, Rater, Study
from studyapp.selectors.queues import items_left_for
from studyapp.services.allocation import (
    AllocationError,
    allocation_draw,
    allocation_draw_after_judges,
    allocation_unit_draw,
    item_uncertainties,
)
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next
from tests.factories import (
    JudgeRaterFactory,
    JudgeRunFactory,
    JudgmentFactory,
    ReasoningItemFactory,
    judge_step_scores,
)

pytestmark = pytest.mark.django_db

ACTIVE = {"annotation": {"allocation": "active", "allocation_budget": 0.25, "allocation_floor": 0.2}}


@pytest.fixture
def active_study(make_study) -> Study:
    """40 items of 2 steps; two judges that agree and are sure on all but items 0-7."""
    study = make_study(n=40, steps=2, overlap=2, spec=ACTIVE)
    ids = list(Item.objects.filter(study=study).order_by("pk").values_list("pk", flat=True))
    sure = {i: [0.95, 0.97] for i in ids}
    judge_step_scores(study, sure | {i: [0.5, 0.55] for i in ids[:8]}, "sprm-a")
    judge_step_scores(study, sure | {i: [0.05, 0.1] for i in ids[:8]}, "sprm-b")
    return study


def test_uncertainty_is_high_where_judges_disagree_or_are_unsure(active_study):
    ids = list(Item.objects.filter(study=active_study).order_by("pk").values_list("pk", flat=True))
    u = item_uncertainties(study=active_study, item_ids=ids)
    # items 0-7: judges 0.45-0.475 apart, one at the threshold; the rest agree at 0.95-0.97
    assert all(u[i] > 0.4 for i in ids[:8])
    assert all(u[i] < 0.1 for i in ids[8:])
    assert u[ids[0]] == pytest.approx((0.45 + 0.45) / 4 + (1 + 0.9 + 0.1 + 0.2) / 8)


def test_the_draw_spends_the_budget_by_uncertainty_and_is_reproducible(active_study):
    result = allocation_draw(study=active_study)
    items = list(Item.objects.filter(study=active_study).order_by("pk"))
    pis = [i.allocation_pi for i in items]
    assert sum(pis) == pytest.approx(0.25 * 40)
    assert min(pis) >= 0.2 * 0.25 - 1e-12  # the floor: a share of the uniform 0.25
    assert min(pis[:8]) > max(pis[8:])
    for item in items:  # the draw is the seeded number against pi, nothing else
        assert item.allocation_drawn == (
            allocation_unit_draw(seed=active_study.seed, item_id=item.pk) < item.allocation_pi
        )
    [domain] = result.domains
    assert domain.items == domain.drawn_now == 40
    assert domain.selected_now == sum(i.allocation_drawn for i in items) > 0
    assert domain.expected_now == pytest.approx(10.0)


def test_an_item_is_drawn_once_and_new_items_alone_later(active_study):
    allocation_draw(study=active_study)
    before = dict(Item.objects.values_list("pk", "allocation_pi"))
    again = allocation_draw(study=active_study)
    assert again.drawn_now == 0
    assert dict(Item.objects.values_list("pk", "allocation_pi")) == before
    new = ReasoningItemFactory(study=active_study, steps=2)
    later = allocation_draw(study=active_study)
    assert later.drawn_now == 1
    new.refresh_from_db()
    assert new.allocation_pi == pytest.approx(0.25)  # no judge signal on it: uniform share
    assert new.allocation_uncertainty is None
    assert dict(Item.objects.exclude(pk=new.pk).values_list("pk", "allocation_pi")) == before


def test_uniform_studies_and_unjudged_studies_are_refused(make_study):
    uniform = make_study(n=3, steps=1)
    with pytest.raises(AllocationError, match="allocation: uniform"):
        allocation_draw(study=uniform)
    unjudged = make_study(n=3, steps=1, spec=ACTIVE)
    with pytest.raises(AllocationError, match="run a judge"):
        allocation_draw(study=unjudged)
    with pytest.raises(CommandError, match="run a judge"):
        call_command("allocate", unjudged.slug)
    with pytest.raises(CommandError, match="no study"):
        call_command("allocate", "nope")
    assert not Item.objects.filter(allocation_pi__isnull=False).exists()


def test_the_command_prints_the_draw(active_study, capsys):
    call_command("allocate", active_study.slug)
    out = capsys.readouterr().out
    assert "budget 25% of each domain's real items; 40 item(s) drawn now" in out
    selected = Item.objects.filter(allocation_drawn=True).count()
    assert f"math{' ' * 20} {40:>6} {40:>9} {selected:>8} {10.0:>8.1f}" in out


def test_queues_serve_only_drawn_items_most_valuable_first_k_each(active_study, make_rater):
    raters = [make_rater(active_study) for _ in range(3)]
    # Before the draw nothing is served, and raters are told to come back, not that they are done.
    assert assignment_claim_next(rater=raters[0], study=active_study) is None
    assert items_left_for(rater=raters[0]).count() == 40
    allocation_draw(study=active_study)
    drawn = set(Item.objects.filter(allocation_drawn=True).values_list("pk", flat=True))
    pi = dict(Item.objects.values_list("pk", "allocation_pi"))
    for rater in raters:
        served = []
        while (a := assignment_claim_next(rater=rater, study=active_study)) is not None:
            served.append(a.item_id)
            annotation_submit(assignment=a, step_labels={0: 1, 1: 1})
        if rater is not raters[-1]:
            assert set(served) == drawn  # all of them, none undrawn
            assert [pi[i] for i in served] == sorted((pi[i] for i in served), reverse=True)
        assert items_left_for(rater=rater).count() == 0
    per_item = Counter(Annotation.objects.values_list("item_id", flat=True))
    assert set(per_item) == drawn and set(per_item.values()) == {2}  # k = 2, the third got none


def test_a_finished_judge_run_draws_once_every_judge_has_finished_one(active_study):
    judge_a, judge_b = Rater.objects.filter(study=active_study, kind="judge").order_by("name")
    JudgeRunFactory(study=active_study, rater=judge_a, status="done")
    assert allocation_draw_after_judges(study_id=active_study.pk) == 0  # sprm-b has not run
    running = JudgeRunFactory(study=active_study, rater=judge_b, status="running")
    assert allocation_draw_after_judges(study_id=active_study.pk) == 0  # still going
    assert not Item.objects.filter(allocation_pi__isnull=False).exists()
    running.status = "done"
    running.save()
    assert allocation_draw_after_judges(study_id=active_study.pk) == 40
    assert allocation_draw_after_judges(study_id=active_study.pk) == 0  # a redelivery draws none


def test_a_judge_with_no_labels_leaves_the_draw_uniform(make_study):
    study = make_study(n=10, steps=1, spec=ACTIVE)
    judge = JudgeRaterFactory(study=study, judge_kind="critic")
    for item in Item.objects.filter(study=study):
        JudgmentFactory(item=item, rater=judge)
    allocation_draw(study=study)
    assert all(math.isclose(p, 0.25) for p in Item.objects.values_list("allocation_pi", flat=True))
    assert Judgment.objects.count() == 10


def test_study_status_gives_the_draw(active_study, capsys):
    call_command("study_status", active_study.slug, "--json")
    before = json.loads(capsys.readouterr().out)["allocation"]
    assert before["mode"] == "active" and before["budget"] == 0.25
    assert before["domains"] == [
        {"domain": "math", "items": 40, "allocated": 0, "drawn": 0, "expected": 0.0}
        | {"pi_min": None, "pi_max": None, "waiting": 40}
    ]
    allocation_draw(study=active_study)
    call_command("study_status", active_study.slug)
    drawn = Item.objects.filter(allocation_drawn=True).count()
    assert f"math: {drawn} of 40 items sent to people, 0 not drawn yet" in capsys.readouterr().out


def test_critic_samples_and_pair_orders_make_an_item_uncertain(make_study):
    study = make_study(n=0, summaries=2, spec=ACTIVE)
    spread, steady = Item.objects.filter(study=study).order_by("pk")
    critic = JudgeRaterFactory(study=study, judge_kind="critic")
    JudgmentFactory(item=spread, rater=critic, raw={"sample_ratings": [{"accuracy": 1}, {"accuracy": 5}]})
    JudgmentFactory(item=steady, rater=critic, raw={"sample_ratings": [{"accuracy": 4}, {"accuracy": 4}]})
    u = item_uncertainties(study=study, item_ids=[spread.pk, steady.pk])
    assert u[spread.pk] == pytest.approx(1.0) and u[steady.pk] == pytest.approx(0.0)
    pairs = make_study(n=0, spec=ACTIVE)
    flip, same = (
        ReasoningItemFactory(study=pairs, steps=0, kind="pairwise", response_a="a", response_b="b")
        for _ in range(2)
    )
    judge = JudgeRaterFactory(study=pairs, judge_kind="critic")
    JudgmentFactory(item=flip, rater=judge, raw={"consistent": {"overall": False, "style": True}})
    JudgmentFactory(item=same, rater=judge, raw={"consistent": {"overall": True}})
    u = item_uncertainties(study=pairs, item_ids=[flip.pk, same.pk])
    assert u[flip.pk] == pytest.approx(0.5) and u[same.pk] == pytest.approx(0.0)
