"""load_study: creates, updates, changes nothing the second time, writes nothing on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from studyapp.importers import ImportFailure
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
from studyapp.services.study_load import study_load
from studyapp.spec import SpecError

pytestmark = pytest.mark.django_db

ALL_MODELS = [Study, Domain, Persona, Rubric, Criterion, Item, Step, Rater, Annotation, Judgment, Label]
ROOT = Path(__file__).resolve().parents[3]


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every study table, for comparing the database before and after."""
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in ALL_MODELS}


def write_spec(tmp_path: Path, body: str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def bigbench_spec(tmp_path: Path, data: Path) -> Path:
    return write_spec(
        tmp_path,
        f"""\
slug: bbm-word-sorting
title: BIG-Bench Mistake, word sorting
overlap: 3
domains:
  - name: word-sorting
sources:
  - path: {data}
    format: bigbench_mistake
""",
    )


def test_word_sorting_spec_loads_300_items_and_is_idempotent(tmp_path: Path, shared_data: Path) -> None:
    spec = bigbench_spec(tmp_path, shared_data / "bigbench_mistake" / "word_sorting.jsonl")
    report = study_load(path=spec)
    assert report.study_created and report.items_created == 300
    study = Study.objects.get(slug="bbm-word-sorting")
    assert study.items.filter(kind="reasoning").count() == 300
    raw = [
        json.loads(line)
        for line in (shared_data / "bigbench_mistake" / "word_sorting.jsonl").read_text().splitlines()
        if line.strip()
    ]
    assert Step.objects.filter(item__study=study).count() == sum(len(r["steps"]) for r in raw)
    external = Annotation.objects.filter(item__study=study, rater__kind=Rater.Kind.EXTERNAL)
    assert external.count() == 300
    assert Rater.objects.get(study=study, kind="external").name == "bigbench-mistake-human"
    # One item checked field by field against the file.
    item = Item.objects.get(study=study, external_id="word_sorting/7")
    obj = raw[6]
    assert list(item.steps.values_list("text", flat=True)) == obj["steps"]
    annotation = item.annotations.get()
    expected_first = -1 if obj["mistake_index"] is None else obj["mistake_index"]
    assert annotation.first_error == expected_first
    labels = dict(annotation.labels.values_list("step__index", "value"))
    if expected_first >= 0:
        assert labels[expected_first] == -1 and all(labels[i] == 1 for i in range(expected_first))
        assert max(labels) == expected_first  # steps after the mistake are unlabelled

    before = snapshot()
    again = study_load(path=spec)
    assert not again.changed and again.items_unchanged == 300
    assert snapshot() == before


def test_corrupt_item_line_names_it_and_writes_nothing(tmp_path: Path, shared_data: Path) -> None:
    lines = (shared_data / "bigbench_mistake" / "word_sorting.jsonl").read_text().splitlines()[:20]
    lines[12] = lines[12][: len(lines[12]) // 2]  # truncated JSON on line 13
    data = tmp_path / "corrupt.jsonl"
    data.write_text("\n".join(lines) + "\n")
    # A study loaded earlier stays exactly as it was.
    study_load(path=ROOT / "fixtures" / "demo" / "study.yaml")
    before = snapshot()
    with pytest.raises(CommandError) as info:
        call_command("load_study", str(bigbench_spec(tmp_path, data)))
    assert f"{data}:13: invalid JSON" in str(info.value)
    assert "Nothing was written" in str(info.value)
    assert snapshot() == before


def test_second_source_failing_rolls_back_the_first(tmp_path: Path, shared_data: Path) -> None:
    good = shared_data / "bigbench_mistake" / "word_sorting.jsonl"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "x", "problem": "p", "steps": ["a"], "annotations": [{"rater": "r", "first_error": 3}]}\n'
    )
    spec = write_spec(
        tmp_path,
        f"""\
slug: two-sources
title: Two sources
domains: [{{name: a}}]
sources:
  - {{path: {good}, format: bigbench_mistake}}
  - {{path: {bad}, format: native}}
""",
    )
    with pytest.raises(
        ImportFailure, match=r"bad.jsonl:1: annotations\[0\]\.first_error: index 3 out of range"
    ):
        study_load(path=spec)
    assert not Study.objects.exists() and not Item.objects.exists()


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("slug: Bad Slug\ntitle: t\ndomains: [{name: a}]\n", 1, "slug: String should match pattern"),
        (
            "slug: s\ntitle: t\noverlap: 0\ndomains: [{name: a}]\n",
            3,
            "overlap: Input should be greater than or equal to 1",
        ),
        (
            "slug: s\ntitle: t\ndomains:\n  - name: a\n  - name: b\n    colour: red\n",
            6,
            "domains.1.colour: Extra inputs are not permitted",
        ),
        (
            "slug: s\ntitle: t\ndomains: [{name: a}]\nrubric:\n  criteria:\n"
            "    - name: c\n      scale: [5, 1]\n",
            6,
            "rubric.criteria.0: scale must go from low to high",
        ),
        (
            "slug: s\ntitle: t\ndomains: [{name: a}]\nsources:\n  - path: x.jsonl\n    format: tsv\n",
            6,
            "sources.0.format: unknown format 'tsv'",
        ),
        ("slug: s\ntitle: [unclosed\n", 3, "invalid YAML"),
        (
            "slug: s\ntitle: t\ndomains: [{name: a}]\nannotation:\n  allocation: active\n",
            4,
            "annotation: allocation: active needs allocation_budget",
        ),
        (
            "slug: s\ntitle: t\ndomains: [{name: a}]\nannotation:\n  allocation: active\n"
            "  allocation_budget: 0\n",
            6,
            "annotation.allocation_budget: Input should be greater than 0",
        ),
        (
            "slug: s\ntitle: t\ndomains: [{name: a}]\nannotation:\n  allocation: random\n",
            5,
            "annotation.allocation: Input should be 'uniform' or 'active'",
        ),
        (
            "slug: s\ntitle: t\ndomains: [{name: a}]\nanalysis:\n  epsilon: 0.1\n  target_width: 0\n",
            6,
            "analysis.target_width: Input should be greater than 0",
        ),
    ],
)
def test_bad_spec_names_file_line_and_field(tmp_path: Path, body: str, line: int, message: str) -> None:
    spec = write_spec(tmp_path, body)
    with pytest.raises(SpecError) as info:
        study_load(path=spec)
    assert info.value.line == line, str(info.value)
    assert str(info.value).startswith(f"{spec}:{line}: ")
    assert message in str(info.value)
    assert not Study.objects.exists()


def test_items_are_checked_against_the_spec(tmp_path: Path) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text('{"id": "s1", "kind": "summary", "document": "d", "summary": "s", "persona": "nurse"}\n')
    spec = write_spec(
        tmp_path,
        f"""\
slug: s
title: t
domains: [{{name: med}}]
personas: [{{name: doctor}}]
rubric: {{criteria: [{{name: accuracy}}]}}
sources: [{{path: {data}, format: native}}]
""",
    )
    with pytest.raises(ImportFailure, match=r"items.jsonl:1: persona: persona 'nurse' is not declared"):
        study_load(path=spec)
    data.write_text(
        '{"id": "s1", "kind": "summary", "document": "d", "summary": "s", "persona": "doctor",'
        ' "annotations": [{"rater": "expert", "ratings": {"accuracy": 7}}]}\n'
    )
    with pytest.raises(ImportFailure, match=r"ratings.accuracy: 7.0 is outside the scale 1-5"):
        study_load(path=spec)
    assert not Study.objects.exists()


def test_demo_fixture_loads_every_kind_and_domain() -> None:
    report = study_load(path=ROOT / "fixtures" / "demo" / "study.yaml")
    study = report.study
    kinds = set(study.items.values_list("domain__name", "kind"))
    assert kinds == {("math", "reasoning"), ("medical", "summary"), ("social-reasoning", "reasoning")}
    assert set(study.personas.values_list("name", flat=True)) == {"doctor", "patient", "general-public"}
    math = study.items.filter(domain__name="math")
    assert all(set(i.steps.values_list("section", flat=True)) == {"trajectory", "response"} for i in math)
    assert study.items.filter(is_gold=True).count() >= 1


def test_demo_pairs_fixture_loads_open_pairs_with_an_imported_judge() -> None:
    report = study_load(path=ROOT / "fixtures" / "demo" / "pairs.yaml")
    study = report.study
    assert study.status == "open"  # people label pairs on the annotator page
    assert set(study.items.values_list("kind", flat=True)) == {"pairwise"}
    assert study.items.count() == report.items_created >= 3
    assert all(i.problem and i.response_a and i.response_b for i in study.items.all())
    assert set(study.raters.filter(kind="judge").values_list("name", flat=True)) == {"example-judge"}


def test_changed_item_is_replaced_until_someone_labels_it(tmp_path: Path, django_user_model: Any) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text('{"id": "r1", "problem": "p", "steps": ["a", "b"]}\n')
    spec = write_spec(
        tmp_path, f"slug: s\ntitle: t\ndomains: [{{name: a}}]\nsources: [{{path: {data}, format: native}}]\n"
    )
    study_load(path=spec)
    data.write_text('{"id": "r1", "problem": "p", "steps": ["a", "b", "c"]}\n')
    report = study_load(path=spec)
    assert report.items_replaced == 1
    item = Item.objects.get(external_id="r1")
    assert item.steps.count() == 3
    user = django_user_model.objects.create_user("ann", password="x")
    rater = Rater.objects.create(study=item.study, kind="human", name="ann", user=user)
    Annotation.objects.create(item=item, rater=rater, first_error=-1)
    data.write_text('{"id": "r1", "problem": "p", "steps": ["a"]}\n')
    with pytest.raises(ImportFailure, match="already has 1 human annotation"):
        study_load(path=spec)
    assert Item.objects.get(external_id="r1").steps.count() == 3


def test_judge_config_change_is_a_new_rater(tmp_path: Path) -> None:
    body = (
        "slug: s\ntitle: t\ndomains: [{name: a}]\njudges:\n  - name: critic\n    kind: critic\n"
        "    config: {model: m1}\n"
    )
    spec = write_spec(tmp_path, body)
    study_load(path=spec)
    write_spec(tmp_path, body.replace("m1", "m2"))
    study_load(path=spec)
    raters = Rater.objects.filter(name="critic").order_by("created_at")
    assert [(r.config["model"], r.active) for r in raters] == [("m1", False), ("m2", True)]


def test_study_status_json(tmp_path: Path, shared_data: Path, capsys: Any) -> None:
    study_load(path=bigbench_spec(tmp_path, shared_data / "bigbench_mistake" / "word_sorting.jsonl"))
    study_load(path=ROOT / "fixtures" / "demo" / "study.yaml")
    call_command("study_status", "bbm-word-sorting", "--json")
    status = json.loads(capsys.readouterr().out)
    assert status["items"]["by_domain"] == {"word-sorting": {"reasoning": 300}}
    assert status["annotations"]["by_rater_kind"] == {"external": 300}
    call_command("study_status", "--json")
    assert [s["slug"] for s in json.loads(capsys.readouterr().out)] == ["bbm-word-sorting", "demo"]
    with pytest.raises(CommandError, match="no study with slug 'nope'"):
        call_command("study_status", "nope")


def test_hanna_imports_llm_ratings_as_judgments(tmp_path: Path, shared_data: Path) -> None:
    spec = write_spec(
        tmp_path,
        f"""\
slug: hanna
title: HANNA
domains: [{{name: open-ended-writing}}]
personas: [{{name: reader}}]
rubric:
  criteria: [{{name: relevance}}, {{name: coherence}}, {{name: empathy}}, {{name: surprise}},
             {{name: engagement}}, {{name: complexity}}]
sources:
  - {{path: {shared_data / "hanna" / "hanna_metric_scores_llm.csv"}, format: hanna, limit: 96}}
""",
    )
    report = study_load(path=spec)
    assert report.items_created == 96
    assert report.annotations_created == 96
    assert report.judgments_created == 96 * 20  # 5 LLMs x 4 prompts
    assert Judgment.objects.filter(rater__judge_kind="imported", status="done").count() == 96 * 20
    assert Label.objects.filter(annotation__isnull=False).count() == 96 * 6


def test_spec_reads_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (
        "slug: s\ntitle: ${STUDY_TITLE}\ndomains: [{name: a}]\njudges:\n  - name: c\n    kind: critic\n"
        "    config: {model: m, base_url: '${CRITIC_URL:-http://127.0.0.1:9/v1}', api_key_env: KEY}\n"
    )
    spec = write_spec(tmp_path, body)
    with pytest.raises(SpecError, match="environment variable STUDY_TITLE is not set"):
        study_load(path=spec)
    monkeypatch.setenv("STUDY_TITLE", "From the environment")
    study = study_load(path=spec).study
    assert study.title == "From the environment"
    assert Rater.objects.get(name="c").config["base_url"] == "http://127.0.0.1:9/v1"


JUDGES_SPEC = """\
slug: s
title: t
domains: [{name: a}]
judges:
  - name: critic
    kind: critic
    config:
      model: m
      api_key_env: null
      concurrency: 16
  - name: sprm
    kind: sprm
    config:
      model_dir: models/x
      threshold: 0.5
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("concurrency: 16", "concurrency: 0", 10, "judges.0.config.concurrency: judge critic: Input should"),
        ("concurrency: 16", "concurency: 16", 10, "judges.0.config.concurency: judge critic: unknown key"),
        ("concurrency: 16", "temperature: 9", 10, "judges.0.config.temperature: judge critic: Input should"),
        ("model: m", "model: ''", 8, "judges.0.config.model: judge critic: String should have"),
        ("      model: m\n", "", 7, "judges.0.config.model: judge critic: required, not given"),
        ("api_key_env: null", "base_url: ''", 9, "judges.0.config.base_url: judge critic: must be an http"),
        ("threshold: 0.5", "threshold: 2", 15, "judges.1.config.threshold: judge sprm: must be a number"),
        ("threshold: 0.5", "treshold: 0.5", 15, "judges.1.config.treshold: judge sprm: unknown key (did"),
        ("kind: sprm", "kind: oracle", 12, "judges.1.kind: Input should be 'critic' or 'sprm'"),
    ],
)
def test_a_bad_judge_config_names_file_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    spec = write_spec(tmp_path, JUDGES_SPEC.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        study_load(path=spec)
    assert str(info.value).startswith(f"{spec}:{line}: {message}"), str(info.value)
    assert not Study.objects.exists() and not Rater.objects.exists()


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_judge_whose_model_or_key_is_not_there_yet_loads_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    """The demo spec loaded with load_study instead of demo: its SPRM is not trained yet
    and OPENAI_API_KEY is not set. Both can be fixed before the first run: warnings."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("CONCORDANCE_VAR_DIR", str(tmp_path))
    spec = ROOT / "fixtures" / "demo" / "study.yaml"
    model_dir = tmp_path / "models" / "demo-sprm"
    call_command("load_study", str(spec))
    out = capsys.readouterr().out
    assert Study.objects.get(slug="demo").raters.filter(kind="judge").count() == 2
    warnings = [line.strip() for line in out.splitlines() if "warning:" in line]
    assert warnings == [
        f"warning: {spec}:{_line(spec, 'api_key_env: OPENAI_API_KEY')}: judge critic: api_key_env: "
        "environment variable OPENAI_API_KEY is not set. To fix: set it where runs are started "
        "(web server, run_judges) and for the Celery workers.",
        f"warning: {spec}:{_line(spec, 'model_dir:')}: judge sprm: model_dir: no model directory at "
        f"{model_dir}. To fix: train one with `python manage.py train_sprm --data FILE --format FORMAT "
        f"--out {model_dir}` (the demo study's: `python manage.py demo` trains it).",
    ]


def test_spec_sets_import_limits_for_the_study_and_per_source(tmp_path: Path) -> None:
    (tmp_path / "short.jsonl").write_text('{"id": "a", "problem": "twelve chars", "steps": ["s"]}\n')
    (tmp_path / "long.jsonl").write_text(
        '{"id": "b", "problem": "q", "steps": ["s"]}\n{"id": "c", "problem": "'
        + "x" * 40
        + '", "steps": ["s"]}\n'
    )
    body = """\
slug: s
title: t
domains: [{name: a}]
limits: {problem: 12}
sources:
  - {path: short.jsonl, format: native}
  - {path: long.jsonl, format: native, limits: {problem: 100}}
"""
    spec = write_spec(tmp_path, body)
    assert study_load(path=spec).items_created == 3  # 12 characters at a limit of 12; 40 at 100
    write_spec(tmp_path, body.replace("problem: 100", "step: 100"))
    with pytest.raises(ImportFailure) as info:
        study_load(path=spec)
    assert str(info.value) == (
        f"{tmp_path / 'long.jsonl'}:2: problem: 40 characters, over the limit of 12 "
        "(a study that needs more sets limits.problem in its spec)"
    )
    assert Item.objects.count() == 3  # the first load, untouched


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("limits: {problme: 5}", "limits.problme: Extra inputs are not permitted"),
        ("limits: {step: 0}", "limits.step: Input should be greater than or equal to 1"),
        (
            "sources: [{path: x.jsonl, format: native, options: {limits: {step: 5}}}]",
            "sources.0.options: limits go beside options, on the source, not inside options",
        ),
    ],
)
def test_bad_limits_in_the_spec_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    spec = write_spec(tmp_path, f"slug: s\ntitle: t\ndomains: [{{name: a}}]\n{line}\n")
    with pytest.raises(SpecError) as info:
        study_load(path=spec)
    assert str(info.value) == f"{spec}:4: {message}"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"id": "n2", "problem": "nul \\u0000 here", "steps": ["s"]}', "problem"),
        ('{"id": "n2", "problem": "q", "steps": ["\\udc00"]}', "steps[0]"),
        ('{"id": "n2", "problem": "q", "steps": ["s"], "metadata": {"k": "\\u0000"}}', "metadata.k"),
        ('{"id": "' + "x" * 201 + '", "problem": "q", "steps": ["s"]}', "id"),
    ],
)
def test_text_the_database_cannot_hold_is_refused_on_every_database(
    tmp_path: Path, line: str, field: str
) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text('{"id": "n1", "problem": "q", "steps": ["s"]}\n' + line + "\n")
    spec = write_spec(
        tmp_path, "slug: s\ntitle: t\ndomains: [{name: a}]\nsources: [{path: items.jsonl, format: native}]\n"
    )
    with pytest.raises(CommandError) as info:
        call_command("load_study", str(spec))
    assert str(info.value).startswith(f"{data}:2: {field}: ")
    assert not Study.objects.exists() and not Item.objects.exists()
