import pytest

from judges.sprm.data import Solution, split_by_group
from judges.types import step_labels_from_first_error


def sols(n_groups, per=2):
    return [
        Solution(problem="p", steps=[], outcome=True, group=f"g{i}")
        for i in range(n_groups)
        for _ in range(per)
    ]


def test_split_keeps_problems_whole_and_is_seeded():
    train, test = split_by_group(sols(200), test_fraction=0.2, seed=0)
    assert not {s.group for s in train} & {s.group for s in test}
    assert len(train) + len(test) == 400
    assert 0.12 < len({s.group for s in test}) / 200 < 0.28
    again = split_by_group(sols(200), test_fraction=0.2, seed=0)[1]
    other = split_by_group(sols(200), test_fraction=0.2, seed=1)[1]
    assert [s.group for s in again] == [s.group for s in test]
    assert {s.group for s in other} != {s.group for s in test}


def test_a_groups_side_does_not_depend_on_the_other_data():
    full_test = {s.group for s in split_by_group(sols(100), test_fraction=0.5)[1]}
    part_test = {s.group for s in split_by_group(sols(100)[:60], test_fraction=0.5)[1]}
    assert part_test == {g for g in full_test if int(g[1:]) < 30}


def test_first_error_labels_and_bad_input():
    assert step_labels_from_first_error(1, 3) == [1, -1, None]
    assert step_labels_from_first_error(-1, 2) == [1, 1]
    with pytest.raises(ValueError, match="test_fraction must be in"):
        split_by_group(sols(2), test_fraction=1.0)
    s = Solution(problem="p", steps=[], outcome=None, group="g", step_labels=[1, -1, None])
    assert s.first_error == 1


def test_a_salted_split_inside_the_train_side_of_the_same_seed_is_not_empty():
    """The calibration hold-out within `--split train`: unsalted, every group stays on one side."""
    train, _ = split_by_group(sols(200), test_fraction=0.2, seed=0)
    assert split_by_group(train, test_fraction=0.2, seed=0)[1] == []  # the trap
    rest, held = split_by_group(train, test_fraction=0.2, seed=0, salt="calibration:")
    assert held and rest
    assert 0.12 < len({s.group for s in held}) / len({s.group for s in train}) < 0.28


def test_the_calibration_hold_out_inside_split_train_at_the_same_seed_is_not_empty():
    """`train_sprm --split train --split-seed 0` with seed 0 and a hold-out of 0.2 refused to
    start (every problem left hashed to the training side)."""
    from judges.sprm.train import TrainConfig, calibration_split

    stepped = [Solution(problem="p", steps=["a", "b"], outcome=i % 2 == 0, group=f"g{i}") for i in range(200)]
    train, _ = split_by_group(stepped, test_fraction=0.2, seed=0)
    rest, held = calibration_split(train, TrainConfig(calibration_holdout=0.2, seed=0))
    assert held and rest and len(held) + len(rest) == len(train)
    assert not {s.group for s in held} & {s.group for s in rest}
