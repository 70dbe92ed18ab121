"""What can be wrong with a judge's configuration, said so that a person can fix it.

A judge's configuration is checked in two stages: the mapping alone (keys, types,
ranges: what a study spec can get wrong), then what it names outside itself
(model files, environment variables: what can change after the spec is loaded).
Each problem names the config key at fault and a `code` for its kind, so that an
interface can say which command fixes it.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = [
    "ENV_UNSET",
    "FILES_MISSING",
    "INVALID",
    "MODEL_INVALID",
    "MODEL_MISSING",
    "NEEDS_REDIS",
    "UNKNOWN_KIND",
    "ConfigProblem",
    "JudgeConfigError",
    "JudgeConfigModel",
    "problems_from_validation",
]

# codes: what kind of problem, hence what fixes it
INVALID = "invalid"  # the configuration itself (fix the spec)
UNKNOWN_KIND = "unknown_kind"
ENV_UNSET = "env_unset"  # an environment variable it names is not set
NEEDS_REDIS = "needs_redis"
FILES_MISSING = "files_missing"  # a directory it names lacks files (prompt templates)
MODEL_MISSING = "model_missing"  # no trained model where it says (train one)
MODEL_INVALID = "model_invalid"  # a model is there but cannot be used (train it again)


@dataclass(frozen=True)
class ConfigProblem:
    message: str
    field: tuple[str | int, ...] = ()  # the config key at fault, as a path; () for the whole
    code: str = INVALID

    def __str__(self) -> str:
        return f"{'.'.join(map(str, self.field))}: {self.message}" if self.field else self.message


class JudgeConfigError(ValueError):
    """A judge cannot be built from its configuration; `problems` say why."""

    def __init__(self, problems: Sequence[ConfigProblem]):
        self.problems = list(problems)
        super().__init__("; ".join(map(str, self.problems)))


class JudgeConfigModel(BaseModel):
    """A judge kind's configuration: every key declared (an unknown one is a problem),
    frozen; `readiness` checks what it names outside itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> Self:
        """The validated config; `JudgeConfigError` naming each bad key."""
        try:
            return cls.model_validate(dict(config))
        except ValidationError as exc:
            raise JudgeConfigError(problems_from_validation(exc, cls)) from None

    def readiness(self, env: Mapping[str, str] | None = None) -> list[ConfigProblem]:
        """What is missing or wrong outside the mapping (files, environment variables),
        found without loading a model; `env` defaults to the process environment."""
        return []


def problems_from_validation(exc: ValidationError, model: type[BaseModel]) -> list[ConfigProblem]:
    """pydantic's errors as problems: an unknown key with the nearest known ones, a
    missing key, a bad value with the value given."""
    problems = []
    for error in exc.errors():
        field = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            known = _keys_at(model, field[:-1])
            near = difflib.get_close_matches(str(field[-1]), known, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known keys: {', '.join(known)}"
            message = f"unknown key ({hint})"
        elif error["type"] == "missing":
            message = "required, not given"
        else:
            message = f"{error['msg'].removeprefix('Value error, ')} (got {error['input']!r})"
        problems.append(ConfigProblem(message, field))
    return problems


def _keys_at(model: type[BaseModel], path: tuple[str | int, ...]) -> list[str]:
    """The keys of the (nested) model found along `path`."""
    for key in path:
        annotation = model.model_fields[str(key)].annotation
        nested = [a for a in (annotation, *typing.get_args(annotation)) if isinstance(a, type)]
        model = next(a for a in nested if issubclass(a, BaseModel))
    return sorted(model.model_fields)
