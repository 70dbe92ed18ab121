"""Create or update a study from its YAML spec, in one transaction.

Every source is read and checked before anything is written, so a bad spec
or a bad item line leaves the database as it was. Loading the same spec
again changes nothing: rows are keyed by natural keys (slug, names, external
ids) and compared by content hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from studyapp.importers import ImportFailure, ImportLimits, ItemRecord, read_items
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


def study_load(*, path: str | Path) -> LoadReport:
    """Load the spec at `path`; raise SpecError or ImportFailure and write nothing on bad input."""
    path = Path(path)
    spec, digest = parse_spec(path)
    sources = _read_sources(spec, path.parent)
    _check_records(spec, sources)
    with transaction.atomic():
        return _write(spec, digest, sources)


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
    for src in sources:
        for record in src.records:
            try:
                _check_record(spec, src, record, seen, domains, personas, criteria)
            except ValueError as exc:
                raise ImportFailure(src.path, record.line, exc.args[0], exc.args[1]) from None


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
        item.external_id: item
        for item in Item.objects.filter(study=study).only("id", "external_id", "content_hash")
    }
    position = 0
    wanted: set[str] = set()
    pending: list[tuple[ItemRecord, SourceItems, int, str]] = []
    for src in sources:
        for record in src.records:
            position += 1
            wanted.add(record.external_id)
            digest_ = _record_hash(record)
            item = existing.get(record.external_id)
            if item is not None and item.content_hash == digest_:
                report.items_unchanged += 1
                continue
            if item is not None:
                _check_replaceable(item, src, record)
                item.delete()
                report.items_replaced += 1
            else:
                report.items_created += 1
            pending.append((record, src, position, digest_))
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
        "labels": [vars(label) for label in record.labels],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _check_replaceable(item: Item, src: SourceItems, record: ItemRecord) -> None:
    """An item whose content changed may be replaced only if no person or study judge labelled it."""
    human = Annotation.objects.filter(item=item, rater__kind=Rater.Kind.HUMAN).count()
    judged = Judgment.objects.filter(item=item).exclude(rater__judge_kind=IMPORTED).count()
    if human or judged:
        raise ImportFailure(
            src.path,
            record.line,
            "id",
            f"item {item.external_id!r} changed but already has {human} human annotation(s) and "
            f"{judged} judgment(s); give the changed item a new id",
        )


def _create_items(
    study: Study,
    pending: list[tuple[ItemRecord, SourceItems, int, str]],
    domains: dict[str, Domain],
    personas: dict[str, Persona],
    criteria: dict[str, Criterion],
    raters: dict[tuple[str, str], Rater],
    report: LoadReport,
) -> None:
    """Insert items with their steps and imported labels, in bulk."""
    items = Item.objects.bulk_create(
        Item(
            study=study,
            domain=domains[record.domain],  # type: ignore[index]
            kind=record.kind,
            external_id=record.external_id,
            position=position,
            problem=record.problem,
            reference_answer=record.reference_answer,
            outcome=record.outcome,
            document=record.document,
            summary=record.summary,
            persona=personas[record.persona] if record.persona else None,
            metadata={
                **record.metadata,
                **({"final_answer": record.final_answer} if record.final_answer else {}),
            },
            is_gold=record.is_gold,
            gold=record.gold,
            source=f"{src.path.name}:{record.line}",
            content_hash=digest,
        )
        for record, src, position, digest in pending
    )
    steps = Step.objects.bulk_create(
        Step(item=item, index=i, section=s.section, text=s.text)
        for item, (record, *_) in zip(items, pending, strict=True)
        for i, s in enumerate(record.steps)
    )
    steps_of: dict[int, list[Step]] = {}
    for step in steps:
        steps_of.setdefault(step.item_id, []).append(step)

    owners: list[tuple[Annotation | Judgment, Item, Any]] = []
    now = timezone.now()
    for item, (record, *_) in zip(items, pending, strict=True):
        for label in record.labels:
            kind = Rater.Kind.JUDGE if label.rater_kind == "judge" else Rater.Kind.EXTERNAL
            rater = raters.get((label.rater, kind))
            if rater is None:
                rater = Rater.objects.create(
                    study=study,
                    kind=kind,
                    name=label.rater,
                    judge_kind=IMPORTED if kind == Rater.Kind.JUDGE else "",
                )
                raters[(label.rater, kind)] = rater
                report.raters_created += 1
            owner: Annotation | Judgment
            if kind == Rater.Kind.JUDGE:
                owner = Judgment(
                    item=item,
                    rater=rater,
                    status=Judgment.Status.DONE,
                    first_error=label.first_error,
                    raw={"source": item.source},
                    completed_at=now,
                )
            else:
                owner = Annotation(
                    item=item, rater=rater, first_error=label.first_error, comment=label.comment
                )
            owners.append((owner, item, label))
    annotations = Annotation.objects.bulk_create(o for o, _, _ in owners if isinstance(o, Annotation))
    judgments = Judgment.objects.bulk_create(o for o, _, _ in owners if isinstance(o, Judgment))
    report.annotations_created += len(annotations)
    report.judgments_created += len(judgments)

    labels: list[Label] = []
    for owner, item, label in owners:
        key = {"judgment": owner} if isinstance(owner, Judgment) else {"annotation": owner}
        for i, step in enumerate(steps_of.get(item.pk, [])):
            value = label.step_labels[i] if label.step_labels else None
            score = label.step_scores[i] if label.step_scores else None
            if value is not None or score is not None:
                labels.append(Label(step=step, value=value, score=score, **key))
        for name, value in label.ratings.items():
            labels.append(Label(criterion=criteria[name], value=value, **key))
    Label.objects.bulk_create(labels, batch_size=5000)
