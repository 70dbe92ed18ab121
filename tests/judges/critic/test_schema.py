"""Each request's answer schema is built from its item: only the item's steps, only
the rubric's criteria on their scales. It meets OpenAI's rules for strict structured
output, and a server that honours it to the letter (tests/support/openai_server.py
`schema_responder`) can only give usable answers, which it could not with the
schemas used before."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from judges.critic.caller import ChatCaller
from judges.critic.config import CriticConfig
from judges.critic.judge import CriticJudge
from judges.critic.retry import RetryPolicy
from judges.critic.schema import answer_schema, strict_schema_problems
from judges.types import Criterion, PairwiseTask, Persona, ReasoningTask, Step, SummaryTask
from tests.judges.critic.conftest import NURSE, reasoning_task, summary_task
from tests.support.openai_server import (
    FREE_INTEGER,
    FREE_STRING,
    FakeOpenAI,
    Reply,
    answer_from_schema,
    critique_responder,
    schema_responder,
)

# The schemas the critic sent before they were built per item (judges/critic/schema.py
# until 2026-11): any criterion name, any score, any step index.
OLD_RUBRIC_SCHEMA = {
    "type": "object",
    "properties": {
        "criteria": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "criterion": {"type": "string"},
                    "rationale": {"type": "string"},
                    "score": {"type": "integer"},
                },
                "required": ["criterion", "rationale", "score"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["criteria"],
    "additionalProperties": False,
}
OLD_STEP_SCHEMA = {
    "type": "object",
    "properties": {
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "label": {"type": "integer", "enum": [-1, 0, 1]},
                },
                "required": ["index", "label"],
                "additionalProperties": False,
            },
        },
        "first_error": {"type": "integer"},
    },
    "required": ["steps", "first_error"],
    "additionalProperties": False,
}

NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)


@st.composite
def rubric_tasks(draw: st.DrawFn) -> SummaryTask:
    names = draw(st.lists(NAMES, min_size=1, max_size=8, unique=True))
    criteria = []
    for name in names:
        low = draw(st.integers(-3, 5))
        criteria.append(Criterion(name, "d", low, low + draw(st.integers(1, 10))))
    return SummaryTask("s", "doc", "sum", NURSE, tuple(criteria))


@st.composite
def reasoning_tasks(draw: st.DrawFn) -> ReasoningTask:
    n = draw(st.integers(1, 120))
    k = draw(st.integers(0, n))
    steps = tuple(Step(i, f"s{i}", "trajectory" if i < k else "response") for i in range(n))
    return ReasoningTask("r", "p", steps)


@st.composite
def pairwise_tasks(draw: st.DrawFn) -> PairwiseTask:
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    criteria = tuple(Criterion(name, "d", -1, 1) for name in names)
    return PairwiseTask("p", "prompt", "a", "b", criteria, allow_tie=draw(st.booleans()))


TASKS = st.one_of(rubric_tasks(), reasoning_tasks(), pairwise_tasks())


def _strict_rules_by_hand(schema: dict[str, Any]) -> None:
    """The three rules stated plainly, walked independently of strict_schema_problems."""
    supported = {
        "type", "properties", "required", "additionalProperties", "items", "enum", "const",
        "anyOf", "$ref", "$defs", "description", "title",
    }  # fmt: skip

    def walk(node: dict[str, Any]) -> None:
        assert node.keys() <= supported, node.keys() - supported
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])
            for sub in node["properties"].values():
                walk(sub)

    walk(schema)
    for sub in schema.get("$defs", {}).values():
        walk(sub)


@settings(max_examples=60, deadline=None)
@given(TASKS)
def test_every_built_schema_meets_the_strict_rules(task):
    fmt = answer_schema(task).response_format()
    schema = fmt["json_schema"]["schema"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert strict_schema_problems(schema, fmt["json_schema"]["name"]) == []
    _strict_rules_by_hand(schema)
    Draft202012Validator.check_schema(schema)  # and it is a valid JSON Schema at all


@settings(max_examples=60, deadline=None)
@given(TASKS)
def test_a_schema_holds_exactly_the_items_steps_or_criteria(task):
    schema = answer_schema(task).schema
    if isinstance(task, ReasoningTask):
        steps = schema["properties"]["steps"]
        assert steps["required"] == [f"step_{s.index}" for s in task.steps]
        assert schema["properties"]["first_error"]["enum"] == [-1, *(s.index for s in task.steps)]
        assert schema["$defs"]["step_label"]["enum"] == [-1, 0, 1]
    elif isinstance(task, PairwiseTask):
        assert schema["required"] == [c.name for c in task.criteria]
        for c in task.criteria:
            entry = schema["properties"][c.name]
            assert entry["required"] == ["rationale", "preference"]
            legal = ["A", "B", "tie"] if task.allow_tie else ["A", "B"]
            assert entry["properties"]["preference"]["enum"] == legal
    else:
        assert schema["required"] == [c.name for c in task.criteria]
        for c in task.criteria:
            entry = schema["properties"][c.name]
            assert entry["required"] == ["rationale", "score"]
            assert entry["properties"]["score"]["enum"] == list(range(c.scale_min, c.scale_max + 1))


def _mutations(value: Any) -> list[Any]:
    """Answers one edit away from `value`: a key dropped or added, a leaf replaced."""
    out: list[Any] = []
    if isinstance(value, dict):
        for key in value:
            dropped = dict(value)
            del dropped[key]
            out.append(dropped)
            for changed in _mutations(value[key]):
                out.append({**value, key: changed})
        out.append({**value, "extra": 1})
    else:
        out += [
            v for v in (True, 2, -2, 1.0, 3.5, "1", None, [], {}) if v != value or type(v) is not type(value)
        ]
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TASKS, st.randoms(use_true_random=False))
def test_answers_are_checked_as_jsonschema_checks_them(task, rnd):
    """The critic's own check agrees with the jsonschema package on the same schema,
    for valid answers and for every answer one edit away from one."""
    schema = answer_schema(task)
    reference = Draft202012Validator(schema.schema)
    valid = answer_from_schema(schema.schema, rnd)
    assert schema.problems(valid) == [] and reference.is_valid(valid)
    candidates = _mutations(valid)
    for value in rnd.sample(candidates, min(60, len(candidates))):
        assert (schema.problems(value) == []) == reference.is_valid(value), value


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda s: s["properties"]["steps"].pop("additionalProperties"),
            "additionalProperties must be false",
        ),
        (lambda s: s["properties"]["steps"]["required"].pop(), "every property must be required"),
        (lambda s: s.update(minProperties=1), "keyword 'minProperties' is not supported"),
        (lambda s: s["properties"]["first_error"].update(uniqueItems=True), "'uniqueItems' is not supported"),
        (lambda s: s.update(allOf=[{"type": "object"}]), "keyword 'allOf' is not supported"),
        (lambda s: s["properties"]["steps"]["properties"].update(x={"$ref": "#/$defs/nope"}), "points to no"),
        (lambda s: s["properties"]["first_error"].update(enum=list(range(1001))), "1004 enum values"),
        (lambda s: s["properties"]["first_error"].update(type="decimal"), "type 'decimal' is not supported"),
    ],
)
def test_the_checker_names_each_broken_rule(edit, problem):
    schema = copy.deepcopy(answer_schema(reasoning_task()).schema)
    edit(schema)
    assert any(problem in p for p in strict_schema_problems(schema)), strict_schema_problems(schema)


def test_the_checker_names_a_bad_root_depth_and_name():
    assert strict_schema_problems({"anyOf": [{"type": "object"}]})[0].startswith("<root>: the root must be")
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(11):
        deep = {"type": "object", "properties": {"a": deep}, "required": ["a"], "additionalProperties": False}
    assert "nested 11 levels deep (at most 10)" in " ".join(strict_schema_problems(deep))
    assert strict_schema_problems(answer_schema(summary_task()).schema, "rubric rating") == [
        "name 'rubric rating' must be 1-64 letters, digits, '_' or '-'"
    ]


# --- a server that honours the schema to the letter ----------------------------------


def _ask(server: FakeOpenAI, schema: dict[str, Any]) -> Any:
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    completion = client.chat.completions.create(
        model="fake-model",
        messages=[{"role": "user", "content": "Rate it."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "a", "strict": True, "schema": schema},
        },
    )
    return json.loads(completion.choices[0].message.content or "")


def test_the_old_schemas_let_a_literal_server_leave_the_rubric_and_the_steps(openai_server):
    openai_server.responder = schema_responder()
    task, trace = summary_task(), reasoning_task()
    old_rubric = _ask(openai_server, OLD_RUBRIC_SCHEMA)
    assert old_rubric == {
        "criteria": [{"criterion": FREE_STRING, "rationale": FREE_STRING, "score": FREE_INTEGER}]
    }
    assert FREE_STRING not in {c.name for c in task.criteria}
    assert answer_schema(task).problems(old_rubric)  # the item's schema refuses it
    old_steps = _ask(openai_server, OLD_STEP_SCHEMA)
    assert old_steps == {"steps": [{"index": FREE_INTEGER, "label": -1}], "first_error": FREE_INTEGER}
    assert answer_schema(trace).problems(old_steps)


@pytest.mark.parametrize("pick", ["first", "last", "random"])
def test_with_the_items_schema_a_literal_server_can_only_answer_usably(openai_server, critic_config, pick):
    openai_server.responder = schema_responder(random.Random(7) if pick == "random" else pick)
    judge = CriticJudge(CriticConfig.from_mapping({**critic_config, "structured_output": "json_schema"}))
    wide = Criterion("Completeness", "All of it.", 0, 10)
    tasks = [
        reasoning_task("a", 2, 3),
        reasoning_task("b", 0, 1),
        summary_task("s1"),
        SummaryTask("s2", "doc", "sum", Persona("p", "d"), (*summary_task().criteria, wide)),
    ]
    verdicts = judge.judge(tasks)
    assert [v.error for v in verdicts] == [None] * 4
    assert len(verdicts[0].step_labels) == 5 and verdicts[0].first_error in range(-1, 5)
    assert len(verdicts[1].step_labels) == 1 and set(verdicts[0].step_labels) <= {-1, 0, 1}
    assert set(verdicts[3].ratings) == {"Relevance", "Fluency", "Completeness"}
    assert 0 <= verdicts[3].ratings["Completeness"] <= 10
    if pick != "random":
        assert verdicts[2].ratings == ({"Relevance": 1.0, "Fluency": 1.0} if pick == "first" else {
            "Relevance": 5.0, "Fluency": 5.0,
        })  # fmt: skip
    assert openai_server.calls() == 4


def test_samples_from_a_literal_server_are_averaged(openai_server, critic_config):
    openai_server.responder = schema_responder(random.Random(3))
    judge = CriticJudge(CriticConfig.from_mapping({**critic_config, "samples": 5, "temperature": 1}))
    [verdict] = judge.judge([summary_task()])
    assert verdict.ok and verdict.raw["samples_used"] == 5
    samples = verdict.raw["sample_ratings"]
    assert verdict.ratings["Relevance"] == pytest.approx(sum(s["Relevance"] for s in samples) / 5)


# --- schemas beyond the limits ----------------------------------------------------------

LONG = reasoning_task("long", 0, 1100)  # 1,104 enum values: more than strict mode allows


def test_a_schema_beyond_the_limits_is_refused_in_json_schema_mode(openai_server, critic_config):
    judge = CriticJudge(CriticConfig.from_mapping({**critic_config, "structured_output": "json_schema"}))
    [verdict] = judge.judge([LONG])
    assert openai_server.calls() == 0
    assert not verdict.ok
    assert verdict.error == (
        "the item's answer schema breaks the limits of strict structured output "
        "(1104 enum values (at most 1000)); set structured_output to auto or off to judge it without"
    )


def test_a_schema_beyond_the_limits_is_not_sent_in_auto_mode(openai_server, critic_config):
    openai_server.responder = critique_responder
    judge = CriticJudge(CriticConfig.from_mapping(critic_config))  # auto
    long_verdict, short_verdict = judge.judge([LONG, reasoning_task()])
    bodies = {len(r.body["messages"][1]["content"]) > 20_000: r.body for r in openai_server.requests()}
    assert "response_format" not in bodies[True] and "response_format" in bodies[False]
    assert long_verdict.ok and len(long_verdict.step_labels) == 1100 and not long_verdict.raw["structured"]
    assert short_verdict.ok and short_verdict.raw["structured"]
    assert judge.stats["structured_fallbacks"] == 0  # nothing learnt: the next item still asks


# --- versions and the cache -----------------------------------------------------------


def test_the_way_schemas_are_built_is_part_of_the_critic_version(monkeypatch):
    config = {"model": "m", "api_key_env": None}
    before = CriticJudge.from_config(config).version()
    monkeypatch.setattr("judges.critic.judge.schema_version", lambda: "another-builder")
    assert CriticJudge.from_config(config).version() != before


def test_the_cache_key_holds_the_schema_even_when_it_is_not_sent():
    caller = ChatCaller(clients=[], endpoint="http://x/v1", policy=RetryPolicy(1, 0, 0, 0), timeout=1)
    base = {"model": "m", "messages": [{"role": "user", "content": "same"}]}
    five, three = (
        answer_schema(SummaryTask("s", "d", "s", NURSE, (Criterion("c", "", 1, top),))).response_format()
        for top in (5, 3)
    )
    assert caller.key(base, five) != caller.key(base, three)
    caller.structured_output = "off"
    assert caller.key(base, five) != caller.key(base, three)


def test_an_answer_cached_for_one_schema_is_not_reused_for_another(
    openai_server, critic_config, tmp_path: Path
):
    # A rubric prompt that does not show the criteria: two rubrics give the same messages.
    builtin = Path(__file__).parents[3] / "judges" / "critic" / "prompts"
    for f in builtin.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "rubric_rating.user.txt").write_text("Rate $summary of $document.")
    judge = CriticJudge(
        CriticConfig.from_mapping(
            {**critic_config, "prompt_dir": str(tmp_path), "structured_output": "off", "cache": True}
        )
    )
    five = SummaryTask("a", "doc", "sum", NURSE, (Criterion("clarity", "", 1, 5),))
    three = SummaryTask("b", "doc", "sum", NURSE, (Criterion("clarity", "", 1, 3),))
    openai_server.enqueue(*(_reply_clarity(score) for score in (5, 2)))
    assert judge.judge([five])[0].ratings == {"clarity": 5.0}
    [verdict] = judge.judge([three])
    assert openai_server.calls() == 2 and judge.stats["cache_hits"] == 0
    assert verdict.ok and verdict.ratings == {"clarity": 2.0}


def _reply_clarity(score: int) -> Reply:
    return Reply.json({"clarity": {"rationale": "", "score": score}})
