"""The spec's `analysis` block: defaults, and a bad value named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from studyapp.spec import SpecError, parse_spec

BASE = """slug: s
title: S
domains: [{name: d}]
"""


def test_defaults_are_krippendorffs_tentative_level_exclude_and_crowd_epsilon(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    spec, _ = parse_spec(path)
    assert spec.analysis.model_dump() == {
        "min_human_alpha": 0.667,
        "out_of_scale": "exclude",
        "epsilon": 0.1,
        "target_width": None,
    }


def test_a_target_width_is_read(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "analysis:\n  target_width: 0.25\n")
    spec, _ = parse_spec(path)
    assert spec.analysis.target_width == 0.25


@pytest.mark.parametrize(
    ("block", "field", "message"),
    [
        (
            "analysis:\n  out_of_scale: drop\n",
            "analysis.out_of_scale",
            "Input should be 'exclude', 'clip' or 'keep'",
        ),
        ("analysis:\n  min_human_alpha: 1.5\n", "analysis.min_human_alpha", "less than or equal to 1"),
        ("analysis:\n  epsilon: -0.1\n", "analysis.epsilon", "greater than or equal to 0"),
        ("analysis:\n  epsilom: 0.2\n", "analysis.epsilom", "Extra inputs are not permitted"),
        ("analysis:\n  target_width: 0\n", "analysis.target_width", "Input should be greater than 0"),
        ("analysis:\n  target_width: -0.1\n", "analysis.target_width", "Input should be greater than 0"),
        ("analysis:\n  target_width: .inf\n", "analysis.target_width", "Input should be a finite number"),
        ("analysis:\n  target_width: wide\n", "analysis.target_width", "Input should be a valid number"),
    ],
)
def test_a_bad_analysis_field_names_its_line(tmp_path: Path, block: str, field: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + block)
    with pytest.raises(SpecError) as info:
        parse_spec(path)
    assert info.value.line == 5 and info.value.field == field
    assert message in info.value.message
