"""The LLM critic: step-level critique of reasoning traces, persona-aware rubric
ratings of summaries and preferences between the two responses of a pair (asked
in both orders unless `swap_orders` is off), through any OpenAI-compatible
endpoint."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import json
import logging
import ssl
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx2
import openai

from judges.base import Task
from judges.critic.cache import MemoryResponseCache, RedisResponseCache, ResponseCache
from judges.critic.caller import SLOTS_PER_CLIENT, CallError, ChatCaller, ChatResult, Sleep
from judges.critic.config import CriticConfig
from judges.critic.output import (
    OutputError,
    pairwise_result,
    parse_answer,
    rubric_result,
    step_critique_result,
)
from judges.critic.prompts import (
    PAIRWISE_PREFERENCE,
    RUBRIC_RATING,
    STEP_CRITIQUE,
    TEMPLATES,
    PromptTemplate,
    pairwise_values,
    rubric_values,
    step_critique_values,
)
from judges.critic.ratelimit import RedisRateLimiter
from judges.critic.retry import RetryPolicy
from judges.critic.schema import answer_schema, schema_version
from judges.types import (
    PAIR_ORDERS,
    PREFERENCE_VALUES,
    PairwiseTask,
    ReasoningTask,
    SummaryTask,
    Verdict,
    combine_orders,
    unswap,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
OnVerdict = Callable[[int, Verdict], Awaitable[None] | None]


def run_sync(coro: Awaitable[T]) -> T:
    """Run `coro` to completion, also from code that already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()  # type: ignore[arg-type]


class CriticJudge:
    """Judges `ReasoningTask`s step by step, rates `SummaryTask`s on a rubric and says
    which response of a `PairwiseTask` is better."""

    kind = "critic"
    item_kinds = ("reasoning", "summary", "pairwise")

    def __init__(self, config: CriticConfig, *, sleep: Sleep | None = None):
        self.config = config
        self.prompts = {name: PromptTemplate.load(name, config.prompt_dir) for name in TEMPLATES}
        self.stats: Counter[str] = Counter()  # calls, retries, cache_hits, ... over this judge's life
        self.waits: list[float] = []  # every backoff chosen, in order
        self.grants: list[float] = []  # when the shared rate limiter let each request go
        self._sleep = sleep or asyncio.sleep
        self._memory_cache = MemoryResponseCache()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CriticJudge:
        return cls(CriticConfig.from_mapping(config))

    def version(self) -> str:
        """Hash of the model, the sampling parameters (with `swap_orders`), the prompt
        templates and the way answer schemas are built."""
        payload = {
            **self.config.output_params(),
            "prompts": sorted(p.version for p in self.prompts.values()),
            "schemas": schema_version(),
        }
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return f"critic-{digest[:16]}"

    # --- requests ----------------------------------------------------------
    def template_for(self, task: Task) -> PromptTemplate:
        if isinstance(task, ReasoningTask):
            return self.prompts[STEP_CRITIQUE]
        if isinstance(task, SummaryTask):
            return self.prompts[RUBRIC_RATING]
        if isinstance(task, PairwiseTask):
            return self.prompts[PAIRWISE_PREFERENCE]
        raise TypeError(f"the critic cannot judge {type(task).__name__}")

    def orders_for(self, task: PairwiseTask) -> tuple[str, ...]:
        """The orders a pair is shown in: both (`ab` then `ba`) unless `swap_orders` is off."""
        return PAIR_ORDERS if self.config.swap_orders else PAIR_ORDERS[:1]

    def request_for(self, task: Task, n: int = 1, order: str = "ab") -> tuple[dict[str, Any], dict[str, Any]]:
        """The request body (without response format) and the response format for `task`:
        the item's own strict schema (its steps, its rubric's criteria and scales, or its
        pair's criteria and legal preferences). `order` is the order a pair is shown in."""
        template = self.template_for(task)
        if isinstance(task, ReasoningTask):
            messages = template.messages(**step_critique_values(task))
        elif isinstance(task, PairwiseTask):
            messages = template.messages(**pairwise_values(task, order))
        else:
            messages = template.messages(**rubric_values(task))
        fmt = answer_schema(task).response_format()
        cfg = self.config
        body: dict[str, Any] = {
            "model": cfg.model,
            "messages": messages,
            "temperature": cfg.temperature,
            "max_tokens": cfg.max_tokens,
        }
        if cfg.top_p is not None:
            body["top_p"] = cfg.top_p
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        if n > 1:
            body["n"] = n
        return body, fmt

    def sends_schema(self, task: Task) -> bool:
        """Whether the request for `task` carries its schema: not with structured output
        off, nor when the schema breaks the strict limits (in `auto` mode; `json_schema`
        refuses the item, see `schema_refusal`)."""
        return self.config.structured_output != "off" and not answer_schema(task).strict_problems

    def schema_refusal(self, task: Task) -> str | None:
        """Why `task` cannot be judged with `structured_output: json_schema`, or None."""
        problems = answer_schema(task).strict_problems
        if self.config.structured_output != "json_schema" or not problems:
            return None
        return (
            f"the item's answer schema breaks the limits of strict structured output "
            f"({'; '.join(problems)}); set structured_output to auto or off to judge it without"
        )

    def _first_n(self, task: Task) -> int:
        return self.samples_for(task) if self.config.sample_mode == "n" else 1

    def samples_for(self, task: Task) -> int:
        """Rubric ratings average `samples` answers; a step critique takes one."""
        return self.config.samples if isinstance(task, SummaryTask) else 1

    # --- verdicts from text --------------------------------------------------
    def verdict_from_outputs(
        self, task: Task, contents: Sequence[str | None], finish_reasons: Sequence[str]
    ) -> Verdict:
        """Check the model's outputs for `task`; a failed verdict (raw text and reason) when
        they cannot be used. Used for live calls and for batch results alike."""
        version = self.template_for(task).version
        raw: dict[str, Any] = {"outputs": list(contents), "finish_reasons": list(finish_reasons)}
        if not contents:
            return Verdict(ok=False, raw=raw, error="the server returned no choices", prompt_version=version)
        schema = answer_schema(task)
        if isinstance(task, PairwiseTask):
            return self._pair_verdict(task, contents, finish_reasons, raw, version)
        if isinstance(task, ReasoningTask):
            try:
                labels, first_error = step_critique_result(task, parse_answer(contents[0], schema))
            except OutputError as exc:
                return Verdict(
                    ok=False, raw=raw, error=_reason(exc, finish_reasons[0]), prompt_version=version
                )
            return Verdict(
                ok=True,
                step_labels=labels,
                first_error=first_error,
                raw=raw,
                prompt_version=version,
            )
        assert isinstance(task, SummaryTask)
        samples: list[dict[str, float]] = []
        rationales: dict[str, str] = {}
        errors: list[str] = []
        for text, finish in zip(contents, finish_reasons, strict=True):
            try:
                ratings, why = rubric_result(task, parse_answer(text, schema))
            except OutputError as exc:
                errors.append(_reason(exc, finish))
                continue
            samples.append(ratings)
            rationales = rationales or why
        raw["sample_errors"] = errors
        raw["samples_used"] = len(samples)
        if not samples:
            return Verdict(ok=False, raw=raw, error="; ".join(dict.fromkeys(errors)), prompt_version=version)
        # G-Eval: the score is the mean over the samples that gave one
        means: dict[str, float] = {}
        for crit in task.criteria:
            values = [s[crit.name] for s in samples if crit.name in s]
            if values:
                means[crit.name] = sum(values) / len(values)
        raw["sample_ratings"] = samples
        return Verdict(ok=True, ratings=means, rationales=rationales, raw=raw, prompt_version=version)

    def _pair_verdict(
        self,
        task: PairwiseTask,
        contents: Sequence[str | None],
        finish_reasons: Sequence[str],
        raw: dict[str, Any],
        version: str,
    ) -> Verdict:
        """One output per order (`orders_for`). Each answer is mapped back to the underlying
        responses and kept in `raw["orders"]` ({criterion: {"ab": "A", "ba": "B"}}, the form
        of an imported judge's); the preference is their combination (`combine_orders`: the
        same rule as LLMBar's imported judges, a tie when the orders disagree, which
        `raw["consistent"]` records). One order that fails fails the pair: no half verdict."""
        orders = self.orders_for(task)
        if len(contents) != len(orders):
            return Verdict(
                ok=False,
                raw=raw,
                error=f"{len(contents)} outputs for {len(orders)} orders",
                prompt_version=version,
            )
        schema = answer_schema(task)
        seen: dict[str, dict[str, str]] = {c.name: {} for c in task.criteria}
        why: dict[str, dict[str, str]] = {c.name: {} for c in task.criteria}
        for order, text, finish in zip(orders, contents, finish_reasons, strict=True):
            try:
                shown, rationales = pairwise_result(task, parse_answer(text, schema))
            except OutputError as exc:
                return Verdict(
                    ok=False, raw=raw, error=f"order {order}: {_reason(exc, finish)}", prompt_version=version
                )
            for name, preference in shown.items():
                seen[name][order] = unswap(preference, order)
                why[name][order] = rationales[name]
        ratings: dict[str, float] = {}
        consistent: dict[str, bool] = {}
        for name, by_order in seen.items():
            if len(orders) == 1:
                preference = by_order[orders[0]]
            else:
                preference, consistent[name] = combine_orders(by_order["ab"], by_order["ba"])
            ratings[name] = PREFERENCE_VALUES[preference]
        raw["orders"] = seen
        if consistent:
            raw["consistent"] = consistent
        rationales_out = {name: "\n".join(f"[{o}] {t}" for o, t in by.items()) for name, by in why.items()}
        return Verdict(ok=True, ratings=ratings, rationales=rationales_out, raw=raw, prompt_version=version)

    # --- running -------------------------------------------------------------
    def judge(self, tasks: Sequence[Task]) -> list[Verdict]:
        return run_sync(self.ajudge(tasks))

    async def ajudge(
        self,
        tasks: Sequence[Task],
        on_verdict: OnVerdict | None = None,
        stop: threading.Event | None = None,
    ) -> list[Verdict]:
        """Judge `tasks` with at most `concurrency` requests in flight; `on_verdict(i, v)` is
        called as each verdict is ready (for progress and saving). Once `stop` is set, tasks
        not yet started get a failed verdict "cancelled" and no `on_verdict` call."""
        for task in tasks:
            self.template_for(task)  # a task the critic cannot judge is a caller's bug: fail early
        async with self.session() as caller:
            # the first request of each task; a repeated sample's key is looked up when asked
            first: list[tuple[dict[str, Any], dict[str, Any]]] = []
            keys: list[str] = []
            if caller.cache is not None:
                # built once: the same body and key serve the lookup and the request
                first = [self.request_for(t, self._first_n(t)) for t in tasks]
                keys = [caller.key(*request) for request in first]
                await caller.prefetch(keys)
            sem = asyncio.Semaphore(self.config.concurrency)

            async def one(i: int, task: Task) -> Verdict:
                async with sem:
                    if stop is not None and stop.is_set():
                        return Verdict(ok=False, error="cancelled", raw={"cancelled": True})
                    try:
                        verdict = await self.judge_one(
                            caller, task, first[i] if first else None, keys[i] if keys else None
                        )
                    except Exception as exc:  # Redis down, a bug: one failed verdict, not a crash
                        log.exception("critic failed on %s", task.item_id)
                        verdict = Verdict(
                            ok=False,
                            error=f"internal error: {type(exc).__name__}: {exc}",
                            prompt_version=self.template_for(task).version,
                        )
                if on_verdict is not None:
                    res = on_verdict(i, verdict)
                    if inspect.isawaitable(res):
                        await res
                return verdict

            return list(await asyncio.gather(*(one(i, t) for i, t in enumerate(tasks))))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ChatCaller]:
        """A caller bound to one event loop: client, rate limiter and cache."""
        cfg = self.config
        base_url = cfg.resolved_base_url()
        redis_url = cfg.resolved_redis_url()
        limiter = None
        if cfg.rpm or cfg.tpm:
            if not redis_url:
                raise ValueError("rpm/tpm need a shared Redis: set redis_url or redis_url_env")
            limiter = RedisRateLimiter(
                redis_url,
                cfg.rate_limit_key or base_url,
                rpm=cfg.rpm,
                tpm=cfg.tpm,
                burst_seconds=cfg.burst_seconds,
            )
        cache: ResponseCache | None = None
        if cfg.cache:
            cache = RedisResponseCache(redis_url, cfg.cache_prefix) if redis_url else self._memory_cache
        api_key = cfg.resolved_api_key()
        clients = [
            openai.AsyncOpenAI(
                base_url=base_url,
                api_key=api_key,
                max_retries=0,
                timeout=cfg.timeout,
                http_client=_http_client(cfg.http_client, cfg.timeout),
            )
            for _ in range(-(-cfg.concurrency // SLOTS_PER_CLIENT))
        ]
        caller = ChatCaller(
            clients=clients,
            endpoint=base_url,
            policy=RetryPolicy(cfg.max_attempts, cfg.backoff_initial, cfg.backoff_max, cfg.retry_after_max),
            timeout=cfg.timeout,
            structured_output=cfg.structured_output,
            limiter=limiter,
            cache=cache,
            sleep=self._sleep,
        )
        try:
            yield caller
        finally:
            self.stats.update(caller.stats)
            self.waits.extend(caller.waits)
            self.grants.extend(caller.grants)
            for client in clients:
                await client.close()
            if limiter is not None:
                await limiter.aclose()
            if cache is not None and cache is not self._memory_cache:
                await cache.aclose()

    async def judge_one(
        self,
        caller: ChatCaller,
        task: Task,
        first: tuple[dict[str, Any], dict[str, Any]] | None = None,
        first_key: str | None = None,
    ) -> Verdict:
        """One verdict; every failure becomes a failed verdict with its reason. `first` and
        `first_key` are the first request's body and cache key when already built."""
        want = self.samples_for(task)
        results: list[ChatResult] = []
        got = 0
        part = 0
        refusal = self.schema_refusal(task)
        if refusal is not None:
            return Verdict(ok=False, error=refusal, prompt_version=self.template_for(task).version)
        send = self.sends_schema(task)
        # a pair: one request per order, the first of which `first` may hold already
        orders = self.orders_for(task) if isinstance(task, PairwiseTask) else ()
        if orders:
            want = len(orders)
        try:
            while got < want:
                n = 1 if orders or self.config.sample_mode == "repeat" else want - got
                if part == 0 and first is not None:
                    body, fmt, key = first[0], first[1], first_key
                else:
                    body, fmt = self.request_for(task, n, orders[part] if orders else "ab")
                    key = None
                result = await caller.complete(body, fmt, part=part, key=key, send_format=send)
                if not result.contents:
                    break
                results.append(result)
                got += len(result.contents)
                part += 1
        except CallError as exc:
            verdict = Verdict(
                ok=False,
                error=str(exc),
                prompt_version=self.template_for(task).version,
                raw={
                    "outputs": [c for r in results for c in r.contents],
                    "attempts": exc.attempts + sum(r.attempts for r in results),
                },
            )
            _add_usage(verdict, results)
            return verdict
        contents = [c for r in results for c in r.contents][:want]
        finishes = [f for r in results for f in r.finish_reasons][:want]
        verdict = self.verdict_from_outputs(task, contents, finishes)
        verdict.raw["cached"] = bool(results) and all(r.cached for r in results)
        verdict.raw["structured"] = bool(results) and all(r.structured for r in results)
        verdict.raw["attempts"] = sum(r.attempts for r in results)
        _add_usage(verdict, results)
        if verdict.ok:
            for r in results:
                await caller.remember(r)
        return verdict


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # loading the CA bundle costs ~50 ms: once per process, not once per client
    return httpx2.create_ssl_context()


def _http_client(kind: str, timeout: float) -> Any:
    """aiohttp as the client's transport when installed (the openai package's `aiohttp`
    extra, which it recommends for concurrency: measured 20-40% less CPU per request
    here), else the default httpx2 one."""
    if kind != "httpx":
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            if kind == "aiohttp":
                raise ValueError("http_client: aiohttp needs the aiohttp package") from None
        else:
            return openai.DefaultAioHttpClient(timeout=timeout, verify=_ssl_context())
    return openai.DefaultAsyncHttpxClient(timeout=timeout, verify=_ssl_context())


def _add_usage(verdict: Verdict, results: Sequence[ChatResult]) -> None:
    verdict.tokens_in = sum(r.tokens_in for r in results)
    verdict.tokens_out = sum(r.tokens_out for r in results)


def _reason(exc: OutputError, finish_reason: str) -> str:
    if finish_reason == "length":
        return f"output truncated (finish_reason=length, raise max_tokens): {exc}"
    return str(exc)
