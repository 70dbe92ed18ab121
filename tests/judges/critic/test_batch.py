"""Batch mode end to end against the fake server's /v1/files and /v1/batches."""

from __future__ import annotations

import json

import pytest

from judges.critic.batch import BatchRunner
from judges.critic.judge import CriticJudge
from tests.judges.critic.conftest import reasoning_task, summary_task
from tests.support.openai_server import FakeOpenAI, Reply, critique_responder


def test_batch_flow_maps_results_back_to_items(openai_server: FakeOpenAI, critic_config):
    openai_server.batch_polls_before_done = 2
    runner = BatchRunner(CriticJudge.from_config(critic_config))
    tasks = [reasoning_task("a", 1, 1), reasoning_task("b", 2, 2), reasoning_task("c", 0, 3)]
    # the answers come in input order; b's request fails, c's output names a missing step
    openai_server.enqueue(
        Reply.json({"steps": {"step_0": 1, "step_1": -1}, "first_error": 1}),
        Reply.error(500, "overloaded"),
        Reply.json({"steps": {"step_0": 1, "step_1": 1, "step_2": 1, "step_5": 1}, "first_error": -1}),
    )
    batch_id = runner.submit(tasks, metadata={"run": "r1"})

    # the uploaded file holds one chat request per task, keyed by item id
    assert len(openai_server.requests("/v1/files")) == 1
    [file_id] = [f for f, obj in openai_server.files.items() if obj["purpose"] == "batch"]
    lines = [json.loads(x) for x in openai_server.file_data[file_id].decode().splitlines()]
    assert [x["custom_id"] for x in lines] == ["a", "b", "c"]
    assert all(x["url"] == "/v1/chat/completions" and x["method"] == "POST" for x in lines)
    # each line carries its own item's schema: the steps it has
    formats = [x["body"]["response_format"] for x in lines]
    assert all(f["type"] == "json_schema" and f["json_schema"]["strict"] for f in formats)
    assert [sorted(f["json_schema"]["schema"]["properties"]["steps"]["required"]) for f in formats] == [
        ["step_0", "step_1"],
        ["step_0", "step_1", "step_2", "step_3"],
        ["step_0", "step_1", "step_2"],
    ]
    assert openai_server.requests("/v1/batches")[0].body["input_file_id"] == file_id

    assert runner.collect(batch_id, tasks) is None  # polled: in progress
    assert runner.collect(batch_id, tasks) is None
    verdicts = runner.collect(batch_id, tasks)
    assert verdicts is not None
    a, b, c = verdicts
    assert a.ok and a.step_labels == [1, -1] and a.first_error == 1 and a.tokens_in > 0
    assert not b.ok and b.error == "batch request failed: HTTP 500: overloaded"
    assert not c.ok and c.error == (
        "output does not match the item's step_critique schema: "
        "steps: 'step_5' is not allowed (expected 'step_0', 'step_1', 'step_2')"
    )
    assert openai_server.calls() == 3  # each batch line answered once


def test_batch_samples_use_n_and_are_averaged(openai_server, critic_config):
    runner = BatchRunner(CriticJudge.from_config({**critic_config, "samples": 2, "temperature": 1}))
    rubric = lambda r, f: json.dumps(  # noqa: E731
        {"Relevance": {"rationale": "", "score": r}, "Fluency": {"rationale": "", "score": f}}
    )
    openai_server.enqueue(Reply.ok([rubric(2, 5), rubric(4, 5)]))
    openai_server.batch_polls_before_done = 0
    batch_id = runner.submit([summary_task("s1")])
    [verdict] = runner.collect(batch_id, [summary_task("s1")])
    assert verdict.ok and verdict.ratings == {"Relevance": 3.0, "Fluency": 5.0}
    assert verdict.raw["batch"] is True


def test_a_cancelled_batch_fails_the_items_without_results(openai_server, critic_config):
    runner = BatchRunner(CriticJudge.from_config(critic_config))
    openai_server.responder = critique_responder
    tasks = [reasoning_task("x")]
    batch_id = runner.submit(tasks)
    runner.cancel(batch_id)
    [verdict] = runner.collect(batch_id, tasks)
    assert not verdict.ok and verdict.error == "no result for x (batch cancelled)"
    assert openai_server.calls() == 0


def test_item_ids_must_be_unique(critic_config):
    runner = BatchRunner(CriticJudge.from_config(critic_config))

    with pytest.raises(ValueError, match="item_id must be unique"):
        runner.build_jsonl([reasoning_task("a"), reasoning_task("a")])


def test_an_item_whose_schema_is_over_the_limits_gets_no_line_in_json_schema_mode(
    openai_server, critic_config
):
    openai_server.responder = critique_responder
    openai_server.batch_polls_before_done = 0
    runner = BatchRunner(CriticJudge.from_config({**critic_config, "structured_output": "json_schema"}))
    tasks = [reasoning_task("long", 0, 1100), reasoning_task("short")]
    batch_id = runner.submit(tasks)
    data = openai_server.file_data[openai_server.batches[batch_id]["input_file_id"]]
    assert [json.loads(x)["custom_id"] for x in data.decode().splitlines()] == ["short"]
    long, short = runner.collect(batch_id, tasks)
    assert short.ok and not long.ok
    assert long.error.startswith("the item's answer schema breaks the limits of strict structured output")


def posts(server: FakeOpenAI, path: str) -> int:
    return len([r for r in server.requests(path) if r.method == "POST"])


def test_a_create_whose_answer_is_lost_is_found_not_sent_again(openai_server, critic_config):
    """The Batch API takes no idempotency header: a create that timed out may have made
    the batch, so it is looked up by its key (in the metadata) before it is sent again."""
    runner = BatchRunner(CriticJudge.from_config({**critic_config, "timeout": 0.5}))
    tasks = [reasoning_task("a")]
    openai_server.hold_batch_create = True  # the batch is made; its answer comes too late
    try:
        batch_id = runner.submit(tasks, key="k1", metadata={"run": "r1"})
    finally:
        openai_server.release()
    assert list(openai_server.batches) == [batch_id]
    assert openai_server.batches[batch_id]["metadata"] == {"run": "r1", "concordance_key": "k1"}
    assert posts(openai_server, "/v1/batches") == 1 and posts(openai_server, "/v1/files") == 1
    # called again with the key (a delivery after its worker died): the same batch, nothing sent
    assert runner.submit(tasks, key="k1") == batch_id
    assert posts(openai_server, "/v1/batches") == 1 and posts(openai_server, "/v1/files") == 1


def test_a_file_uploaded_under_the_key_is_used_again(openai_server, critic_config):
    runner = BatchRunner(CriticJudge.from_config(critic_config))
    tasks = [reasoning_task("a")]
    # a worker died after the upload, before it created the batch
    data = runner.build_jsonl(tasks)
    uploaded = openai_server.add_file(data, filename="concordance-k2.jsonl", purpose="batch")
    batch_id = runner.submit(tasks, key="k2")
    assert openai_server.batches[batch_id]["input_file_id"] == uploaded["id"]
    assert posts(openai_server, "/v1/files") == 0
    # a key nobody used: a new upload and a new batch, older batches paged through
    for _ in range(3):
        runner.submit(tasks)
    other = runner.submit(tasks, key="k3")
    assert other not in (batch_id,) and len(openai_server.batches) == 5
    assert posts(openai_server, "/v1/files") == 4
