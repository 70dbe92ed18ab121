"""Study specs: one YAML file a researcher keeps in version control.

`parse_spec(path)` validates the file against `StudySpec`, and each judge's
config against its kind's (`judges.base.judge_config_problems`, the config alone:
no model is loaded, no environment read), and fails with a `SpecError` naming the
file, the line and the field. The reference is in README.md ("Study spec
reference").
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from judges.base import judge_config_problems
from studyapp.importers import FORMATS, ImportLimits
from studyapp.spec_yaml import MAX_BYTES, YAMLBudgetError, load_yaml

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
ENV_REFERENCE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class SpecError(ValueError):
    def __init__(self, path: str | Path, line: int | None, field: str | None, message: str):
        self.path, self.line, self.field, self.message = str(path), line, field, message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DomainSpec(Strict):
    name: str = Field(pattern=SLUG)
    description: str = ""


class PersonaSpec(Strict):
    name: str = Field(pattern=SLUG)
    description: str = ""
    prompt: str = ""


class CriterionSpec(Strict):
    name: str = Field(pattern=SLUG)
    description: str = ""
    scale: tuple[int, int] = (1, 5)
    anchors: dict[int, str] = {}

    @model_validator(mode="after")
    def scale_ordered(self) -> CriterionSpec:
        low, high = self.scale
        if low >= high:
            raise ValueError(f"scale must go from low to high, got {list(self.scale)}")
        for point in self.anchors:
            if not low <= point <= high:
                raise ValueError(f"anchor {point} is outside the scale {low}-{high}")
        return self


class RubricSpec(Strict):
    name: str = ""
    criteria: list[CriterionSpec] = Field(min_length=1)

    @field_validator("criteria")
    @classmethod
    def unique_names(cls, criteria: list[CriterionSpec]) -> list[CriterionSpec]:
        _unique([c.name for c in criteria], "criterion")
        return criteria


class AnnotationSpec(Strict):
    label_mode: Literal["all_steps", "first_error"] = "all_steps"
    trajectory_rating: bool = False
    allow_tie: bool = Field(default=True, description="pairwise items: annotators and critics may answer tie")
    claim_timeout: int = Field(default=30, ge=1, description="minutes")
    gold_rate: float = Field(default=0.0, ge=0, le=1)
    qualification_pass_mark: float | None = Field(default=None, ge=0, le=1)
    annotator_quota: int | None = Field(
        default=None, ge=1, description="real items per annotator; then they are finished"
    )
    completion_code: str = Field(
        default="", description="the crowdsourcing platform's completion code (e.g. Prolific's)"
    )
    allocation: Literal["uniform", "active"] = Field(
        default="uniform",
        description="active: people label a random subset drawn with probabilities set by the judges",
    )
    allocation_budget: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="active: the expected share of each domain's real items that people label",
    )
    allocation_floor: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="active: each item's probability is at least this share of the uniform one",
    )

    @model_validator(mode="after")
    def budget_with_active(self) -> AnnotationSpec:
        if self.allocation == "active" and self.allocation_budget is None:
            raise ValueError("allocation: active needs allocation_budget, the share of items people label")
        if self.allocation == "uniform" and self.allocation_budget is not None:
            raise ValueError("allocation_budget is only read with allocation: active")
        return self


class SourceSpec(Strict):
    path: str
    format: str
    domain: str | None = None
    persona: str | None = None
    limit: int | None = Field(default=None, ge=1)
    options: dict[str, Any] = {}
    limits: ImportLimits | None = Field(default=None, description="this source's import limits")

    @field_validator("format")
    @classmethod
    def known_format(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"unknown format {value!r} (known: {', '.join(FORMATS)})")
        return value

    @field_validator("options")
    @classmethod
    def no_limits_in_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        if "limits" in value:
            raise ValueError("limits go beside options, on the source, not inside options")
        return value


class JudgeSpec(Strict):
    name: str = Field(min_length=1)
    kind: Literal["critic", "sprm"]
    config: dict[str, Any] = {}


class AnalysisSpec(Strict):
    """How the concordance report judges this study (README, "Study spec reference")."""

    min_human_alpha: float = Field(
        default=0.667,
        ge=-1,
        le=1,
        description="human-human alpha below which no replacement verdict is given",
    )
    out_of_scale: Literal["exclude", "clip", "keep"] = Field(
        default="exclude", description="judge ratings outside a criterion's scale"
    )
    epsilon: float = Field(default=0.1, ge=0, le=1, description="the alternative-annotator test's margin")
    target_width: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="target total width (high - low) of the estimates' intervals: the live dashboard's "
        "width rule and plan_study's default --width",
    )


class StudySpec(Strict):
    slug: str = Field(pattern=SLUG, max_length=50)
    title: str = Field(min_length=1)
    description: str = ""
    instructions: str = ""
    consent: str = ""
    overlap: int = Field(default=1, ge=1, le=100)
    seed: int = 0
    status: Literal["draft", "open", "closed"] = "open"
    annotation: AnnotationSpec = AnnotationSpec()
    domains: list[DomainSpec] = Field(min_length=1)
    personas: list[PersonaSpec] = []
    rubric: RubricSpec | None = None
    sources: list[SourceSpec] = []
    limits: ImportLimits | None = Field(default=None, description="import limits of every source")
    judges: list[JudgeSpec] = []
    analysis: AnalysisSpec = AnalysisSpec()
    _node: yaml.Node | None = PrivateAttr(default=None)  # the parsed YAML, for line numbers

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """The line in the spec file of the field at `loc` (or of its nearest parent)."""
        return _line_of(self._node, loc)

    @model_validator(mode="after")
    def cross_references(self) -> StudySpec:
        _unique([d.name for d in self.domains], "domain")
        _unique([p.name for p in self.personas], "persona")
        _unique([j.name for j in self.judges], "judge")
        domains = {d.name for d in self.domains}
        personas = {p.name for p in self.personas}
        for source in self.sources:
            if source.domain is not None and source.domain not in domains:
                raise ValueError(f"source {source.path}: domain {source.domain!r} is not declared")
            if source.persona is not None and source.persona not in personas:
                raise ValueError(f"source {source.path}: persona {source.persona!r} is not declared")
        return self


def _unique(names: list[str], what: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} {name!r} is declared twice")
        seen.add(name)


def parse_spec(path: str | Path) -> tuple[StudySpec, str]:
    """Read and validate a spec; return it with the SHA-256 of the file's bytes."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(path, None, None, f"cannot read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise SpecError(path, None, None, f"larger than {MAX_BYTES:,} bytes; a spec names its item files")
    text = raw.decode("utf-8", errors="replace")
    try:
        node, data = load_yaml(text)
    except YAMLBudgetError as exc:
        raise SpecError(path, exc.line, None, f"refused: {exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise SpecError(path, line, None, f"invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise SpecError(path, 1, None, "a spec is a YAML mapping")
    try:
        data = _expand_env(data)
    except KeyError as exc:
        raise SpecError(path, None, None, f"environment variable {exc.args[0]} is not set") from None
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(part) for part in error["loc"]]
        message = error["msg"].removeprefix("Value error, ")
        raise SpecError(path, _line_of(node, error["loc"]), ".".join(loc) or None, message) from None
    spec._node = node
    for i, judge in enumerate(spec.judges):
        for problem in judge_config_problems(judge.kind, judge.config, ready=False):
            field = ("judges", i, "config", *problem.field)
            where = ".".join(map(str, field))
            raise SpecError(path, spec.line_of(field), where, f"judge {judge.name}: {problem.message}")
    return spec, hashlib.sha256(raw).hexdigest()


def _expand_env(value: Any) -> Any:
    """Replace `${NAME}` and `${NAME:-default}` in strings with environment values."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match["name"], match["default"]
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise KeyError(name)

        return ENV_REFERENCE.sub(substitute, value)
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    return value


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node along `loc` that exists in the YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
