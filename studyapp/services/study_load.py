"""Create or update a study from its YAML spec, in one transaction.

Every source is read and checked before anything is written, so a bad spec
or a bad item line leaves the database as it was. Loading the same spec
again changes nothing: rows are keyed by natural keys (slug, names, external
ids) and compared by content hash.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from judges.base import judge_config_problems
from studyapp.db.bulk_insert import insert_rows
from studyapp.db.item_delete import delete_items
from studyapp.importers import ImportFailure, ImportLimits, ItemRecord, LabelRecord, read_items
from studyapp.judge_config import judge_config, judge_problem_text
from studyapp.models import (
    Annotation,
    Criterion,
    Domain,
    Item,
    Judgment,
    Label,
    Persona,
    Rater,
    Rubric,
    Step,
    Study,
)
from studyapp.selectors.annotation_tasks import PREFERENCE_SCALE
from studyapp.spec import JudgeSpec, SourceSpec, StudySpec, parse_spec

IMPORTED = "imported"


@dataclass
class LoadReport:
    study: Study
    study_created: bool = False
    study_updated: bool = False
    items_created: int = 0
    items_replaced: int = 0
    items_unchanged: int = 0
    items_not_in_spec: int = 0
    annotations_created: int = 0
    judgments_created: int = 0
    raters_created: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.study_created
            or self.study_updated
            or self.items_created
            or self.items_replaced
            or self.raters_created
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "study": self.study.slug,
            "study_created": self.study_created,
            "study_updated": self.study_updated,
            "items_created": self.items_created,
            "items_replaced": self.items_replaced,
            "items_unchanged": self.items_unchanged,
            "items_not_in_spec": self.items_not_in_spec,
            "annotations_created": self.annotations_created,
            "judgments_created": self.judgments_created,
            "raters_created": self.raters_created,
            "changed": self.changed,
            "warnings": self.warnings,
        }


@dataclass
class SourceItems:
    source: SourceSpec
    path: Path
    records: list[ItemRecord]
    warnings: list[str]


def judge_version(judge: JudgeSpec) -> str:
    """A hash of a judge's kind and configuration: a new configuration is a new rater."""
    canonical = json.dumps({"kind": judge.kind, "config": judge.config}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass
class CheckedStudy:
    """A spec and its sources, read and checked: what `study_load` writes."""

    spec: StudySpec
    digest: str
    sources: list[SourceItems]


def study_check(*, path: str | Path) -> CheckedStudy:
    """Read and check the spec at `path` and every source; raise SpecError or ImportFailure; write nothing."""
    path = Path(path)
    spec, digest = parse_spec(path)
    sources = _read_sources(spec, path.parent)
    _check_records(spec, sources)
    return CheckedStudy(spec, digest, sources)


def study_load(*, path: str | Path) -> LoadReport:
    """Load the spec at `path`; raise SpecError or ImportFailure and write nothing on bad input.
    What a judge names that is not there yet (a model to train, a variable to set) is
    a warning in the report, with the line: it can be fixed before the first run."""
    with _collector_paused():
        checked = study_check(path=path)
        with transaction.atomic():
            report = _write(checked.spec, checked.digest, checked.sources)
    report.warnings.extend(_judge_warnings(checked.spec, Path(path)))
    return report


def _judge_warnings(spec: StudySpec, path: Path) -> list[str]:
    warnings = []
    for i, judge in enumerate(spec.judges):
        config = judge_config(kind=judge.kind, config=judge.config)
        for problem in judge_config_problems(judge.kind, config):
            line = spec.line_of(("judges", i, "config", *problem.field))
            warnings.append(f"{path}:{line}: judge {judge.name}: {judge_problem_text(problem, config)}")
    return warnings


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while records pile up (reference counting still frees them).

    Records hold no cycles, and the collector's passes over the growing heap
    were a third of a load's CPU (5,000 items of 6 steps: 0.15 s of 0.45 s).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_sources(spec: StudySpec, base: Path) -> list[SourceItems]:
    out = []
    for source in spec.sources:
        source_path = Path(source.path)
        if not source_path.is_absolute():
            source_path = (base / source_path).resolve()
        options = dict(source.options)
        if source.persona and source.format == "hanna":
            options.setdefault("persona", source.persona)
        limits = ImportLimits().override(spec.limits, source.limits)
        result = read_items(source_path, source.format, limits=limits, **options)
        records = result.items[: source.limit] if source.limit else result.items
        out.append(SourceItems(source, source_path, records, result.warnings))
    return out


def _check_records(spec: StudySpec, sources: list[SourceItems]) -> None:
    """Check what a format cannot know alone: domains, personas, criteria, unique ids."""
    domains = {d.name for d in spec.domains}
    personas = {p.name for p in spec.personas}
    criteria = {c.name: c.scale for c in spec.rubric.criteria} if spec.rubric else {}
    seen: dict[str, str] = {}
    first_of_kind: dict[str, str] = {}
    for src in sources:
        for record in src.records:
            try:
                _check_record(spec, src, record, seen, domains, personas, criteria)
                _check_kinds(src, record, first_of_kind)
            except ValueError as exc:
                raise ImportFailure(src.path, record.line, exc.args[0], exc.args[1]) from None


def _check_kinds(src: SourceItems, record: ItemRecord, first_of_kind: dict[str, str]) -> None:
    """Summaries and pairs share the study's one rubric: in one study, summaries would be
    rated on the pairs' preference criteria and pairs on the summaries' scales."""
    first_of_kind.setdefault(record.kind, f"{src.path}:{record.line}")
    other = {"summary": "pairwise", "pairwise": "summary"}.get(record.kind)
    if other in first_of_kind:
        raise ValueError(
            "kind",
            f"a {record.kind} item in a study that has {other} items (the first at {first_of_kind[other]}): "
            "they would share one rubric; load them as two studies",
        )


def _check_record(
    spec: StudySpec,
    src: SourceItems,
    record: ItemRecord,
    seen: dict[str, str],
    domains: set[str],
    personas: set[str],
    criteria: dict[str, tuple[int, int]],
) -> None:
    """Raise ValueError(field, message) for what the spec forbids; fill defaults in place."""
    if record.external_id in seen:
        raise ValueError("id", f"item {record.external_id!r} already came from {seen[record.external_id]}")
    seen[record.external_id] = f"{src.path}:{record.line}"
    domain = record.domain or src.source.domain or (spec.domains[0].name if len(spec.domains) == 1 else None)
    if domain is None:
        raise ValueError("domain", "no domain on the item or its source, and the study has several")
    if domain not in domains:
        raise ValueError("domain", f"domain {domain!r} is not declared in the spec")
    record.domain = domain
    if record.kind == "summary":
        persona = (
            record.persona
            or src.source.persona
            or (spec.personas[0].name if len(spec.personas) == 1 else None)
        )
        if persona is None:
            raise ValueError("persona", "summary item without a persona (declare one on the source)")
        if persona not in personas:
            raise ValueError("persona", f"persona {persona!r} is not declared in the spec")
        record.persona = persona
        if not criteria:
            raise ValueError(None, "summary items need a rubric in the spec")
    if record.kind == "pairwise":
        # People label pairs on the annotator page, critics judge them in both orders.
        preference = [name for name, scale in criteria.items() if tuple(scale) == PREFERENCE_SCALE]
        if not preference:
            raise ValueError(
                None, "pairwise items need a rubric criterion with scale [-1, 1] (B, tie, A), e.g. overall"
            )
        for label in record.labels:
            for name in label.ratings:
                if name in criteria and tuple(criteria[name]) != PREFERENCE_SCALE:
                    raise ValueError(
                        f"preferences.{name}", f"criterion {name!r} is not a preference (scale [-1, 1])"
                    )
    for label in record.labels:
        for name, value in label.ratings.items():
            if name not in criteria:
                raise ValueError(f"ratings.{name}", f"criterion {name!r} is not in the rubric")
            low, high = criteria[name]
            if label.rater_kind == "external" and not low <= value <= high:
                raise ValueError(f"ratings.{name}", f"{value} is outside the scale {low}-{high}")


def _write(spec: StudySpec, digest: str, sources: list[SourceItems]) -> LoadReport:
    study_fields = {
        "title": spec.title,
        "description": spec.description,
        "instructions": spec.instructions,
        "consent": spec.consent,
        "overlap": spec.overlap,
        "seed": spec.seed,
        "status": spec.status,
        "label_mode": spec.annotation.label_mode,
        "trajectory_rating": spec.annotation.trajectory_rating,
        "claim_timeout": spec.annotation.claim_timeout,
        "gold_rate": spec.annotation.gold_rate,
        "qualification_pass_mark": spec.annotation.qualification_pass_mark,
        "spec": spec.model_dump(mode="json"),
        "spec_hash": digest,
    }
    study = Study.objects.select_for_update().filter(slug=spec.slug).first()
    report = LoadReport(study=study)  # type: ignore[arg-type]
    if study is None:
        study = Study.objects.create(slug=spec.slug, **study_fields)
        report.study, report.study_created = study, True
    elif _update_fields(study, study_fields):
        report.study_updated = True

    domains = _upsert_named(study, Domain, [d.model_dump() for d in spec.domains], report)
    personas = _upsert_named(study, Persona, [p.model_dump() for p in spec.personas], report)
    criteria = _upsert_rubric(study, spec, report)
    raters = {(r.name, r.kind): r for r in Rater.objects.filter(study=study, version="")}
    _upsert_judges(study, spec, report)

    existing = {
        external_id: (pk, content_hash)
        for pk, external_id, content_hash in Item.objects.filter(study=study).values_list(
            "pk", "external_id", "content_hash"
        )
    }
    position = 0
    wanted: set[str] = set()
    pending: list[tuple[ItemRecord, SourceItems, int, str]] = []
    replaced: list[tuple[int, ItemRecord, SourceItems]] = []
    for src in sources:
        for record in src.records:
            position += 1
            wanted.add(record.external_id)
            digest_ = _record_hash(record)
            pk, stored = existing.get(record.external_id, (None, None))
            if stored == digest_:
                report.items_unchanged += 1
                continue
            if pk is not None:
                replaced.append((pk, record, src))
                report.items_replaced += 1
            else:
                report.items_created += 1
            pending.append((record, src, position, digest_))
    if replaced:
        _delete_replaced(study, replaced)
    _create_items(study, pending, domains, personas, criteria, raters, report)
    report.items_not_in_spec = len(set(existing) - wanted)
    if report.items_not_in_spec:
        report.warnings.append(
            f"{report.items_not_in_spec} item(s) in the database are no longer in the spec's "
            "sources; they were kept"
        )
    for src in sources:
        report.warnings.extend(src.warnings)
    return report


def _update_fields(obj: Any, values: dict[str, Any]) -> bool:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.full_clean()
        obj.save(update_fields=[*changed, *(["updated_at"] if hasattr(obj, "updated_at") else [])])
    return bool(changed)


def _upsert_named(study: Study, model: Any, rows: list[dict[str, Any]], report: LoadReport) -> dict[str, Any]:
    current = {obj.name: obj for obj in model.objects.filter(study=study)}
    for row in rows:
        obj = current.get(row["name"])
        if obj is None:
            obj = model(study=study, **row)
            obj.full_clean()
            obj.save()
            current[row["name"]] = obj
            report.study_updated = report.study_updated or not report.study_created
        elif _update_fields(obj, row):
            report.study_updated = True
    return current


def _upsert_rubric(study: Study, spec: StudySpec, report: LoadReport) -> dict[str, Criterion]:
    if spec.rubric is None:
        return {}
    rubric, created = Rubric.objects.get_or_create(study=study, defaults={"name": spec.rubric.name})
    if not created and _update_fields(rubric, {"name": spec.rubric.name}):
        report.study_updated = True
    current = {c.name: c for c in rubric.criteria.all()}
    for position, c in enumerate(spec.rubric.criteria):
        values = {
            "description": c.description,
            "scale_min": c.scale[0],
            "scale_max": c.scale[1],
            "anchors": {str(k): v for k, v in sorted(c.anchors.items())},
            "position": position,
        }
        criterion = current.get(c.name)
        if criterion is None:
            criterion = Criterion(rubric=rubric, name=c.name, **values)
            criterion.full_clean()
            criterion.save()
            current[c.name] = criterion
            report.study_updated = report.study_updated or not report.study_created
        elif _update_fields(criterion, values):
            report.study_updated = True
    return current


def _upsert_judges(study: Study, spec: StudySpec, report: LoadReport) -> None:
    for judge in spec.judges:
        version = judge_version(judge)
        rater, created = Rater.objects.get_or_create(
            study=study,
            name=judge.name,
            version=version,
            defaults={"kind": Rater.Kind.JUDGE, "judge_kind": judge.kind, "config": judge.config},
        )
        if created:
            report.raters_created += 1
        # An older configuration of the same judge stays, inactive, with its judgments.
        superseded = Rater.objects.filter(study=study, name=judge.name, active=True).exclude(version=version)
        report.study_updated |= bool(superseded.update(active=False))
        if not rater.active:
            rater.active = True
            rater.save(update_fields=["active"])
            report.study_updated = True


def _record_hash(record: ItemRecord) -> str:
    payload = {
        "kind": record.kind,
        "domain": record.domain,
        "problem": record.problem,
        "steps": [[s.text, s.section] for s in record.steps],
        "outcome": record.outcome,
        "reference_answer": record.reference_answer,
        "final_answer": record.final_answer,
        "document": record.document,
        "summary": record.summary,
        "persona": record.persona,
        "metadata": record.metadata,
        "is_gold": record.is_gold,
        "gold": record.gold,
        "labels": [_label_payload(label) for label in record.labels],
    }
    # Fields added later enter the hash only when set, so stored items keep their hashes.
    if record.kind == "pairwise":
        payload["responses"] = [record.response_a, record.response_b]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _label_payload(label: LabelRecord) -> dict[str, Any]:
    payload = dict(vars(label))
    if not payload["orders"]:
        del payload["orders"]
    return payload


def _delete_replaced(study: Study, replaced: list[tuple[int, ItemRecord, SourceItems]]) -> None:
    """Delete the stored items whose content changed, if no person or study judge labelled them."""
    humans = _count_by_item(Annotation.objects.filter(item__study=study, rater__kind=Rater.Kind.HUMAN))
    judged = _count_by_item(Judgment.objects.filter(item__study=study).exclude(rater__judge_kind=IMPORTED))
    for pk, record, src in replaced:
        human, judgments = humans.get(pk, 0), judged.get(pk, 0)
        if human or judgments:
            raise ImportFailure(
                src.path,
                record.line,
                "id",
                f"item {record.external_id!r} changed but already has {human} human annotation(s) and "
                f"{judgments} judgment(s); give the changed item a new id",
            )
    delete_items([pk for pk, _, _ in replaced])


def _count_by_item(rows: Any) -> dict[int, int]:
    """{item id: rows} for the items that have any."""
    return dict(rows.values_list("item_id").annotate(n=Count("id")).order_by())


def _create_items(
    study: Study,
    pending: list[tuple[ItemRecord, SourceItems, int, str]],
    domains: dict[str, Domain],
    personas: dict[str, Persona],
    criteria: dict[str, Criterion],
    raters: dict[tuple[str, str], Rater],
    report: LoadReport,
) -> None:
    """Insert items with their steps and imported labels: one statement a table, whatever the count.

    The records were checked by their importer, `check_item` and `_check_records`; the database
    constraints hold the rest, as they would for bulk_create.
    """
    item_ids = insert_rows(
        Item,
        ITEM_FIELDS,
        [
            (
                study.pk,
                domains[record.domain].pk,  # type: ignore[index]
                record.kind,
                record.external_id,
                position,
                record.problem,
                record.reference_answer,
                record.outcome,
                record.document,
                record.summary,
                record.response_a,
                record.response_b,
                personas[record.persona].pk if record.persona else None,
                {**record.metadata, **({"final_answer": record.final_answer} if record.final_answer else {})},
                record.is_gold,
                record.gold,
                f"{src.path.name}:{record.line}",
                digest,
            )
            for record, src, position, digest in pending
        ],
    )
    records = [record for record, *_ in pending]
    step_ids = insert_rows(
        Step,
        ("item", "index", "section", "text"),
        [
            (item_id, i, step.section, step.text)
            for item_id, record in zip(item_ids, records, strict=True)
            for i, step in enumerate(record.steps)
        ],
    )
    steps_of: list[list[int]] = []
    taken = 0
    for record in records:
        steps_of.append(step_ids[taken : taken + len(record.steps)])
        taken += len(record.steps)

    _create_raters(study, records, raters, report)
    now = timezone.now()
    annotations: list[tuple[Any, ...]] = []
    judgments: list[tuple[Any, ...]] = []
    # Per label: (is it a judgment, its index among the annotations or the judgments, the item's steps).
    owners: list[tuple[bool, int, list[int], LabelRecord]] = []
    for item_id, steps, (record, src, *_) in zip(item_ids, steps_of, pending, strict=True):
        for label in record.labels:
            if label.rater_kind == "judge":
                rater = raters[(label.rater, Rater.Kind.JUDGE)]
                owners.append((True, len(judgments), steps, label))
                raw: dict[str, Any] = {"source": f"{src.path.name}:{record.line}"}
                if label.orders:
                    raw["orders"] = label.orders
                judgments.append((item_id, rater.pk, Judgment.Status.DONE, label.first_error, raw, now))
            else:
                rater = raters[(label.rater, Rater.Kind.EXTERNAL)]
                owners.append((False, len(annotations), steps, label))
                annotations.append((item_id, rater.pk, label.first_error, label.comment))
    annotation_ids = insert_rows(Annotation, ("item", "rater", "first_error", "comment"), annotations)
    judgment_ids = insert_rows(
        Judgment, ("item", "rater", "status", "first_error", "raw", "completed_at"), judgments
    )
    report.annotations_created += len(annotation_ids)
    report.judgments_created += len(judgment_ids)

    labels: list[tuple[Any, ...]] = []
    for is_judgment, index, steps, label in owners:
        annotation = None if is_judgment else annotation_ids[index]
        judgment = judgment_ids[index] if is_judgment else None
        for i, step in enumerate(steps):
            step_label = label.step_labels[i] if label.step_labels else None
            score = label.step_scores[i] if label.step_scores else None
            if step_label is not None or score is not None:
                labels.append((annotation, judgment, step, None, step_label, score))
        for name, rating in label.ratings.items():
            labels.append((annotation, judgment, None, criteria[name].pk, rating, None))
    insert_rows(Label, ("annotation", "judgment", "step", "criterion", "value", "score"), labels)


def _create_raters(
    study: Study, records: list[ItemRecord], raters: dict[tuple[str, str], Rater], report: LoadReport
) -> None:
    """Create the external raters and imported judges the records name and the study lacks."""
    missing: dict[tuple[str, str], Rater] = {}
    for record in records:
        for label in record.labels:
            kind = Rater.Kind.JUDGE if label.rater_kind == "judge" else Rater.Kind.EXTERNAL
            if (label.rater, kind) not in raters and (label.rater, kind) not in missing:
                missing[(label.rater, kind)] = Rater(
                    study=study,
                    kind=kind,
                    name=label.rater,
                    judge_kind=IMPORTED if kind == Rater.Kind.JUDGE else "",
                )
    created = Rater.objects.bulk_create(missing.values())
    raters.update(zip(missing, created, strict=True))
    report.raters_created += len(created)


ITEM_FIELDS = (
    "study",
    "domain",
    "kind",
    "external_id",
    "position",
    "problem",
    "reference_answer",
    "outcome",
    "document",
    "summary",
    "response_a",
    "response_b",
    "persona",
    "metadata",
    "is_gold",
    "gold",
    "source",
    "content_hash",
)
