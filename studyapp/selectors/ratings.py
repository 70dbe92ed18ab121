"""Every rating of a study as plain rows: the tidy table of `analysis.tidy`, and a CSV export.

Mapping from the models (judgments count only when ``status == done``):

===========================================  ===============  ==============  =====================
source                                       ``level``        ``criterion``   ``unit``
===========================================  ===============  ==============  =====================
step Label (of an Annotation or a Judgment)  ``step_label``   step section    ``<item>:<step index>``
criterion Label                              ``rubric``       criterion name  ``<item>``
``Annotation.first_error`` /                 ``first_error``  ``""``          ``<item>``
``Judgment.first_error``
``Annotation.trajectory_rating`` /           ``trajectory``   ``trajectory``  ``<item>``
``Judgment.trajectory_score``
===========================================  ===============  ==============  =====================

``<item>`` is the item's external id; ``domain`` its domain's name. A step
label's section (``trajectory`` or ``response``) is its criterion, so thinking
steps and final-response steps are analysed apart. A step Label's ``value``
(+1/0/-1) is the rating; a Label holding only a continuous ``score`` (an SPRM's
P(step correct)) gives the score; a Label holding both gives the value under
the rater's name and the score under ``"<name> (score)"``. Raters are named by
``Rater.name``; a judge whose configuration changed (several versions) is
named ``"<name>@<version[:8]>"``.

Rows are read with ``QuerySet.iterator()``: memory stays constant whatever
the study's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet

from analysis.tidy import COLUMNS
from studyapp.models import Annotation, Item, Judgment, Label, Rater, Study

if TYPE_CHECKING:  # the export streams rows without pandas; only the table needs it
    import pandas as pd

__all__ = ["EXPORT_COLUMNS", "pairwise_votes", "rating_rows", "ratings_table"]

EXPORT_COLUMNS: tuple[str, ...] = (
    *COLUMNS,
    "source",
    "record_id",
    "item_kind",
    "step_index",
    "rater_id",
    "judge_kind",
    "score",
    "label_value",
)
_CHUNK = 2000


def _rater_names(study: Study) -> dict[int, tuple[str, str, str]]:
    """rater id -> (display name, kind, judge kind)."""
    repeated = set(
        Rater.objects.filter(study=study)
        .values("name")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("name", flat=True)
    )
    out = {}
    for r in Rater.objects.filter(study=study).values("id", "name", "kind", "version", "judge_kind"):
        name = r["name"]
        if name in repeated and r["kind"] == Rater.Kind.JUDGE:
            name = f"{name}@{r['version'][:8]}"
        out[r["id"]] = (name, r["kind"], r["judge_kind"])
    return out


def _labels(study: Study, owner: str, include_gold: bool) -> QuerySet[Label]:
    """The step and criterion labels of the study's annotations or (done) judgments."""
    labels = Label.objects.filter(**{f"{owner}__item__study": study})
    if owner == "judgment":
        labels = labels.filter(judgment__status=Judgment.Status.DONE)
    if not include_gold:
        labels = labels.filter(**{f"{owner}__item__is_gold": False})
    return labels


def _label_fields(owner: str) -> tuple[str, ...]:
    return (
        "value",
        "score",
        "step__index",
        "step__section",
        "criterion__name",
        f"{owner}__rater_id",
        f"{owner}__item__external_id",
        f"{owner}__item__domain__name",
    )


def _records(study: Study, include_gold: bool) -> tuple[QuerySet[Annotation], QuerySet[Judgment]]:
    """The study's annotations and done judgments (first errors, trajectory ratings)."""
    annotations = Annotation.objects.filter(item__study=study)
    judgments = Judgment.objects.filter(item__study=study, status=Judgment.Status.DONE)
    if not include_gold:
        annotations = annotations.filter(item__is_gold=False)
        judgments = judgments.filter(item__is_gold=False)
    return annotations, judgments


def rating_rows(*, study: Study, include_gold: bool = True) -> Iterator[dict[str, Any]]:
    """Yield one dict per rating (keys: ``EXPORT_COLUMNS``), streaming from the database."""
    raters = _rater_names(study)
    for owner in ("annotation", "judgment"):
        labels = _labels(study, owner, include_gold)
        fields = ["id", *_label_fields(owner), f"{owner}__item__kind"]
        for row in labels.values(*fields).order_by("id").iterator(chunk_size=_CHUNK):
            yield from _label_rows(row, owner, raters)
    annotations, judgments = _records(study, include_gold)
    common = ["id", "rater_id", "first_error", "item__external_id", "item__kind", "item__domain__name"]
    streams = (
        ("annotation", "trajectory_rating", annotations.values(*common, "trajectory_rating")),
        ("judgment", "trajectory_score", judgments.values(*common, "trajectory_score")),
    )
    for owner, traj_field, records in streams:
        for row in records.order_by("id").iterator(chunk_size=_CHUNK):
            name, kind, judge_kind = raters[row["rater_id"]]
            base = {
                "item": row["item__external_id"],
                "unit": row["item__external_id"],
                "rater": name,
                "rater_kind": kind,
                "domain": row["item__domain__name"],
                "source": owner,
                "record_id": row["id"],
                "item_kind": row["item__kind"],
                "step_index": None,
                "rater_id": row["rater_id"],
                "judge_kind": judge_kind,
                "score": None,
                "label_value": None,
            }
            if row["first_error"] is not None:
                yield {**base, "level": "first_error", "criterion": "", "value": row["first_error"]}
            if row[traj_field] is not None:
                yield {
                    **base,
                    "level": "trajectory",
                    "criterion": "trajectory",
                    "value": row[traj_field],
                }


def _label_rows(
    row: dict[str, Any], owner: str, raters: dict[int, tuple[str, str, str]]
) -> Iterator[dict[str, Any]]:
    name, kind, judge_kind = raters[row[f"{owner}__rater_id"]]
    item = row[f"{owner}__item__external_id"]
    is_step = row["step__index"] is not None
    base = {
        "item": item,
        "unit": f"{item}:{row['step__index']}" if is_step else item,
        "rater_kind": kind,
        "domain": row[f"{owner}__item__domain__name"],
        "level": "step_label" if is_step else _criterion_level(row[f"{owner}__item__kind"]),
        "criterion": row["step__section"] if is_step else row["criterion__name"],
        "source": f"{owner} label",
        "record_id": row["id"],
        "item_kind": row[f"{owner}__item__kind"],
        "step_index": row["step__index"],
        "rater_id": row[f"{owner}__rater_id"],
        "judge_kind": judge_kind,
        "score": row["score"],
        "label_value": row["value"],
    }
    if row["value"] is not None:
        yield {**base, "rater": name, "value": row["value"]}
        if row["score"] is not None:
            yield {**base, "rater": f"{name} (score)", "value": row["score"]}
    elif row["score"] is not None:
        yield {**base, "rater": name, "value": row["score"]}


def _criterion_level(item_kind: str) -> str:
    """A criterion label's level: a preference on a pair, else a rubric rating."""
    return "pairwise" if item_kind == Item.Kind.PAIRWISE else "rubric"


def _tidy_tuples(study: Study, include_gold: bool, humans_only: bool = False) -> Iterator[tuple[Any, ...]]:
    """The rows of :func:`rating_rows`, only the tidy columns, as tuples (what reports read)."""
    raters = _rater_names(study)
    for owner in ("annotation",) if humans_only else ("annotation", "judgment"):
        labels = _labels(study, owner, include_gold)
        fields = (*_label_fields(owner), f"{owner}__item__kind")
        rows = labels.values_list(*fields).order_by("id").iterator(chunk_size=_CHUNK)
        for value, score, step, section, criterion, rater_id, item, domain, item_kind in rows:
            name, kind, _ = raters[rater_id]
            if step is not None:
                unit, level, crit = f"{item}:{step}", "step_label", section
            else:
                unit, level, crit = item, _criterion_level(item_kind), criterion
            if value is not None:
                yield unit, item, name, kind, domain, level, crit, value
                if score is not None:
                    yield unit, item, f"{name} (score)", kind, domain, level, crit, score
            elif score is not None:
                yield unit, item, name, kind, domain, level, crit, score
    annotations = Annotation.objects.filter(item__study=study)
    judgments = Judgment.objects.filter(item__study=study, status=Judgment.Status.DONE)
    if not include_gold:
        annotations = annotations.filter(item__is_gold=False)
        judgments = judgments.filter(item__is_gold=False)
    common = ("rater_id", "first_error", "item__external_id", "item__domain__name")
    streams: list[QuerySet[Any, Any]] = [annotations.values_list(*common, "trajectory_rating")]
    if not humans_only:
        streams.append(judgments.values_list(*common, "trajectory_score"))
    for records in streams:
        for rater_id, first_error, item, domain, trajectory in records.order_by("id").iterator(
            chunk_size=_CHUNK
        ):
            name, kind, _ = raters[rater_id]
            if first_error is not None:
                yield item, item, name, kind, domain, "first_error", "", first_error
            if trajectory is not None:
                yield item, item, name, kind, domain, "trajectory", "trajectory", trajectory


def pairwise_votes(*, study: Study, include_gold: bool = False) -> pd.DataFrame:
    """One row per preference on a pair (columns ``analysis.pairwise.VOTE_COLUMNS``): the
    combined preference, a judge's verdicts in each order (``ab``, ``ba``; NaN where it has
    none), a person's in the one order they were shown (the other NaN; both NaN for an
    imported label) and the compared systems from the item's metadata (``model_a``,
    ``model_b``)."""
    import pandas as pd

    from analysis.pairwise import VOTE_COLUMNS
    from studyapp.importers.records import PREFERENCE_VALUES

    raters = _rater_names(study)
    rows: list[tuple[Any, ...]] = []
    for owner in ("annotation", "judgment"):
        labels = _labels(study, owner, include_gold).filter(**{f"{owner}__item__kind": Item.Kind.PAIRWISE})
        fields = (
            "value",
            "criterion__name",
            f"{owner}__rater_id",
            f"{owner}__item__external_id",
            f"{owner}__item__domain__name",
            f"{owner}__item__metadata",
            f"{owner}__raw" if owner == "judgment" else f"{owner}__pair_swapped",
        )
        for value, criterion, rater_id, item, domain, metadata, extra in (
            labels.filter(value__isnull=False).values_list(*fields).order_by("id").iterator(chunk_size=_CHUNK)
        ):
            name, kind, _ = raters[rater_id]
            if owner == "judgment":
                orders = ((extra or {}).get("orders") or {}).get(criterion) or {}
                ab, ba = (PREFERENCE_VALUES.get(orders.get(o), float("nan")) for o in ("ab", "ba"))  # type: ignore[arg-type]
            else:  # a person saw one order: theirs (None for imported labels, shown in no order)
                ab = float(value) if extra is False else float("nan")
                ba = float(value) if extra is True else float("nan")
            metadata = metadata or {}
            rows.append(
                (
                    item,
                    name,
                    kind,
                    domain,
                    criterion,
                    value,
                    ab,
                    ba,
                    str(metadata.get("model_a") or ""),
                    str(metadata.get("model_b") or ""),
                )
            )
    return pd.DataFrame(rows, columns=list(VOTE_COLUMNS))


def ratings_table(*, study: Study, include_gold: bool = True, humans_only: bool = False) -> pd.DataFrame:
    """The tidy ratings table (columns ``analysis.tidy.COLUMNS``) of ``study``: the rows of
    :func:`rating_rows`, read as tuples of the tidy columns only (``humans_only``: the
    annotations of people, no judgment)."""
    import pandas as pd

    return pd.DataFrame(list(_tidy_tuples(study, include_gold, humans_only)), columns=list(COLUMNS))
