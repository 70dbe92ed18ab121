"""Batch mode: the same requests as live judging, sent through the Batch API
(`/v1/files` + `/v1/batches`) at the provider's lower batch price.

`submit` uploads a JSONL file with one request per line (its `custom_id` is
the task's `item_id`, or `item_id#k` for the k-th repeated sample) and creates
the batch, once per idempotency key (called again, it finds that batch);
`collect` returns None while the batch runs, then one verdict per task,
mapping `custom_id`s back. A task without a result line (failed line,
expired or cancelled batch) gets a failed verdict with the reason. An item whose
schema is too large for strict structured output gets no line in
`structured_output: json_schema` mode, and a failed verdict that says so.

These are a handful of control calls per run, so they use the openai client's
own bounded retries (`max_retries`) rather than the live path's rate limiter.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any, Literal

import openai

from judges.base import Task
from judges.critic.judge import CriticJudge
from judges.critic.retry import RetryPolicy
from judges.types import PairwiseTask, SummaryTask, Verdict

CHAT_URL: Literal["/v1/chat/completions"] = "/v1/chat/completions"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
KEY_FIELD = "concordance_key"  # the batch metadata that carries a submission's idempotency key


def _filename(key: str) -> str:
    return f"concordance-{key}.jsonl"


class BatchRunner:
    def __init__(self, judge: CriticJudge, client: openai.OpenAI | None = None):
        self.judge = judge
        cfg = judge.config
        self.client = client or openai.OpenAI(
            base_url=cfg.resolved_base_url(),
            api_key=cfg.resolved_api_key(),
            max_retries=cfg.max_attempts - 1,
            timeout=cfg.timeout,
        )

    def _parts(self, task: Task) -> list[tuple[str, int, str]]:
        """(custom_id, n, order) for each request a task needs (a pair: one per order)."""
        if isinstance(task, PairwiseTask):
            orders = self.judge.orders_for(task)
            if len(orders) == 1:
                return [(task.item_id, 1, orders[0])]
            return [(f"{task.item_id}#{order}", 1, order) for order in orders]
        want = self.judge.samples_for(task)
        if want == 1 or self.judge.config.sample_mode == "n":
            return [(task.item_id, want, "ab")]
        return [(f"{task.item_id}#{k}", 1, "ab") for k in range(want)]

    def build_jsonl(self, tasks: Sequence[Task]) -> bytes:
        """The batch input file: one chat completion request a line."""
        ids = [t.item_id for t in tasks]
        if len(set(ids)) != len(ids):
            raise ValueError("item_id must be unique within a batch (it is the custom_id)")
        lines = []
        for task in tasks:
            if self.judge.schema_refusal(task) is not None:
                continue
            for custom_id, n, order in self._parts(task):
                base, fmt = self.judge.request_for(task, n, order)
                if self.judge.sends_schema(task):
                    base["response_format"] = fmt
                lines.append({"custom_id": custom_id, "method": "POST", "url": CHAT_URL, "body": base})
        return "".join(json.dumps(line) + "\n" for line in lines).encode()

    def submit(
        self,
        tasks: Sequence[Task],
        metadata: dict[str, str] | None = None,
        *,
        key: str | None = None,
        since: float | None = None,
    ) -> str:
        """Upload the requests and create the batch, once per `key`; returns the batch id.

        `key` is an idempotency key (a new one when None): the caller stores it before it
        calls, and calling again with the same key creates no second batch. It goes into the batch's
        metadata (`concordance_key`) and the input file's name: a batch that carries it is
        returned instead of creating another, and a file already uploaded under it is used
        again. The create call has no blind client retries (the API takes no idempotency
        header): after a timeout, a connection error, a 429 or a 5xx the batch is looked
        up before it is created again, with the critic's backoff. `since` (a Unix time
        before the first call) bounds how far back the lookups list.
        """
        fresh = key is None  # nothing can carry a new key yet: no lookup
        key = key or uuid.uuid4().hex
        since = time.time() - 60 if since is None else since
        if not fresh and (found := self.find_batch(key, since=since)) is not None:
            return found
        file_id = None if fresh else self._find_file(key, since=since)
        if file_id is None:
            data = self.build_jsonl(tasks)
            file_id = self.client.files.create(file=(_filename(key), data), purpose="batch").id
        client = self.client.with_options(max_retries=0)
        cfg = self.judge.config
        policy = RetryPolicy(cfg.max_attempts, cfg.backoff_initial, cfg.backoff_max, cfg.retry_after_max)
        for attempt in range(1, policy.max_attempts + 1):
            try:
                return client.batches.create(
                    input_file_id=file_id,
                    endpoint=CHAT_URL,
                    completion_window="24h",
                    metadata={**(metadata or {}), KEY_FIELD: key},
                ).id
            except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError):
                # the batch may exist although the answer was lost (APITimeoutError is a
                # connection error): look before creating it again
                if (found := self.find_batch(key, since=since)) is not None:
                    return found
                if attempt == policy.max_attempts:
                    raise
                time.sleep(policy.backoff(attempt))
        raise AssertionError("unreachable")

    def find_batch(self, key: str, *, since: float) -> str | None:
        """The id of the batch whose metadata carries `key`, among those created after `since`."""
        for batch in self.client.batches.list(limit=100):  # newest first, page by page
            if (batch.metadata or {}).get(KEY_FIELD) == key:
                return batch.id
            if batch.created_at < since:
                return None
        return None

    def _find_file(self, key: str, *, since: float) -> str | None:
        name = _filename(key)
        for file in self.client.files.list(purpose="batch", order="desc", limit=100):
            if file.filename == name and file.status != "error":
                return file.id
            if file.created_at < since:
                return None
        return None

    def status(self, batch_id: str) -> Any:
        return self.client.batches.retrieve(batch_id)

    def cancel(self, batch_id: str) -> None:
        self.client.batches.cancel(batch_id)

    def _lines(self, file_id: str | None) -> list[dict[str, Any]]:
        if not file_id:
            return []
        text = self.client.files.content(file_id).text
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def collect(self, batch_id: str, tasks: Sequence[Task], batch: Any = None) -> list[Verdict] | None:
        """One verdict per task (in order) once the batch has ended; None while it runs.
        `batch` is the batch object if the caller has just retrieved it."""
        batch = batch if batch is not None else self.status(batch_id)
        if batch.status not in TERMINAL:
            return None
        by_id: dict[str, dict[str, Any]] = {}
        for line in self._lines(batch.output_file_id) + self._lines(batch.error_file_id):
            by_id[line["custom_id"]] = line
        return [self._verdict(task, by_id, batch.status) for task in tasks]

    def _verdict(self, task: Task, by_id: dict[str, dict[str, Any]], status: str) -> Verdict:
        contents: list[str | None] = []
        finishes: list[str] = []
        tokens_in = tokens_out = 0
        version = self.judge.template_for(task).version
        if (refusal := self.judge.schema_refusal(task)) is not None:
            return Verdict(ok=False, error=refusal, prompt_version=version)
        for custom_id, _n, _order in self._parts(task):
            line = by_id.get(custom_id)
            if line is None:
                return Verdict(
                    ok=False,
                    error=f"no result for {custom_id} (batch {status})",
                    prompt_version=version,
                )
            response = line.get("response") or {}
            body = response.get("body") or {}
            if response.get("status_code") != 200:
                err = body.get("error") if isinstance(body, dict) else None
                message = (err or {}).get("message") or line.get("error") or "unknown error"
                return Verdict(
                    ok=False,
                    raw=line,
                    error=f"batch request failed: HTTP {response.get('status_code')}: {message}",
                    prompt_version=version,
                )
            for choice in sorted(body.get("choices", []), key=lambda c: c.get("index", 0)):
                contents.append((choice.get("message") or {}).get("content"))
                finishes.append(str(choice.get("finish_reason")))
            usage = body.get("usage") or {}
            tokens_in += int(usage.get("prompt_tokens") or 0)
            tokens_out += int(usage.get("completion_tokens") or 0)
        want = self.judge.samples_for(task)
        if isinstance(task, SummaryTask):
            contents, finishes = contents[:want], finishes[:want]
        verdict = self.judge.verdict_from_outputs(task, contents, finishes)
        verdict.tokens_in, verdict.tokens_out = tokens_in, tokens_out
        verdict.raw["batch"] = True
        return verdict
