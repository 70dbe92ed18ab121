"""The critic's configuration: a study spec mapping plus the environment, never code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from judges.config import ENV_UNSET, FILES_MISSING, NEEDS_REDIS, ConfigProblem, JudgeConfigModel
from judges.critic.prompts import TEMPLATES

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Price(BaseModel):
    """US dollars per million tokens; `batch_discount` is the fraction paid in batch mode."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input_per_1m: float = Field(ge=0)
    output_per_1m: float = Field(ge=0)
    batch_discount: float = Field(default=0.5, gt=0, le=1)

    def cost(self, tokens_in: int, tokens_out: int, *, batch: bool = False) -> float:
        full = (tokens_in * self.input_per_1m + tokens_out * self.output_per_1m) / 1e6
        return full * (self.batch_discount if batch else 1.0)


class CriticConfig(JudgeConfigModel):
    """Everything that configures a critic. Secrets and URLs may come from the
    environment: `api_key_env`, `base_url_env` and `redis_url_env` name variables."""

    kind: Literal["critic"] = "critic"
    name: str = "critic"
    model: str = Field(min_length=1)
    base_url: str | None = None
    base_url_env: str | None = Field(default=None, pattern=ENV_NAME)
    # None: the server needs no key (local vLLM, Ollama)
    api_key_env: str | None = Field(default="OPENAI_API_KEY", pattern=ENV_NAME)
    # sampling: these change the output, so they are part of the version
    temperature: float = Field(default=0.0, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    samples: int = Field(default=1, ge=1, le=64)  # rubric ratings: mean of n samples (G-Eval)
    sample_mode: Literal["n", "repeat"] = "n"  # one request with n=..., or n requests
    max_tokens: int = Field(default=1024, ge=1)
    structured_output: Literal["auto", "json_schema", "off"] = "auto"
    # pairwise items: ask again with the responses swapped, keep both verdicts and their combination
    swap_orders: bool = True
    prompt_dir: str | None = None  # a directory with the template files; default: built-in
    # transport: these do not change the output
    timeout: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=20)
    backoff_initial: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)
    retry_after_max: float = Field(default=120.0, ge=0)
    concurrency: int = Field(default=16, ge=1, le=1024)
    http_client: Literal["auto", "aiohttp", "httpx"] = "auto"  # auto: aiohttp when installed
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    burst_seconds: float = Field(default=1.0, gt=0)  # how much of the limit may go at once
    rate_limit_key: str | None = None  # default: the base URL
    redis_url: str | None = None
    redis_url_env: str | None = Field(default=None, pattern=ENV_NAME)
    cache: bool = True
    cache_prefix: str = "concordance:critic:cache:"  # Redis key prefix of the cache entries
    price: Price | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _one_base_url(self) -> CriticConfig:
        if self.base_url is not None and self.base_url_env is not None:
            raise ValueError("give base_url or base_url_env, not both")
        return self

    def readiness(self, env: Mapping[str, str] | None = None) -> list[ConfigProblem]:
        """What the config names outside itself that is missing: environment variables,
        a shared Redis for rpm/tpm, prompt files."""
        env = os.environ if env is None else env
        problems = []
        for key in ("api_key_env", "base_url_env", "redis_url_env"):
            name = getattr(self, key)
            if name is not None and not env.get(name):
                problems.append(ConfigProblem(f"environment variable {name} is not set", (key,), ENV_UNSET))
        if (self.rpm or self.tpm) and not (self.redis_url or self.redis_url_env):
            key = "rpm" if self.rpm else "tpm"
            problems.append(
                ConfigProblem(
                    "a shared rate limit needs Redis: set redis_url or redis_url_env", (key,), NEEDS_REDIS
                )
            )
        if self.prompt_dir is not None:
            names = [f"{t}.{part}.txt" for t in TEMPLATES for part in ("system", "user")]
            missing = [n for n in names if not (Path(self.prompt_dir) / n).is_file()]
            if missing:
                problems.append(
                    ConfigProblem(
                        f"{self.prompt_dir} lacks {', '.join(missing)}", ("prompt_dir",), FILES_MISSING
                    )
                )
        return problems

    def resolved_base_url(self, env: Mapping[str, str] | None = None) -> str:
        env = os.environ if env is None else env
        if self.base_url_env:
            value = env.get(self.base_url_env)
            if not value:
                raise ValueError(f"environment variable {self.base_url_env} (base_url_env) is not set")
            return value.rstrip("/")
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")

    def resolved_api_key(self, env: Mapping[str, str] | None = None) -> str:
        env = os.environ if env is None else env
        if self.api_key_env is None:
            return "not-needed"
        value = env.get(self.api_key_env)
        if not value:
            raise ValueError(f"environment variable {self.api_key_env} (api_key_env) is not set")
        return value

    def resolved_redis_url(self, env: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if env is None else env
        if self.redis_url_env:
            return env.get(self.redis_url_env) or None
        return self.redis_url

    def output_params(self) -> dict[str, Any]:
        """The parameters that change what the model says (part of the judge's version)."""
        return {
            "model": self.model,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "samples": self.samples,
            "max_tokens": self.max_tokens,
            "structured_output": self.structured_output,
            "swap_orders": self.swap_orders,
        }
