from __future__ import annotations

from typing import Any

import pytest

from judges.types import Criterion, Persona, ReasoningTask, Step, SummaryTask
from tests.support.fixtures import *  # noqa: F403
from tests.support.openai_server import FakeOpenAI


def reasoning_task(item_id: str = "t1", n_traj: int = 2, n_resp: int = 2) -> ReasoningTask:
    steps = [Step(i, f"thinking step {i}", "trajectory") for i in range(n_traj)]
    steps += [Step(n_traj + i, f"answer step {i}", "response") for i in range(n_resp)]
    return ReasoningTask(item_id=item_id, problem="What is 12 * 12?", steps=tuple(steps))


NURSE = Persona(
    name="Night-shift nurse",
    description="A nurse who reads summaries of patient notes at the start of a shift.",
    prompt="You care most about medication changes.",
)
CRITERIA = (
    Criterion("Relevance", "Keeps what matters to this reader."),
    Criterion("Fluency", "Reads well.", anchors={1: "unreadable", 5: "effortless"}),
)


def summary_task(item_id: str = "s1", persona: Persona = NURSE) -> SummaryTask:
    return SummaryTask(
        item_id=item_id,
        document="Patient was given 5 mg of drug X; dose raised to 10 mg at 14:00.",
        summary="Drug X raised to 10 mg.",
        persona=persona,
        criteria=CRITERIA,
    )


@pytest.fixture
def critic_config(openai_server: FakeOpenAI) -> dict[str, Any]:
    """A critic pointed at the fake server, with fast retries and no cache."""
    return {
        "kind": "critic",
        "model": "fake-model",
        "base_url": openai_server.base_url,
        "api_key_env": None,
        "timeout": 5,
        "max_attempts": 4,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "cache": False,
    }
