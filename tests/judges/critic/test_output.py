import pytest

from judges.critic.output import OutputError, check_rubric, check_step_critique, parse_model
from judges.critic.schema import RubricOut, StepCritiqueOut
from tests.judges.critic.conftest import reasoning_task, summary_task

GOOD = '{"steps": [{"index": 0, "label": 1}, {"index": 1, "label": -1}], "first_error": 1}'


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        f"Here is my critique:\n```json\n{GOOD}\n```\nDone.",
        f"I checked each step. {GOOD} That is all.",
    ],
)
def test_json_is_found_in_plain_fenced_and_prose_output(text):
    out = parse_model(text, StepCritiqueOut)
    assert [(s.index, s.label) for s in out.steps] == [(0, 1), (1, -1)]
    assert out.first_error == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty output"),
        ("step 2 is wrong", "no JSON object"),
        ('{"steps": [{"index": 0, "label": 2}], "first_error": -1}', "StepCritiqueOut schema"),
        ('{"steps": [{"index": 0, "label": 1}], "first_err', "StepCritiqueOut schema"),
    ],
)
def test_unusable_output_raises_with_a_reason(text, reason):
    with pytest.raises(OutputError, match=reason):
        parse_model(text, StepCritiqueOut)


def test_missing_steps_stay_unlabelled():
    task = reasoning_task(n_traj=1, n_resp=2)
    out = parse_model('{"steps": [{"index": 2, "label": -1}], "first_error": 2}', StepCritiqueOut)
    assert check_step_critique(task, out) == ([None, None, -1], 2)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"steps": [{"index": 3, "label": 1}], "first_error": -1}', "step index 3 does not exist"),
        (
            '{"steps": [{"index": -1, "label": 1}], "first_error": -1}',
            "step index -1 does not exist",
        ),
        ('{"steps": [], "first_error": 7}', "first_error 7 does not exist"),
        (
            '{"steps": [{"index": 0, "label": 1}, {"index": 0, "label": 0}], "first_error": -1}',
            "labelled twice",
        ),
    ],
)
def test_steps_that_do_not_exist_are_rejected(text, reason):
    task = reasoning_task(n_traj=1, n_resp=2)
    with pytest.raises(OutputError, match=reason):
        check_step_critique(task, parse_model(text, StepCritiqueOut))


def test_rubric_names_match_loosely_and_scores_are_checked():
    task = summary_task()
    out = parse_model(
        '{"criteria": [{"criterion": " relevance ", "rationale": "ok", "score": 4}]}', RubricOut
    )
    assert check_rubric(task, out) == ({"Relevance": 4.0}, {"Relevance": "ok"})
    off = parse_model('{"criteria": [{"criterion": "Fluency", "rationale": "", "score": 6}]}', RubricOut)
    with pytest.raises(OutputError, match=r"off the scale 1\.\.5"):
        check_rubric(task, off)
    unknown = parse_model('{"criteria": [{"criterion": "Wit", "rationale": "", "score": 3}]}', RubricOut)
    with pytest.raises(OutputError, match="'Wit' is not in the rubric"):
        check_rubric(task, unknown)
