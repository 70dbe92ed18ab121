"""Study specs refuse alias bombs, recursive aliases and deep nesting, with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from studyapp.models import Study
from studyapp.spec import SpecError, parse_spec
from studyapp.spec_yaml import MAX_ALIASES, MAX_BYTES, MAX_DEPTH

HEAD = "slug: s\ntitle: t\ndomains: [{name: a}]\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(body)
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def billion_laughs() -> str:
    """Nine levels of nine aliases: 9**9 (387 million) strings once expanded, in 11 lines."""
    lines = [HEAD + "judges:\n  - name: lol\n    kind: critic\n    config:\n", '      l0: &l0 "lol"\n']
    for level in range(1, 10):
        lines.append(f"      l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]\n")
    return "".join(lines)


@pytest.mark.django_db
def test_billion_laughs_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    spec = write(tmp_path, billion_laughs())
    with pytest.raises(CommandError) as info:
        call_command("load_study", str(spec))
    message = str(info.value)
    line = int(message.split(":", 2)[1])
    assert message.startswith(f"{spec}:{line}: refused: alias *l")
    assert "more than 100,000 nodes" in message and "billion laughs" in message
    assert "*l" in spec.read_text().splitlines()[line - 1]  # the line of the alias that went over
    assert "Nothing was written" in message
    assert not Study.objects.exists()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("loop: &a [*a]\n", "loop:"),
        ("loop: &m {again: *m}\n", "loop:"),
        ("outer: &o\n  inner:\n    - x\n    - *o\n", "- *o"),
    ],
)
def test_alias_inside_its_own_anchor_is_refused(tmp_path: Path, body: str, needle: str) -> None:
    spec = write(tmp_path, HEAD + body)
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    assert info.value.line == line_of(spec, needle)
    assert "is inside the node it names (a recursive structure)" in str(info.value)
    assert str(info.value).startswith(f"{spec}:{info.value.line}: refused: alias *")


@pytest.mark.parametrize(
    "nested",
    [
        "[" * 10_000 + "]" * 10_000,  # flow lists
        "{a: " * 10_000 + "x" + "}" * 10_000,  # flow maps
        "- " * 10_000 + "x",  # block lists on one line
    ],
)
def test_ten_thousand_deep_nesting_is_refused(tmp_path: Path, nested: str) -> None:
    spec = write(tmp_path, HEAD + "description: x\ndeep:\n  " + nested + "\n")
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    assert info.value.line == 6  # the nested value's line
    assert str(info.value) == f"{spec}:6: refused: nested more than {MAX_DEPTH} deep"


def test_depth_is_counted_through_aliases(tmp_path: Path) -> None:
    deep = "[" * 40 + "]" * 40
    body = f"{HEAD}a: &deep {deep}\nb: {'[' * 30}*deep{']' * 30}\n"
    spec = write(tmp_path, body)
    with pytest.raises(
        SpecError, match=rf"study.yaml:5: refused: alias \*deep nests the spec more than {MAX_DEPTH}"
    ):
        parse_spec(spec)


def test_too_many_aliases_is_refused(tmp_path: Path) -> None:
    aliases = "\n".join("  - *x" for _ in range(MAX_ALIASES + 1))
    spec = write(tmp_path, f"{HEAD}x: &x 1\nmany:\n{aliases}\n")
    with pytest.raises(
        SpecError, match=rf"study.yaml:{5 + MAX_ALIASES + 1}: refused: more than {MAX_ALIASES} aliases"
    ):
        parse_spec(spec)


def test_oversized_spec_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    spec = write(tmp_path, HEAD + "description: " + "x" * MAX_BYTES + "\n")
    with pytest.raises(SpecError, match=rf"study.yaml: larger than {MAX_BYTES:,} bytes"):
        parse_spec(spec)


@pytest.mark.django_db
def test_spec_with_a_few_legitimate_aliases_loads(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "a1", "problem": "p", "steps": ["s"]}\n')
    (tmp_path / "b.jsonl").write_text('{"id": "b1", "problem": "p", "steps": ["s"]}\n')
    body = (
        "slug: aliases\ntitle: Aliases\ndomains: [{name: math}, {name: logic}]\n"
        "sources:\n"
        "  - &source {format: native, limit: 10, path: a.jsonl, domain: math}\n"
        "  - {<<: *source, path: b.jsonl, domain: logic}\n"
        "judges:\n"
        "  - &critic {name: critic-a, kind: critic, config: &config {model: m1, temperature: 0}}\n"
        "  - {<<: *critic, name: critic-b, config: {<<: *config, model: m2}}\n"
    )
    spec, _ = parse_spec(write(tmp_path, body))
    assert [(s.path, s.domain, s.limit) for s in spec.sources] == [
        ("a.jsonl", "math", 10),
        ("b.jsonl", "logic", 10),
    ]
    assert [(j.name, j.config) for j in spec.judges] == [
        ("critic-a", {"model": "m1", "temperature": 0}),
        ("critic-b", {"model": "m2", "temperature": 0}),
    ]
    call_command("load_study", str(tmp_path / "study.yaml"))
    assert Study.objects.get(slug="aliases").items.count() == 2
