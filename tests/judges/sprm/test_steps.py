import pytest

from judges.sprm.steps import split_solution, split_text, steps_from_list


def test_lines_drop_empty_lines_and_strip():
    assert split_text("a = 1\n\n  b = 2 \nA: 2\n", "lines") == ["a = 1", "b = 2", "A: 2"]


def test_blank_lines_keep_multi_line_paragraphs():
    text = "First line\nstill first.\n\nSecond.\n \nThird."
    assert split_text(text, "blank_lines") == ["First line\nstill first.", "Second.", "Third."]


def test_period_blank_splits_only_after_a_period():
    text = "Step one.\n\nA list:\n\n- item.\n\nDone"
    assert split_text(text, "period_blank") == ["Step one.", "A list:\n\n- item.", "Done"]


def test_given_keeps_the_text_whole():
    assert split_text(" one step\n\nwith lines ", "given") == ["one step\n\nwith lines"]
    steps = steps_from_list(["a", "b"], ["trajectory", "response"])
    assert [(s.index, s.text, s.section) for s in steps] == [
        (0, "a", "trajectory"),
        (1, "b", "response"),
    ]


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown split rule 'words'"):
        split_text("x", "words")  # type: ignore[arg-type]


def test_think_block_is_the_trajectory_and_the_rest_the_response():
    text = "<think>Try 2+2.\n\nIt is 4.\n\nCheck: yes.</think>\n\nThe answer is 4.\n\nA: 4"
    steps = split_solution(text, "blank_lines")
    assert [(s.index, s.section, s.text) for s in steps] == [
        (0, "trajectory", "Try 2+2."),
        (1, "trajectory", "It is 4."),
        (2, "trajectory", "Check: yes."),
        (3, "response", "The answer is 4."),
        (4, "response", "A: 4"),
    ]


def test_without_think_every_step_is_a_response_step():
    steps = split_solution("x = 1\ny = 2", "lines")
    assert [s.section for s in steps] == ["response", "response"]
    assert [s.index for s in steps] == [0, 1]
