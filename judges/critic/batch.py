"""Batch mode: the same requests as live judging, sent through the Batch API
(`/v1/files` + `/v1/batches`) at the provider's lower batch price.

`submit` uploads a JSONL file with one request per line (its `custom_id` is
the task's `item_id`, or `item_id#k` for the k-th repeated sample) and creates
the batch; `collect` returns None while the batch runs, then one verdict per
task, mapping `custom_id`s back. A task without a result line (failed line,
expired or cancelled batch) gets a failed verdict with the reason. An item whose
schema is too large for strict structured output gets no line in
`structured_output: json_schema` mode, and a failed verdict that says so.

These are a handful of control calls per run, so they use the openai client's
own bounded retries (`max_retries`) rather than the live path's rate limiter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import openai

from judges.base import Task
from judges.critic.judge import CriticJudge
from judges.types import SummaryTask, Verdict

CHAT_URL: Literal["/v1/chat/completions"] = "/v1/chat/completions"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


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

    def _parts(self, task: Task) -> list[tuple[str, int]]:
        """(custom_id, n) for each request a task needs."""
        want = self.judge.samples_for(task)
        if want == 1 or self.judge.config.sample_mode == "n":
            return [(task.item_id, want)]
        return [(f"{task.item_id}#{k}", 1) for k in range(want)]

    def build_jsonl(self, tasks: Sequence[Task]) -> bytes:
        """The batch input file: one chat completion request a line."""
        ids = [t.item_id for t in tasks]
        if len(set(ids)) != len(ids):
            raise ValueError("item_id must be unique within a batch (it is the custom_id)")
        lines = []
        for task in tasks:
            if self.judge.schema_refusal(task) is not None:
                continue
            for custom_id, n in self._parts(task):
                base, fmt = self.judge.request_for(task, n)
                if self.judge.sends_schema(task):
                    base["response_format"] = fmt
                lines.append({"custom_id": custom_id, "method": "POST", "url": CHAT_URL, "body": base})
        return "".join(json.dumps(line) + "\n" for line in lines).encode()

    def submit(self, tasks: Sequence[Task], metadata: dict[str, str] | None = None) -> str:
        """Upload the requests and create the batch; returns the batch id."""
        data = self.build_jsonl(tasks)
        uploaded = self.client.files.create(file=("requests.jsonl", data), purpose="batch")
        batch = self.client.batches.create(
            input_file_id=uploaded.id,
            endpoint=CHAT_URL,
            completion_window="24h",
            metadata=metadata,
        )
        return batch.id

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
        for custom_id, _n in self._parts(task):
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
