"""The critic's configuration: a study spec mapping plus the environment, never code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class Price(BaseModel):
    """US dollars per million tokens; `batch_discount` is the fraction paid in batch mode."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input_per_1m: float = Field(ge=0)
    output_per_1m: float = Field(ge=0)
    batch_discount: float = Field(default=0.5, gt=0, le=1)

    def cost(self, tokens_in: int, tokens_out: int, *, batch: bool = False) -> float:
        full = (tokens_in * self.input_per_1m + tokens_out * self.output_per_1m) / 1e6
        return full * (self.batch_discount if batch else 1.0)


class CriticConfig(BaseModel):
    """Everything that configures a critic. Secrets and URLs may come from the
    environment: `api_key_env`, `base_url_env` and `redis_url_env` name variables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["critic"] = "critic"
    name: str = "critic"
    model: str
    base_url: str | None = None
    base_url_env: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"  # None: the server needs no key (local vLLM, Ollama)
    # sampling: these change the output, so they are part of the version
    temperature: float = Field(default=0.0, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    samples: int = Field(default=1, ge=1, le=64)  # rubric ratings: mean of n samples (G-Eval)
    sample_mode: Literal["n", "repeat"] = "n"  # one request with n=..., or n requests
    max_tokens: int = Field(default=1024, ge=1)
    structured_output: Literal["auto", "json_schema", "off"] = "auto"
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
    redis_url_env: str | None = None
    cache: bool = True
    cache_prefix: str = "concordance:critic:cache:"  # Redis key prefix of the cache entries
    price: Price | None = None

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> CriticConfig:
        try:
            return cls.model_validate(dict(config))
        except ValidationError as exc:
            raise ValueError(f"invalid critic config: {exc}") from exc

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
        }
