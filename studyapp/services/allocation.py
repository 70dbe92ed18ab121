"""Active allocation: which real items people label, drawn once from the judges' labels.

With `annotation.allocation: active` a study does not send every real item to
people. Once its judges have labelled the items, each item gets a probability
`pi` of a human label, proportional to how much a label is worth there (the
judges disagree, or a judge is unsure), between a floor and 1, spending an
expected `allocation_budget` share of each domain's real items
(`analysis.active.inclusion_probabilities`); then one seeded Bernoulli draw
per item decides. Only drawn items enter raters' queues, highest `pi` first,
with k slots each as before. `pi` is recorded so that the estimates stay
unbiased by inverse-probability weighting (`analysis.active.active_mean_ci`,
Zrnic & Candes 2024).

An item is drawn once: a later draw (new items, a new judge) draws only the
items not drawn yet, so no label already asked for loses its probability.

**Uncertainty of an item** (in [0, 1]), from the done judgments of the study's
judges, each label put on [0, 1] (a step: the SPRM's score, else +1 -> 1,
0 -> 0.5, -1 -> 0; a rating: its place on the criterion's scale; a pair:
A -> 1, tie -> 0.5, B -> 0):

- *disagreement*: per target (step, criterion), the range of the judges'
  values, averaged over the item's targets (0 with one judge);
- *unsureness*: per judge and target, 1 - |2 p - 1| for the SPRM's step score
  p at the 0.5 threshold (1 at the threshold, 0 at 0 or 1), the spread (the
  range over half the scale) of a critic's rating samples, and 1 for a pair a
  critic answered differently in its two orders (0 when they agreed); averaged.

The item's uncertainty is the mean of the two that are defined; NaN (no
signal: one judge with point labels, or no judgment) takes the domain's
mean in `inclusion_probabilities`.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from studyapp import tasks
from studyapp.models import Criterion, Item, JudgeRun, Judgment, Label, Rater, Study
from studyapp.selectors.queues import allocation_settings, study_is_active
from studyapp.services.errors import ServiceError

log = logging.getLogger(__name__)
RUNNING = (JudgeRun.Status.QUEUED, JudgeRun.Status.RUNNING)


class AllocationError(ServiceError):
    """The study's items cannot be allocated."""

    code = "allocation"
    status = 409


@dataclass
class DomainAllocation:
    domain: str
    items: int = 0
    drawn_now: int = 0
    selected_now: int = 0
    expected_now: float = 0.0
    selected_total: int = 0
    pi_min: float | None = None
    pi_max: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AllocationResult:
    study: str
    budget: float
    domains: list[DomainAllocation] = field(default_factory=list)

    @property
    def drawn_now(self) -> int:
        return sum(d.drawn_now for d in self.domains)

    def as_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "budget": self.budget,
            "drawn_now": self.drawn_now,
            "domains": [d.as_dict() for d in self.domains],
        }


def allocation_unit_draw(*, seed: int, item_id: int) -> float:
    """The item's uniform number in [0, 1): fixed by the study seed and the item, reproducible."""
    digest = hashlib.blake2b(f"allocation:{seed}:{item_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _step_value(label_value: float | None, score: float | None) -> float | None:
    if score is not None and math.isfinite(score):
        return min(1.0, max(0.0, float(score)))
    if label_value is None:
        return None
    return (float(label_value) + 1.0) / 2.0


def item_uncertainties(*, study: Study, item_ids: list[int]) -> dict[int, float]:
    """Each item's uncertainty in [0, 1] from the study's judges (NaN: no signal); see the module."""
    criteria = list(Criterion.objects.filter(rubric__study=study))
    scales = {c.pk: (c.scale_min, c.scale_max) for c in criteria}
    judgments = Judgment.objects.filter(
        item_id__in=item_ids,
        status=Judgment.Status.DONE,
        rater__kind=Rater.Kind.JUDGE,
        rater__active=True,
    )
    # (item, target) -> {judge: value in [0, 1]}; (item) -> unsureness terms
    values: dict[int, dict[tuple[str, int], dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    unsure: dict[int, list[float]] = defaultdict(list)
    labels = Label.objects.filter(judgment__in=judgments).values_list(
        "judgment__item_id",
        "judgment__rater_id",
        "judgment__item__kind",
        "step_id",
        "criterion_id",
        "value",
        "score",
    )
    for item_id, rater_id, kind, step_id, criterion_id, value, score in labels.iterator(chunk_size=5000):
        if step_id is not None:
            v = _step_value(value, score)
            if score is not None and v is not None:
                unsure[item_id].append(1.0 - abs(2.0 * v - 1.0))
            target = ("step", step_id)
        else:
            low, high = scales.get(criterion_id, (1, 5))
            if value is None:
                continue
            v = (
                (float(value) + 1.0) / 2.0
                if kind == Item.Kind.PAIRWISE
                else (float(value) - low) / (high - low)
            )
            v = min(1.0, max(0.0, v))
            target = ("criterion", criterion_id)
        if v is not None:
            values[item_id][target][rater_id] = v
    # A critic's rubric samples: their spread on each criterion, as a share of half the scale.
    names = {c.name: (c.scale_min, c.scale_max) for c in criteria}
    for item_id, raw in judgments.filter(raw__has_key="sample_ratings").values_list("item_id", "raw"):
        samples = raw.get("sample_ratings") if isinstance(raw, dict) else None
        if not isinstance(samples, list) or len(samples) < 2:
            continue
        for name, (low, high) in names.items():
            got = [
                float(s[name])
                for s in samples
                if isinstance(s, dict) and isinstance(s.get(name), int | float)
            ]
            if len(got) >= 2:
                unsure[item_id].append(min(1.0, (max(got) - min(got)) / ((high - low) / 2.0)))
    # A critic that answered a pair differently in its two orders is unsure of it (per criterion).
    for item_id, raw in judgments.filter(raw__has_key="consistent").values_list("item_id", "raw"):
        consistent = raw.get("consistent") if isinstance(raw, dict) else None
        if isinstance(consistent, dict):
            unsure[item_id].extend(0.0 if agreed else 1.0 for agreed in consistent.values())
    out: dict[int, float] = {}
    for item_id in item_ids:
        parts: list[float] = []
        spreads = [max(j.values()) - min(j.values()) for j in values[item_id].values() if len(j) >= 2]
        if spreads:
            parts.append(sum(spreads) / len(spreads))
        if unsure[item_id]:
            parts.append(sum(unsure[item_id]) / len(unsure[item_id]))
        out[item_id] = sum(parts) / len(parts) if parts else math.nan
    return out


def allocation_draw(*, study: Study) -> AllocationResult:
    """Give the study's undrawn real items their probability and draw them (one transaction).

    Raises AllocationError when the study is not `allocation: active` or no judge has
    labelled any of its items yet. Safe to run twice or at once: the study row is locked and
    drawn items are left alone.
    """
    from analysis.active import inclusion_probabilities  # numpy, only where it is used

    mode, share, floor = allocation_settings(study=study)
    if mode != "active" or share is None:
        raise AllocationError(
            f"study {study.slug!r} has allocation: {mode}; only an active study is allocated"
        )
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).first()
        real = Item.objects.filter(study=study, is_gold=False)
        if not Judgment.objects.filter(
            item__in=real, status=Judgment.Status.DONE, rater__kind=Rater.Kind.JUDGE
        ).exists():
            raise AllocationError(
                f"no judge of study {study.slug!r} has labelled its items yet: run a judge "
                "(run_judges) before the allocation, which is drawn from the judges' labels"
            )
        result = AllocationResult(study=study.slug, budget=share)
        rows = list(
            real.order_by("pk").values_list("pk", "domain__name", "allocation_pi", "allocation_drawn")
        )
        by_domain: dict[str, list[tuple[int, float | None, bool | None]]] = defaultdict(list)
        for pk, domain, pi, drawn in rows:
            by_domain[domain].append((pk, pi, drawn))
        todo = [pk for pk, _, pi, _ in rows if pi is None]
        uncertainty = item_uncertainties(study=study, item_ids=todo)
        updates: list[Item] = []
        for domain in sorted(by_domain):
            entries = by_domain[domain]
            summary = DomainAllocation(domain=domain, items=len(entries))
            new = [pk for pk, pi, _ in entries if pi is None]
            if new:
                u = [uncertainty[pk] for pk in new]
                if all(math.isnan(x) for x in u):
                    u = [0.0] * len(new)  # no signal anywhere in the domain: uniform
                pis = inclusion_probabilities(u, budget=share * len(new), floor=floor)
                for pk, pi in zip(new, pis, strict=True):
                    ui = uncertainty[pk]
                    p = min(1.0, max(float(pi), 1e-12))
                    drawn = allocation_unit_draw(seed=study.seed, item_id=pk) < p
                    updates.append(
                        Item(
                            pk=pk,
                            allocation_pi=p,
                            allocation_drawn=drawn,
                            allocation_uncertainty=None if math.isnan(ui) else ui,
                        )
                    )
                    summary.drawn_now += 1
                    summary.selected_now += int(drawn)
                    summary.expected_now += p
                summary.pi_min, summary.pi_max = float(min(pis)), float(max(pis))
            summary.selected_total = summary.selected_now + sum(
                1 for _, pi, d in entries if pi is not None and d
            )
            result.domains.append(summary)
        Item.objects.bulk_update(
            updates, ["allocation_pi", "allocation_drawn", "allocation_uncertainty"], batch_size=2000
        )
    return result


def allocation_draw_after_judges(*, study_id: int) -> int:
    """The draw a finished judge run asks for, for an active study with undrawn items: once
    each of the study's active judges (but imported ones) has finished a run and none is
    still going, so that every judge's labels count. Returns the items drawn (0 when there
    is nothing to do yet; `manage.py allocate` draws regardless)."""
    study = Study.objects.filter(pk=study_id).first()
    if study is None or not study_is_active(study=study):
        return 0
    if JudgeRun.objects.filter(study=study, status__in=RUNNING).exists():
        log.info("study %s: a judge run is still going; the draw waits for the last one", study.slug)
        return 0
    waiting = (
        Rater.objects.filter(study=study, kind=Rater.Kind.JUDGE, active=True)
        .exclude(judge_kind="imported")  # their labels came with the data
        .exclude(runs__status=JudgeRun.Status.DONE)
        .values_list("name", flat=True)
    )
    if waiting:
        log.info("study %s: the draw waits for judge(s) %s to finish a run", study.slug, ", ".join(waiting))
        return 0
    if not Item.objects.filter(study=study, is_gold=False, allocation_pi__isnull=True).exists():
        return 0
    try:
        result = allocation_draw(study=study)
    except AllocationError as exc:
        log.warning("study %s: no allocation drawn: %s", study.slug, exc)
        return 0
    log.info("study %s: allocation drew %d items", study.slug, result.drawn_now)
    return result.drawn_now


def allocation_request(*, study: Study) -> None:
    """After this transaction commits, ask a worker for the draw (a judge run ended)."""
    if study_is_active(study=study):
        transaction.on_commit(lambda: tasks.allocation_draw.delay(study.pk))


__all__ = [
    "AllocationError",
    "AllocationResult",
    "allocation_draw",
    "allocation_draw_after_judges",
    "allocation_request",
    "allocation_unit_draw",
    "item_uncertainties",
]
