"""One chat completion, done carefully: cache lookup, the shared rate limit,
bounded retries with backoff and `Retry-After`, and the fallback for servers
without structured output. Every HTTP attempt is counted in `stats`.

Throughput: requests go through the openai client's generic `post` with a
plain dict body and `cast_to=dict`, which skips the typed-params transform
and the response model construction (about half of the client's CPU per call
at high concurrency, measured with cProfile); errors, auth, timeouts and
headers are still the client's. Concurrency is spread over several clients of
`SLOTS_PER_CLIENT` requests each, because the HTTP connection pool scans all
its connections on every request and becomes the bottleneck past a few dozen.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from judges.critic.cache import ResponseCache, request_key
from judges.critic.ratelimit import RedisRateLimiter
from judges.critic.retry import RetryPolicy, is_transient_status, parse_retry_after

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class CallError(Exception):
    """The call failed for good (fatal status, or retries used up); the message says why."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0):
        super().__init__(message)
        self.status = status
        self.attempts = attempts


@dataclass
class ChatResult:
    contents: list[str | None]
    finish_reasons: list[str]
    tokens_in: int = 0
    tokens_out: int = 0
    cached: bool = False
    structured: bool = False  # the answer was constrained by response_format
    cache_key: str = ""
    attempts: int = 0

    def to_cache(self) -> dict[str, Any]:
        return {
            "contents": self.contents,
            "finish_reasons": self.finish_reasons,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "structured": self.structured,
        }


SLOTS_PER_CLIENT = 16


@dataclass
class ChatCaller:
    clients: Sequence[openai.AsyncOpenAI]
    endpoint: str
    policy: RetryPolicy
    timeout: float
    structured_output: str = "auto"  # "auto" | "json_schema" | "off"
    limiter: RedisRateLimiter | None = None
    cache: ResponseCache | None = None
    sleep: Sleep = asyncio.sleep
    rand: Callable[[], float] = random.random
    stats: Counter[str] = field(default_factory=Counter)
    waits: list[float] = field(default_factory=list)  # every backoff chosen, in order
    grants: list[float] = field(default_factory=list)  # rate limiter grants (Redis clock, s)
    structured_unsupported: bool = False  # learnt: the server rejected response_format
    slots_per_client: int = SLOTS_PER_CLIENT
    _slots: asyncio.Queue[openai.AsyncOpenAI] | None = None
    _prefetched: dict[str, dict[str, Any]] = field(default_factory=dict)
    _looked_up: set[str] = field(default_factory=set)  # prefetched keys, found or not

    def _slot_queue(self) -> asyncio.Queue[openai.AsyncOpenAI]:
        if self._slots is None:
            self._slots = asyncio.Queue()
            for _ in range(self.slots_per_client):
                for client in self.clients:
                    self._slots.put_nowait(client)
        return self._slots

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        slots = self._slot_queue()
        client = await slots.get()
        try:
            return await client.post(
                "/chat/completions", body=body, cast_to=dict, options={"timeout": self.timeout}
            )
        finally:
            slots.put_nowait(client)

    def body(
        self, base: dict[str, Any], response_format: dict[str, Any] | None, send_format: bool = True
    ) -> dict[str, Any]:
        """The request body: `base` plus the response format when structured output is on."""
        if response_format is not None and send_format and self.structured_output != "off":
            return {**base, "response_format": response_format}
        return dict(base)

    def key(self, base: dict[str, Any], response_format: dict[str, Any] | None, part: int = 0) -> str:
        """The cache key: the request with the response format the answer is checked
        against, sent or not, so an answer is only reused for the same schema."""
        keyed = base if response_format is None else {**base, "response_format": response_format}
        return request_key(self.endpoint, keyed, part)

    async def prefetch(self, keys: list[str]) -> None:
        """Look many keys up in the cache at once (one round trip per 500, not one per task)."""
        if self.cache is not None and keys:
            self._prefetched.update(await self.cache.get_many(keys))
            self._looked_up.update(keys)

    async def complete(
        self,
        base: dict[str, Any],
        response_format: dict[str, Any] | None,
        *,
        part: int = 0,
        key: str | None = None,
        send_format: bool = True,
    ) -> ChatResult:
        """Ask for `base` (model, messages, sampling parameters), answering from the cache if
        this exact request (keyed by endpoint, body and response format) has finished before.
        `send_format=False` keeps the response format out of the request (the answer is still
        checked against it)."""
        body = self.body(base, response_format, send_format)
        if key is None:
            key = self.key(base, response_format, part) if self.cache is not None else ""
        hit = self._prefetched.pop(key, None)
        if hit is None and self.cache is not None and key not in self._looked_up:
            hit = await self.cache.get(key)
        self._looked_up.discard(key)
        if hit is not None:
            self.stats["cache_hits"] += 1
            return ChatResult(**{**hit, "tokens_in": 0, "tokens_out": 0}, cached=True, cache_key=key)
        if "response_format" in body and self.structured_unsupported:
            body.pop("response_format")
        result = await self._send(body)
        result.cache_key = key
        return result

    async def remember(self, result: ChatResult) -> None:
        """Keep a finished result so the same request is never sent again."""
        if self.cache is not None and not result.cached and result.cache_key:
            await self.cache.set(result.cache_key, result.to_cache())

    def _estimate_tokens(self, body: dict[str, Any]) -> int:
        chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        return chars // 4 + int(body.get("max_tokens") or 0) * int(body.get("n") or 1)

    async def _send(self, body: dict[str, Any]) -> ChatResult:
        attempts = 0  # HTTP requests sent for this result
        failures = 0  # transient failures; the policy bounds them
        fell_back = False
        last_error = ""
        while True:
            if self.limiter is not None:
                grant = await self.limiter.acquire_async(self._estimate_tokens(body))
                self.grants.append(grant.now)
            attempts += 1
            self.stats["calls"] += 1
            try:
                completion = await self._post(body)
                result = _result(completion, "response_format" in body, attempts)
            except openai.APIStatusError as exc:
                status = exc.status_code
                message = _error_message(exc)
                if status == 400 and "response_format" in body and self.structured_output == "auto":
                    # the server may not know structured output: ask once more without it
                    log.info("%s rejected response_format (%s); retrying without", self.endpoint, message)
                    self.stats["structured_fallbacks"] += 1
                    body = {k: v for k, v in body.items() if k != "response_format"}
                    fell_back = True
                    continue
                if not is_transient_status(status):
                    raise CallError(
                        _fatal_message(status, message, self.endpoint),
                        status=status,
                        attempts=attempts,
                    ) from exc
                last_error = f"HTTP {status}: {message}"
                retry_after = parse_retry_after(exc.response.headers)
            except openai.APITimeoutError:
                last_error = f"timed out after {self.timeout:g} s"
                retry_after = None
            except openai.APIConnectionError as exc:
                last_error = f"connection error: {exc.__cause__ or exc}"
                retry_after = None
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # a 200 whose body is not JSON, or not a chat completion
                last_error = f"malformed response body: {type(exc).__name__}: {exc}"
                retry_after = None
            else:
                if fell_back:
                    self.structured_unsupported = True
                return result

            failures += 1
            if failures >= self.policy.max_attempts:
                raise CallError(
                    f"gave up after {attempts} attempts; last error: {last_error}",
                    attempts=attempts,
                )
            if retry_after is not None and retry_after > self.policy.retry_after_max:
                raise CallError(
                    f"server asks to retry after {retry_after:g} s (more than retry_after_max="
                    f"{self.policy.retry_after_max:g}); last error: {last_error}",
                    attempts=attempts,
                )
            delay = retry_after if retry_after is not None else self.policy.backoff(failures, self.rand)
            self.stats["retries"] += 1
            self.waits.append(delay)
            await self.sleep(delay)


def _result(completion: Any, structured: bool, attempts: int) -> ChatResult:
    """The parts of a chat completion JSON the critic uses; KeyError/TypeError if it is not one."""
    choices = sorted(completion["choices"], key=lambda c: c.get("index", 0))
    contents = [c["message"].get("content") for c in choices]
    if not all(c is None or isinstance(c, str) for c in contents):
        raise TypeError("choices[].message.content is not a string")
    usage = completion.get("usage") or {}
    return ChatResult(
        contents=contents,
        finish_reasons=[str(c.get("finish_reason")) for c in choices],
        tokens_in=int(usage.get("prompt_tokens") or 0),
        tokens_out=int(usage.get("completion_tokens") or 0),
        structured=structured,
        attempts=attempts,
    )


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return exc.message


_FATAL_HINTS = {
    400: "the request was rejected; check the model's parameters",
    401: "the API key was refused; check the variable named by api_key_env",
    403: "the API key may not use this model",
    404: "no such model or endpoint; check model and base_url",
}


def _fatal_message(status: int, message: str, endpoint: str) -> str:
    hint = _FATAL_HINTS.get(status, "not retried")
    return f"HTTP {status} from {endpoint}: {message} ({hint})"
