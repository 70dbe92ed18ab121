import pytest

from judges.critic.output import OutputError, parse_answer, rubric_result, step_critique_result
from judges.critic.schema import answer_schema
from tests.judges.critic.conftest import reasoning_task, summary_task

TASK = reasoning_task(n_traj=1, n_resp=1)  # steps 0 and 1
GOOD = '{"steps": {"step_0": 1, "step_1": -1}, "first_error": 1}'


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        f"Here is my critique:\n```json\n{GOOD}\n```\nDone.",
        f"I checked each step. {GOOD} That is all.",
        # a first object that does not match is passed over for one that does
        f'Format: {{"steps": {{}}, "first_error": 0}}. Answer: {GOOD}',
    ],
)
def test_json_is_found_in_plain_fenced_and_prose_output(text):
    answer = parse_answer(text, answer_schema(TASK))
    assert step_critique_result(TASK, answer) == ([1, -1], 1)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty output"),
        ("step 2 is wrong", "no JSON object in the output"),
        ('{"steps": {"step_0": 1, "step_1": 2}, "first_error": -1}', "steps.step_1: 2 is not one of"),
        # cut short: only the inner object parses, and it is not an answer
        ('{"steps": {"step_0": 1, "step_1": 1}, "first_err', "<root>: 'steps' is missing"),
        ('{"steps": {"step_0": true, "step_1": 1}, "first_error": -1}', "steps.step_0: True is not one"),
    ],
)
def test_unusable_output_raises_with_a_reason(text, reason):
    with pytest.raises(OutputError, match=reason):
        parse_answer(text, answer_schema(TASK))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # a step the trace does not have, a step left out, a first error that does not exist
        (
            '{"steps": {"step_0": 1, "step_1": 1, "step_2": 1}, "first_error": -1}',
            r"steps: 'step_2' is not allowed \(expected 'step_0', 'step_1'\)",
        ),
        ('{"steps": {"step_1": -1}, "first_error": 1}', "steps: 'step_0' is missing"),
        ('{"steps": {"step_0": 1, "step_1": 1}, "first_error": 7}', "first_error: 7 is not one of"),
        ('{"steps": {"step_0": 1, "step_1": 1}}', "<root>: 'first_error' is missing"),
    ],
)
def test_steps_that_do_not_exist_are_rejected(text, reason):
    with pytest.raises(OutputError, match=f"does not match the item's step_critique schema: .*{reason}"):
        parse_answer(text, answer_schema(TASK))


def test_a_rubric_answer_has_every_criterion_of_the_rubric_on_its_scale():
    task = summary_task()
    schema = answer_schema(task)
    good = '{"Relevance": {"rationale": "ok", "score": 4}, "Fluency": {"rationale": "", "score": 5}}'
    assert rubric_result(task, parse_answer(good, schema)) == (
        {"Relevance": 4.0, "Fluency": 5.0},
        {"Relevance": "ok", "Fluency": ""},
    )
    off = '{"Relevance": {"rationale": "", "score": 4}, "Fluency": {"rationale": "", "score": 6}}'
    with pytest.raises(OutputError, match=r"Fluency.score: 6 is not one of \[1, 2, 3, 4, 5\]"):
        parse_answer(off, schema)
    unknown = '{"Relevance": {"rationale": "", "score": 4}, "Wit": {"rationale": "", "score": 3}}'
    with pytest.raises(OutputError, match=r"<root>: 'Fluency' is missing; <root>: 'Wit' is not allowed"):
        parse_answer(unknown, schema)
