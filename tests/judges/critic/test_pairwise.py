"""The critic on pairs, against the real HTTP test server: both orders asked (the
second with the responses swapped), each answer mapped back to the underlying
responses, the combination (a preference when both orders agree, else a tie with
`consistent` false, the rule of LLMBar's imported judges), the swap option, and
strict schemas that admit only the legal preferences."""

from __future__ import annotations

import json
from typing import Any

import pytest

from judges.critic.judge import CriticJudge
from judges.critic.schema import answer_schema, schema_version, strict_schema_problems
from judges.types import Criterion, PairwiseTask, combine_orders, unswap
from tests.support.openai_server import FakeOpenAI, Reply, schema_responder

OVERALL = Criterion("overall", "Which response follows the instruction better.", -1, 1)
HARMLESS = Criterion("harmless", "Which response is safer.", -1, 1)


def pair(allow_tie: bool = True, criteria: tuple[Criterion, ...] = (OVERALL,)) -> PairwiseTask:
    return PairwiseTask("p1", "Name a prime.", "RESPONSE-ONE: 7", "RESPONSE-TWO: 8", criteria, allow_tie)


def answer(**prefs: str) -> str:
    return json.dumps({k: {"rationale": f"because {v}", "preference": v} for k, v in prefs.items()})


@pytest.mark.parametrize(
    ("ab", "ba", "combined", "agree"),
    [
        ("A", "A", "A", True),
        ("B", "B", "B", True),
        ("tie", "tie", "tie", True),
        ("A", "B", "tie", False),
        ("A", "tie", "tie", False),
        (None, "A", "tie", False),
        (None, None, "tie", False),
    ],
)
def test_combination_of_the_two_orders(ab, ba, combined, agree) -> None:
    assert combine_orders(ab, ba) == (combined, agree)


def test_a_verdict_in_the_swapped_order_is_mapped_back() -> None:
    assert [unswap(p, "ab") for p in ("A", "B", "tie")] == ["A", "B", "tie"]
    assert [unswap(p, "ba") for p in ("A", "B", "tie")] == ["B", "A", "tie"]


def test_the_schema_admits_only_the_legal_preferences() -> None:
    with_tie = answer_schema(pair(True, (OVERALL, HARMLESS)))
    without = answer_schema(pair(False, (OVERALL, HARMLESS)))
    for schema in (with_tie, without):
        assert strict_schema_problems(schema.schema, schema.name) == []
        assert set(schema.schema["required"]) == {"overall", "harmless"}
    assert with_tie.schema["properties"]["overall"]["properties"]["preference"]["enum"] == ["A", "B", "tie"]
    assert without.schema["properties"]["overall"]["properties"]["preference"]["enum"] == ["A", "B"]
    tie = json.loads(answer(overall="tie", harmless="A"))
    assert with_tie.problems(tie) == []
    assert without.problems(tie) == ["overall.preference: 'tie' is not one of ['A', 'B']"]
    assert without.problems(json.loads(answer(overall="A"))) == ["<root>: 'harmless' is missing"]
    assert with_tie.problems(json.loads(answer(overall="A", harmless="C")))


def test_both_orders_are_asked_and_agreement_is_a_preference(
    openai_server: FakeOpenAI, critic_config: dict[str, Any]
) -> None:
    # A first: the model prefers A; B first: it prefers the second slot, which holds A
    openai_server.enqueue(Reply.ok(answer(overall="A")), Reply.ok(answer(overall="B")))
    (verdict,) = CriticJudge.from_config(critic_config).judge([pair()])
    assert verdict.ok, verdict.error
    assert verdict.ratings == {"overall": 1.0}
    assert verdict.raw["orders"] == {"overall": {"ab": "A", "ba": "A"}}
    assert verdict.raw["consistent"] == {"overall": True}
    assert verdict.rationales == {"overall": "[ab] because A\n[ba] because B"}
    first, second = (r.prompt for r in openai_server.requests())
    assert first.index("RESPONSE-ONE") < first.index("RESPONSE-TWO")
    assert second.index("RESPONSE-TWO") < second.index("RESPONSE-ONE")
    for request in openai_server.requests():
        fmt = request.body["response_format"]
        assert fmt["json_schema"]["strict"] is True and fmt["json_schema"]["name"] == "pairwise_preference"


def test_orders_that_disagree_are_a_tie_recorded_as_inconsistent(
    openai_server: FakeOpenAI, critic_config: dict[str, Any]
) -> None:
    # the model picks the first slot whatever it holds: pure position bias
    openai_server.enqueue(
        Reply.ok(answer(overall="A", harmless="tie")), Reply.ok(answer(overall="A", harmless="tie"))
    )
    (verdict,) = CriticJudge.from_config(critic_config).judge([pair(True, (OVERALL, HARMLESS))])
    assert verdict.ok, verdict.error
    assert verdict.ratings == {"overall": 0.0, "harmless": 0.0}
    assert verdict.raw["orders"] == {
        "overall": {"ab": "A", "ba": "B"},
        "harmless": {"ab": "tie", "ba": "tie"},
    }
    assert verdict.raw["consistent"] == {"overall": False, "harmless": True}


def test_the_swap_can_be_turned_off_and_is_part_of_the_version(
    openai_server: FakeOpenAI, critic_config: dict[str, Any]
) -> None:
    openai_server.enqueue(Reply.ok(answer(overall="B")))
    judge = CriticJudge.from_config({**critic_config, "swap_orders": False})
    (verdict,) = judge.judge([pair()])
    assert verdict.ok and verdict.ratings == {"overall": -1.0}
    assert verdict.raw["orders"] == {"overall": {"ab": "B"}} and "consistent" not in verdict.raw
    assert openai_server.calls() == 1
    assert judge.version() != CriticJudge.from_config(critic_config).version()


def test_an_answer_against_the_schema_fails_the_pair(
    openai_server: FakeOpenAI, critic_config: dict[str, Any]
) -> None:
    # ties are not allowed: a server that answers "tie" anyway is refused, no label made up
    openai_server.enqueue(Reply.ok(answer(overall="A")), Reply.ok(answer(overall="tie")))
    (verdict,) = CriticJudge.from_config(critic_config).judge([pair(allow_tie=False)])
    assert not verdict.ok and verdict.ratings is None
    assert "order ba" in verdict.error and "'tie' is not one of ['A', 'B']" in verdict.error
    assert verdict.raw["outputs"][1] == answer(overall="tie")


def test_a_server_that_follows_the_schema_to_the_letter(
    openai_server: FakeOpenAI, critic_config: dict[str, Any]
) -> None:
    # the schema responder picks the first legal value: "A" in both orders, a position bias
    openai_server.responder = schema_responder()
    tasks = [pair(False), pair(True, (OVERALL, HARMLESS))]
    verdicts = CriticJudge.from_config(critic_config).judge(tasks)
    assert all(v.ok for v in verdicts), [v.error for v in verdicts]
    assert [v.raw["orders"]["overall"] for v in verdicts] == [{"ab": "A", "ba": "B"}] * 2
    assert [v.ratings for v in verdicts] == [{"overall": 0.0}, {"overall": 0.0, "harmless": 0.0}]
    enums = [r.body["response_format"]["json_schema"]["schema"] for r in openai_server.requests()]
    assert sorted(len(s["properties"]) for s in enums) == [1, 1, 2, 2]


def test_the_schema_version_covers_pairs() -> None:
    assert len(schema_version()) == 16


def test_both_orders_are_cached_apart(openai_server: FakeOpenAI, critic_config: dict[str, Any]) -> None:
    # the two orders are different requests: each has its own cache entry, and a second
    # judging of the pair asks nothing and gives the same verdict
    openai_server.enqueue(Reply.ok(answer(overall="A")), Reply.ok(answer(overall="B")))
    judge = CriticJudge.from_config({**critic_config, "cache": True})
    (first,) = judge.judge([pair()])
    (again,) = judge.judge([pair()])
    assert openai_server.calls() == 2
    assert first.ok and again.ok and again.raw["cached"] is True
    assert again.ratings == first.ratings == {"overall": 1.0}
    assert again.raw["orders"] == first.raw["orders"] == {"overall": {"ab": "A", "ba": "A"}}
