"""The JSON the critic asks for, built from each item: the strict JSON schema sent
as `response_format`, and the check of an answer against that same schema (also
when the server could not be asked for structured output).

A step critique has one required key per step of the item (`step_0` ... as the
prompt tags them), each -1, 0 or 1, and `first_error`, one of -1 and the item's
step indexes. A rubric rating has one required key per criterion of the item's
rubric, each `{"rationale": str, "score": one of the scale's points}`. A server
that follows the schema to the letter can therefore only answer with steps that
exist and criteria of the rubric, on their scales. A pairwise preference has one required key per criterion
of the pair, each `{"rationale": str, "preference": "A" | "B"}`, with `"tie"` among
the choices only when the study allows ties.

`strict_schema_problems` checks a schema against OpenAI's rules for strict
structured output (https://platform.openai.com/docs/guides/structured-outputs,
"Supported schemas"): the root an object, every object with all its properties
required and `additionalProperties: false`, supported keywords only, and the size
limits.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from judges.critic.prompts import PAIRWISE_PREFERENCE, RUBRIC_RATING, STEP_CRITIQUE, pair_choices
from judges.types import (
    STEP_LABELS,
    Criterion,
    PairwiseTask,
    Persona,
    ReasoningTask,
    Step,
    SummaryTask,
)

# OpenAI's limits for one strict schema
MAX_PROPERTIES = 5000
MAX_DEPTH = 10
MAX_ENUM_VALUES = 1000
MAX_STRING_CHARS = 120_000  # property and definition names, enum and const values
MAX_LONG_ENUM_CHARS = 15_000  # one string enum of more than 250 values
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # the response format's name

# keywords strict mode accepts, by where they may appear
_ANY = {"type", "description", "title", "enum", "const", "anyOf", "$ref"}
_BY_TYPE = {
    "object": {"properties", "required", "additionalProperties"},
    "array": {"items", "minItems", "maxItems"},
    "string": {"pattern", "format"},
    "integer": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "boolean": set(),
    "null": set(),
}


def step_key(index: int) -> str:
    """The answer's key for step `index` (the prompt tags the step `<step_{index}>`)."""
    return f"step_{index}"


def _obj(properties: dict[str, Any]) -> dict[str, Any]:
    # strict structured output: every property required, nothing else allowed
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class AnswerSchema:
    """The schema one item's answer must match. Built once per shape (step indexes,
    criteria and scales) and shared: never mutate `schema`."""

    name: str
    schema: dict[str, Any]

    def problems(self, value: object, limit: int = 5) -> list[str]:
        """Why `value` does not match the schema (empty when it does), at most `limit`."""
        found: list[str] = []
        for problem in _mismatches(self.schema, self.schema, value, ()):
            found.append(problem)
            if len(found) == limit:
                break
        return found

    @functools.cached_property
    def strict_problems(self) -> list[str]:
        return strict_schema_problems(self.schema)

    def response_format(self) -> dict[str, Any]:
        """The `response_format` argument asking for JSON that matches the schema (strict)."""
        strict = {"name": self.name, "strict": True, "schema": self.schema}
        return {"type": "json_schema", "json_schema": strict}


# --- checking an answer against a schema -------------------------------------------
#
# The keywords the builders above use (type, properties, required, additionalProperties,
# enum, $ref), checked directly: jsonschema's validator costs 0.13-0.28 ms per answer
# here, 10-20% of the critic's whole CPU time per judgment at high concurrency, this
# about 10 us. tests/judges/critic/test_schema.py checks that both agree.

_CHECKED = {"type", "properties", "required", "additionalProperties", "enum", "$ref", "$defs", "description"}
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
}


def _is(value: object, kind: str) -> bool:
    if kind == "null":
        return value is None
    if isinstance(value, bool) and kind != "boolean":
        return False  # JSON true is not the integer 1
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _JSON_TYPES[kind])


def _same(a: object, b: object) -> bool:
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _mismatches(
    root: dict[str, Any], node: dict[str, Any], value: object, path: tuple[str, ...]
) -> Iterator[str]:
    if unknown := node.keys() - _CHECKED:
        raise ValueError(f"answer schemas may not use {sorted(unknown)} (not checked)")
    where = ".".join(path) or "<root>"
    if "$ref" in node:
        yield from _mismatches(root, root["$defs"][node["$ref"].removeprefix("#/$defs/")], value, path)
        return
    if "enum" in node and not any(_same(value, v) for v in node["enum"]):
        yield f"{where}: {_short(value)} is not one of {_short(node['enum'])}"
        return
    kind = node.get("type")
    if kind is not None and not _is(value, kind):
        yield f"{where}: {_short(value)} is not of type {kind!r}"
        return
    if kind == "object":
        assert isinstance(value, dict)
        props = node.get("properties", {})
        for key in node.get("required", ()):
            if key not in value:
                yield f"{where}: {key!r} is missing"
        if node.get("additionalProperties") is False:
            for key in value:
                if key not in props:
                    yield f"{where}: {key!r} is not allowed (expected {_clip(', '.join(map(repr, props)))})"
        for key, sub in props.items():
            if key in value:
                yield from _mismatches(root, sub, value[key], (*path, key))


def _short(value: object) -> str:
    return _clip(repr(value))


def _clip(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def answer_schema(task: ReasoningTask | SummaryTask | PairwiseTask) -> AnswerSchema:
    """The answer schema of `task`: its step critique, rubric rating or pairwise preference."""
    if isinstance(task, ReasoningTask):
        return _step_critique(tuple(s.index for s in task.steps))
    if isinstance(task, SummaryTask):
        return _rubric_rating(tuple((c.name, c.scale_min, c.scale_max) for c in task.criteria))
    if isinstance(task, PairwiseTask):
        return _pairwise_preference(tuple(c.name for c in task.criteria), pair_choices(task))
    raise TypeError(f"the critic cannot judge {type(task).__name__}")


@functools.lru_cache(maxsize=512)
def _step_critique(indexes: tuple[int, ...]) -> AnswerSchema:
    label = {"$ref": "#/$defs/step_label"}  # one definition: 3 enum values whatever the length
    schema = _obj(
        {
            "steps": _obj({step_key(i): label for i in indexes}),
            "first_error": {"type": "integer", "enum": [-1, *indexes]},
        }
    )
    schema["$defs"] = {"step_label": {"type": "integer", "enum": list(STEP_LABELS)}}
    return AnswerSchema(STEP_CRITIQUE, schema)


@functools.lru_cache(maxsize=512)
def _rubric_rating(criteria: tuple[tuple[str, int, int], ...]) -> AnswerSchema:
    schema = _obj(
        {
            name: _obj(
                {
                    "rationale": {"type": "string"},
                    "score": {"type": "integer", "enum": list(range(low, high + 1))},
                }
            )
            for name, low, high in criteria
        }
    )
    return AnswerSchema(RUBRIC_RATING, schema)


@functools.lru_cache(maxsize=64)
def _pairwise_preference(criteria: tuple[str, ...], choices: tuple[str, ...]) -> AnswerSchema:
    preference = {"type": "string", "enum": list(choices)}
    schema = _obj(
        {name: _obj({"rationale": {"type": "string"}, "preference": preference}) for name in criteria}
    )
    return AnswerSchema(PAIRWISE_PREFERENCE, schema)


# --- OpenAI's strict-mode rules -------------------------------------------------


def strict_schema_problems(schema: dict[str, Any], name: str | None = None) -> list[str]:
    """What keeps `schema` from being accepted as a strict structured-output schema
    (empty when nothing does). `name` is the response format's name, if given."""
    problems: list[str] = []
    if name is not None and not NAME.match(name):
        problems.append(f"name {name!r} must be 1-64 letters, digits, '_' or '-'")
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("<root>: the root must be an object (not anyOf)")
    defs = schema.get("$defs", {})
    if not isinstance(defs, dict):
        problems.append("$defs: must be an object")
        defs = {}
    counts = {"properties": 0, "enum": 0, "chars": sum(len(k) for k in defs)}
    for path, node, depth in _walk(schema, "<root>", 1, defs, problems):
        problems.extend(_node_problems(path, node, depth, schema, defs, counts))
    if counts["properties"] > MAX_PROPERTIES:
        problems.append(f"{counts['properties']} object properties (at most {MAX_PROPERTIES})")
    if counts["enum"] > MAX_ENUM_VALUES:
        problems.append(f"{counts['enum']} enum values (at most {MAX_ENUM_VALUES})")
    if counts["chars"] > MAX_STRING_CHARS:
        problems.append(f"{counts['chars']} characters of names and enum values (at most {MAX_STRING_CHARS})")
    return problems


def _walk(
    node: Any, path: str, depth: int, defs: dict[str, Any], problems: list[str]
) -> Iterator[tuple[str, dict[str, Any], int]]:
    """Every subschema with its path and object/array nesting depth ($defs walked once, at depth 1)."""
    if not isinstance(node, dict):
        problems.append(f"{path}: a schema must be an object")
        return
    yield path, node, depth
    nested = depth + (1 if node.get("type") in ("object", "array") else 0)
    for key, sub in (node.get("properties") or {}).items():
        yield from _walk(sub, f"{path}.{key}", nested, defs, problems)
    if "items" in node:
        yield from _walk(node["items"], f"{path}[]", nested, defs, problems)
    for i, sub in enumerate(node.get("anyOf") or []):
        yield from _walk(sub, f"{path}.anyOf[{i}]", depth, defs, problems)
    if path == "<root>":
        for key, sub in defs.items():
            yield from _walk(sub, f"$defs.{key}", 1, defs, problems)


def _node_problems(
    path: str,
    node: dict[str, Any],
    depth: int,
    root: dict[str, Any],
    defs: dict[str, Any],
    counts: dict[str, int],
) -> list[str]:
    out: list[str] = []
    if depth > MAX_DEPTH:
        out.append(f"{path}: nested {depth} levels deep (at most {MAX_DEPTH})")
    kinds = node.get("type")
    types = kinds if isinstance(kinds, list) else [kinds] if kinds is not None else []
    allowed = set(_ANY) | ({"$defs"} if node is root else set())
    for kind in types:
        if kind not in _BY_TYPE:
            out.append(f"{path}: type {kind!r} is not supported")
        else:
            allowed |= _BY_TYPE[kind]
    if not types and not ({"$ref", "anyOf", "enum", "const"} & node.keys()):
        out.append(f"{path}: no type")
    for key in sorted(node.keys() - allowed):
        out.append(f"{path}: keyword {key!r} is not supported here")
    if "$ref" in node:
        ref = node["$ref"]
        target = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
        if ref != "#" and (target is None or target == ref or target not in defs):
            out.append(f"{path}: $ref {ref!r} points to no definition")
    if "object" in types:
        props = node.get("properties")
        if not isinstance(props, dict):
            out.append(f"{path}: an object needs its properties")
            props = {}
        if node.get("additionalProperties") is not False:
            out.append(f"{path}: additionalProperties must be false")
        if sorted(node.get("required") or []) != sorted(props):
            out.append(f"{path}: every property must be required")
        counts["properties"] += len(props)
        counts["chars"] += sum(len(k) for k in props)
    if "array" in types and "items" not in node:
        out.append(f"{path}: an array needs items")
    if "enum" in node:
        values = node["enum"]
        if not isinstance(values, list) or not values:
            out.append(f"{path}: enum must be a non-empty list")
            values = []
        counts["enum"] += len(values)
        strings = [v for v in values if isinstance(v, str)]
        counts["chars"] += sum(len(v) for v in strings)
        if len(strings) > 250 and sum(len(v) for v in strings) > MAX_LONG_ENUM_CHARS:
            out.append(f"{path}: more than 250 string enum values longer than {MAX_LONG_ENUM_CHARS} in all")
    if isinstance(node.get("const"), str):
        counts["chars"] += len(node["const"])
    return out


@functools.cache
def schema_version() -> str:
    """A hash of the schemas built for two fixed probe items: it changes whenever the way
    schemas are built changes, and is part of the critic's version."""
    probes: list[ReasoningTask | SummaryTask | PairwiseTask] = [
        ReasoningTask("probe", "p", (Step(0, "a", "trajectory"), Step(1, "b"))),
        SummaryTask("probe", "d", "s", Persona("p", ""), (Criterion("c", "", 1, 3),)),
        PairwiseTask("probe", "p", "a", "b", (Criterion("c", "", -1, 1),), allow_tie=True),
        PairwiseTask("probe", "p", "a", "b", (Criterion("c", "", -1, 1),), allow_tie=False),
    ]
    text = json.dumps([answer_schema(t).response_format() for t in probes], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
