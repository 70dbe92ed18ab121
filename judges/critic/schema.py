"""The JSON the critic asks for: pydantic models and the strict JSON schemas
sent as `response_format`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class StepLabelOut(BaseModel):
    index: int
    label: Literal[-1, 0, 1]


class StepCritiqueOut(BaseModel):
    steps: list[StepLabelOut]
    first_error: int


class CriterionScoreOut(BaseModel):
    criterion: str
    rationale: str
    score: int


class RubricOut(BaseModel):
    criteria: list[CriterionScoreOut]


def _obj(properties: dict[str, Any]) -> dict[str, Any]:
    # strict structured output: every property required, nothing else allowed
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


STEP_CRITIQUE_SCHEMA: dict[str, Any] = _obj(
    {
        "steps": {
            "type": "array",
            "items": _obj({"index": {"type": "integer"}, "label": {"type": "integer", "enum": [-1, 0, 1]}}),
        },
        "first_error": {"type": "integer"},
    }
)

RUBRIC_SCHEMA: dict[str, Any] = _obj(
    {
        "criteria": {
            "type": "array",
            "items": _obj(
                {
                    "criterion": {"type": "string"},
                    "rationale": {"type": "string"},
                    "score": {"type": "integer"},
                }
            ),
        }
    }
)


def response_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The `response_format` argument asking for JSON that matches `schema` (strict)."""
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}
