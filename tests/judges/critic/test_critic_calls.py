"""The critic against a real HTTP server speaking the OpenAI API: exact numbers
of calls and retries, and the final verdict, for each way a call can go."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import pytest

from judges.base import build_judge
from judges.critic.config import CriticConfig
from judges.critic.judge import CriticJudge
from tests.judges.critic.conftest import reasoning_task, summary_task
from tests.support.openai_server import FakeOpenAI, Reply, critique_responder, rubric_responder

CRITIQUE = {"steps": {f"step_{i}": 1 if i != 2 else -1 for i in range(4)}, "first_error": 2}


class RecordingSleep:
    """Records the waits the critic asks for instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make(config: dict[str, Any], **overrides: Any) -> tuple[CriticJudge, RecordingSleep]:
    sleep = RecordingSleep()
    return CriticJudge(CriticConfig.from_mapping({**config, **overrides}), sleep=sleep), sleep


def test_build_judge_makes_a_critic(critic_config):
    judge = build_judge("critic", critic_config)
    assert isinstance(judge, CriticJudge)
    assert judge.version().startswith("critic-")


def test_structured_output_is_requested_and_validated(openai_server: FakeOpenAI, critic_config):
    openai_server.enqueue(Reply.json(CRITIQUE, usage=(120, 30)))
    judge, sleep = make(critic_config)
    [verdict] = judge.judge([reasoning_task()])

    assert openai_server.calls() == 1
    body = openai_server.requests()[0].body
    assert body["model"] == "fake-model"
    assert body["temperature"] == 0.0 and body["max_tokens"] == 1024
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["required"] == ["steps", "first_error"]
    assert verdict.ok and verdict.error is None
    assert verdict.step_labels == [1, 1, -1, 1] and verdict.first_error == 2
    assert (verdict.tokens_in, verdict.tokens_out) == (120, 30)
    assert verdict.prompt_version == judge.prompts["step_critique"].version
    assert sleep.waits == []


@pytest.mark.parametrize(
    ("reply", "wait"),
    [
        (Reply.rate_limited(retry_after="3"), 3.0),
        (Reply.rate_limited(retry_after_ms="250"), 0.25),
        (Reply.rate_limited(retry_after="2", retry_after_ms="1500"), 1.5),
    ],
)
def test_429_waits_as_the_server_asks(openai_server, critic_config, reply, wait):
    openai_server.enqueue(reply, Reply.json(CRITIQUE))
    judge, sleep = make(critic_config)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 2
    assert sleep.waits == [wait]
    assert judge.stats["retries"] == 1
    assert verdict.ok


def test_429_with_an_http_date(openai_server, critic_config):
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    openai_server.enqueue(Reply(status=429, headers={"retry-after": when}), Reply.json(CRITIQUE))
    judge, sleep = make(critic_config)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 2 and verdict.ok
    assert len(sleep.waits) == 1 and 25 <= sleep.waits[0] <= 30


def test_retry_after_beyond_the_bound_fails_without_waiting(openai_server, critic_config):
    openai_server.enqueue(Reply.rate_limited(retry_after="3600"))
    judge, sleep = make(critic_config, retry_after_max=60)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 1
    assert sleep.waits == []
    assert not verdict.ok and "retry after 3600 s" in verdict.error


def test_5xx_is_retried_with_growing_jittered_backoff(openai_server, critic_config):
    openai_server.enqueue(Reply.error(500), Reply.error(503), Reply.error(502), Reply.json(CRITIQUE))
    judge, sleep = make(critic_config, backoff_initial=1.0, backoff_max=100)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 4
    assert verdict.ok
    assert len(sleep.waits) == 3
    for k, wait in enumerate(sleep.waits):  # equal jitter: between half and all of 2**k
        assert 2**k / 2 <= wait <= 2**k


def test_retries_are_bounded(openai_server, critic_config):
    openai_server.enqueue(*[Reply.error(500)] * 10)
    judge, sleep = make(critic_config, max_attempts=3)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 3
    assert len(sleep.waits) == 2
    assert not verdict.ok
    assert verdict.error.startswith("gave up after 3 attempts; last error: HTTP 500")
    assert verdict.step_labels is None and verdict.first_error is None


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (400, "check the model's parameters"),
        (401, "api_key_env"),
        (404, "check model and base_url"),
    ],
)
def test_client_errors_fail_fast_with_a_clear_message(openai_server, critic_config, status, hint):
    openai_server.enqueue(Reply.error(status, "nope"), Reply.json(CRITIQUE))
    judge, sleep = make(critic_config, structured_output="json_schema")
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 1
    assert sleep.waits == []
    assert not verdict.ok
    assert verdict.error.startswith(f"HTTP {status} from {openai_server.base_url}: nope")
    assert hint in verdict.error


def test_a_timeout_is_retried(openai_server, critic_config):
    openai_server.enqueue(Reply.slow(3.0, json.dumps(CRITIQUE)), Reply.json(CRITIQUE))
    judge, sleep = make(critic_config, timeout=0.3)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 2
    assert len(sleep.waits) == 1
    assert verdict.ok and verdict.first_error == 2


def test_timeouts_until_the_bound_fail(openai_server, critic_config):
    openai_server.enqueue(*[Reply.slow(3.0)] * 2)
    judge, _ = make(critic_config, timeout=0.2, max_attempts=2)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 2
    assert not verdict.ok and verdict.error == "gave up after 2 attempts; last error: timed out after 0.2 s"


def test_a_malformed_response_body_is_retried(openai_server, critic_config):
    openai_server.enqueue(Reply.malformed(), Reply.json(CRITIQUE))
    judge, sleep = make(critic_config)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 2 and len(sleep.waits) == 1
    assert verdict.ok


def test_unparseable_model_output_is_a_failed_verdict_with_the_raw_text(openai_server, critic_config):
    openai_server.enqueue(Reply.ok("The first error is in step two."))
    judge, sleep = make(critic_config)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 1 and sleep.waits == []
    assert not verdict.ok
    assert verdict.error == "no JSON object in the output"
    assert verdict.raw["outputs"] == ["The first error is in step two."]
    assert verdict.step_labels is None and verdict.first_error is None


def test_truncated_output_is_a_failed_verdict_that_says_so(openai_server, critic_config):
    cut = json.dumps(CRITIQUE)[:40]
    openai_server.enqueue(Reply.truncated(cut))
    judge, _ = make(critic_config)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 1
    assert not verdict.ok
    assert verdict.error.startswith("output truncated (finish_reason=length")
    assert verdict.raw["outputs"] == [cut] and verdict.raw["finish_reasons"] == ["length"]


def test_a_step_that_does_not_exist_is_a_failed_verdict(openai_server, critic_config):
    bad = {"steps": {**CRITIQUE["steps"], "step_9": -1}, "first_error": 9}
    openai_server.enqueue(Reply.json(bad))
    judge, _ = make(critic_config)
    [verdict] = judge.judge([reasoning_task()])
    assert not verdict.ok
    assert verdict.error == (
        "output does not match the item's step_critique schema: "
        "steps: 'step_9' is not allowed (expected 'step_0', 'step_1', 'step_2', 'step_3'); "
        "first_error: 9 is not one of [-1, 0, 1, 2, 3]"
    )
    assert verdict.step_labels is None


def test_fallback_without_structured_output_parses_fenced_json(openai_server, critic_config):
    fenced = f"Sure.\n```json\n{json.dumps(CRITIQUE)}\n```"
    openai_server.enqueue(
        Reply.error(400, "response_format json_schema is not supported"),
        Reply.ok(fenced),
        Reply.ok(fenced),
    )
    judge, sleep = make(critic_config, concurrency=1)
    first, second = judge.judge([reasoning_task("a"), reasoning_task("b")])
    requests = openai_server.requests()
    # one rejected structured request, then both tasks without response_format
    assert len(requests) == 3
    assert "response_format" in requests[0].body
    assert "response_format" not in requests[1].body and "response_format" not in requests[2].body
    assert judge.stats["structured_fallbacks"] == 1
    assert sleep.waits == []
    assert first.ok and second.ok and first.first_error == 2
    assert first.raw["structured"] is False


def test_a_400_on_the_fallback_too_fails_fast(openai_server, critic_config):
    openai_server.enqueue(Reply.error(400, "bad schema"), Reply.error(400, "bad model"))
    judge, _ = make(critic_config)
    [verdict] = judge.judge([reasoning_task()])
    assert openai_server.calls() == 2
    assert not verdict.ok and verdict.error.startswith(f"HTTP 400 from {openai_server.base_url}: bad model")


def test_structured_output_off_sends_no_response_format(openai_server, critic_config):
    openai_server.responder = critique_responder
    judge, _ = make(critic_config, structured_output="off")
    [verdict] = judge.judge([reasoning_task()])
    assert "response_format" not in openai_server.requests()[0].body
    assert verdict.ok and verdict.step_labels == [1, 1, 1, 1]


def test_the_persona_and_rubric_are_in_the_prompt(openai_server, critic_config):
    openai_server.responder = rubric_responder(4)
    judge, _ = make(critic_config)
    [verdict] = judge.judge([summary_task()])
    prompt = openai_server.requests()[0].prompt
    assert "[Persona: Night-shift nurse]" in prompt
    assert "reads summaries of patient notes at the start of a shift" in prompt
    assert "You care most about medication changes." in prompt
    assert "- name: Fluency" in prompt and "anchors: 1 = unreadable; 5 = effortless" in prompt
    assert "dose raised to 10 mg" in prompt and "Drug X raised to 10 mg." in prompt
    assert verdict.ok and verdict.ratings == {"Relevance": 4.0, "Fluency": 4.0}
    assert verdict.rationales == {"Relevance": "fine", "Fluency": "fine"}
    assert verdict.prompt_version == judge.prompts["rubric_rating"].version


def _rubric(relevance: int, fluency: int) -> str:
    return json.dumps(
        {"Relevance": {"rationale": "r", "score": relevance}, "Fluency": {"rationale": "f", "score": fluency}}
    )


def test_samples_are_averaged_from_one_request_with_n(openai_server, critic_config):
    openai_server.enqueue(Reply.ok([_rubric(3, 5), _rubric(4, 5), _rubric(5, 4)]))
    judge, _ = make(critic_config, samples=3, temperature=1.0)
    [verdict] = judge.judge([summary_task()])
    assert openai_server.calls() == 1
    assert openai_server.requests()[0].body["n"] == 3
    assert verdict.ok and verdict.ratings == {"Relevance": 4.0, "Fluency": pytest.approx(14 / 3)}
    assert verdict.raw["samples_used"] == 3


def test_samples_by_repeated_calls(openai_server, critic_config):
    openai_server.enqueue(Reply.ok(_rubric(1, 2)), Reply.ok(_rubric(2, 2)), Reply.ok(_rubric(3, 5)))
    judge, _ = make(critic_config, samples=3, sample_mode="repeat", temperature=1.0)
    [verdict] = judge.judge([summary_task()])
    assert openai_server.calls() == 3
    assert all("n" not in r.body for r in openai_server.requests())
    assert verdict.ratings == {"Relevance": 2.0, "Fluency": 3.0}


def test_a_server_that_ignores_n_is_asked_for_the_rest(openai_server, critic_config):
    openai_server.enqueue(Reply.ok(_rubric(2, 2)), Reply.ok(_rubric(4, 4)), Reply.ok(_rubric(3, 3)))
    judge, _ = make(critic_config, samples=3, temperature=1.0)
    [verdict] = judge.judge([summary_task()])
    assert [r.body.get("n") for r in openai_server.requests()] == [3, 2, None]
    assert verdict.ratings == {"Relevance": 3.0, "Fluency": 3.0}


def test_samples_that_fail_are_left_out_of_the_mean_and_counted(openai_server, critic_config):
    openai_server.enqueue(Reply.ok([_rubric(2, 2), "no idea", _rubric(4, 4)]))
    judge, _ = make(critic_config, samples=3, temperature=1.0)
    [verdict] = judge.judge([summary_task()])
    assert verdict.ok and verdict.ratings == {"Relevance": 3.0, "Fluency": 3.0}
    assert verdict.raw["samples_used"] == 2
    assert verdict.raw["sample_errors"] == ["no JSON object in the output"]


def test_a_rating_when_no_sample_parses_fails(openai_server, critic_config):
    openai_server.enqueue(Reply.ok(["no idea", '{"Relevance": {"rationale": "", "score": 3}}']))
    judge, _ = make(critic_config, samples=2, temperature=1.0)
    [verdict] = judge.judge([summary_task()])
    assert not verdict.ok and verdict.ratings is None
    assert verdict.error == (
        "no JSON object in the output; "
        "output does not match the item's rubric_rating schema: <root>: 'Fluency' is missing"
    )


def test_the_cache_answers_finished_work_with_zero_calls(openai_server, critic_config):
    openai_server.responder = critique_responder
    judge, _ = make(critic_config, cache=True)
    tasks = [reasoning_task(f"t{i}") for i in range(3)]
    first = judge.judge(tasks)
    assert openai_server.calls() == 3
    again = judge.judge(tasks)
    assert openai_server.calls() == 3
    assert judge.stats["cache_hits"] == 3
    assert [v.step_labels for v in again] == [v.step_labels for v in first]
    assert all(v.raw["cached"] and v.tokens_in == 0 for v in again)


def test_the_redis_cache_is_shared_between_judges(openai_server, critic_config, redis_url):
    openai_server.responder = critique_responder
    config = {**critic_config, "cache": True, "redis_url": redis_url}
    make(config)[0].judge([reasoning_task()])
    assert openai_server.calls() == 1
    other, _ = make(config)
    [verdict] = other.judge([reasoning_task()])
    assert openai_server.calls() == 1 and verdict.ok and verdict.raw["cached"]
    # a different parameter is a different request
    make(config, temperature=0.5)[0].judge([reasoning_task()])
    assert openai_server.calls() == 2


def test_failed_verdicts_are_not_cached(openai_server, critic_config):
    openai_server.enqueue(Reply.ok("garbage"), Reply.json(CRITIQUE))
    judge, _ = make(critic_config, cache=True)
    assert not judge.judge([reasoning_task()])[0].ok
    assert judge.judge([reasoning_task()])[0].ok
    assert openai_server.calls() == 2


def test_requests_run_concurrently_up_to_the_bound(openai_server, critic_config):
    openai_server.responder = critique_responder
    openai_server.gate = 4  # answers wait until 4 requests are in flight (or 10 s pass)
    openai_server.latency = 0.05
    judge, _ = make(critic_config, concurrency=4)
    verdicts = judge.judge([reasoning_task(f"t{i}") for i in range(12)])
    assert all(v.ok for v in verdicts)
    assert openai_server.calls() == 12
    assert openai_server.max_in_flight == 4


def test_concurrency_beyond_one_client_is_spread_over_several(openai_server, critic_config):
    openai_server.responder = critique_responder
    openai_server.gate = 20  # answers wait until 20 requests are in flight (or 10 s pass)
    judge, _ = make(critic_config, concurrency=20)  # two clients of 16 slots, 20 in flight
    verdicts = judge.judge([reasoning_task(f"t{i}") for i in range(40)])
    assert all(v.ok for v in verdicts) and openai_server.calls() == 40
    assert openai_server.max_in_flight == 20


def test_on_verdict_reports_each_verdict_as_it_is_ready(openai_server, critic_config):
    from judges.critic.judge import run_sync

    openai_server.responder = critique_responder
    judge, _ = make(critic_config, concurrency=2)
    seen: list[tuple[int, bool]] = []

    async def record(i, verdict):
        seen.append((i, verdict.ok))

    tasks = [reasoning_task(f"t{i}") for i in range(5)]
    verdicts = run_sync(judge.ajudge(tasks, on_verdict=record))
    assert sorted(seen) == [(i, True) for i in range(5)]
    assert len(verdicts) == 5


def test_verdicts_come_back_in_task_order(openai_server, critic_config):
    def respond(request):
        # the first task answers last
        slow = "<step_1>" in request.prompt and "<step_2>" not in request.prompt
        return Reply.slow(0.5 if slow else 0.0, critique_responder(request).content)

    openai_server.responder = respond
    tasks = [reasoning_task("a", 1, 1), reasoning_task("b", 3, 2), reasoning_task("c", 0, 1)]
    judge, _ = make(critic_config, concurrency=3)
    verdicts = judge.judge(tasks)
    assert [len(v.step_labels) for v in verdicts] == [2, 5, 1]


def test_missing_api_key_is_a_config_error(critic_config, monkeypatch):
    monkeypatch.delenv("CONCORDANCE_TEST_KEY", raising=False)
    judge, _ = make(critic_config, api_key_env="CONCORDANCE_TEST_KEY")
    with pytest.raises(ValueError, match="CONCORDANCE_TEST_KEY \\(api_key_env\\) is not set"):
        judge.judge([reasoning_task()])


def test_the_api_key_and_base_url_come_from_the_environment(openai_server, critic_config, monkeypatch):
    monkeypatch.setenv("CONCORDANCE_TEST_KEY", "sk-test-123")
    monkeypatch.setenv("CONCORDANCE_TEST_URL", openai_server.base_url)
    config = {k: v for k, v in critic_config.items() if k != "base_url"}
    openai_server.responder = critique_responder
    judge, _ = make(config, api_key_env="CONCORDANCE_TEST_KEY", base_url_env="CONCORDANCE_TEST_URL")
    assert judge.judge([reasoning_task()])[0].ok
    assert openai_server.requests()[0].headers["authorization"] == "Bearer sk-test-123"


def test_unknown_config_keys_are_rejected():
    with pytest.raises(ValueError, match=r"^temprature: unknown key \(did you mean 'temperature'\?\)$"):
        CriticJudge.from_config({"model": "m", "temprature": 0.2})
