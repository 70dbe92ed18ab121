"""The ratings selector: the tidy table and the streamed export rows, from the models."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis.tidy import COLUMNS, validate_tidy
from studyapp.models import Annotation, Judgment, Label, Rater
from studyapp.selectors.ratings import EXPORT_COLUMNS, rating_rows, ratings_table
from tests.studyapp.report_study import load_report_study

pytestmark = pytest.mark.django_db


def test_tidy_table_maps_every_rating(tmp_path: Path) -> None:
    study = load_report_study(tmp_path)
    table = validate_tidy(ratings_table(study=study))
    assert list(table.columns) == list(COLUMNS)
    steps = table[table.level == "step_label"]
    # 8 items x 4 steps x (3 annotators + critic + sprm)
    assert len(steps) == 8 * 4 * 5
    assert set(steps.criterion) == {"trajectory", "response"}
    assert set(steps[steps.criterion == "trajectory"].unit) == {f"r{i}:0" for i in range(8)}
    sprm = steps[steps.rater == "sprm"]
    assert sprm.value.between(0, 1).all() and not sprm.value.isin([0.0, 1.0]).all()
    assert set(steps[steps.rater.str.startswith("ann")].value) <= {-1.0, 1.0}
    first = table[table.level == "first_error"]
    assert len(first) == 8 * 4 and set(first.rater) == {"ann-1", "ann-2", "ann-3", "critic"}
    rubric = table[table.level == "rubric"]
    assert len(rubric) == 6 * 4 and set(rubric.criterion) == {"accuracy"}
    kinds = dict(zip(table.rater, table.rater_kind, strict=False))
    assert kinds["ann-1"] == "external" and kinds["critic"] == "judge"
    assert set(table.domain) == {"math", "medical"}
    # Each value is the stored label.
    label = Label.objects.get(
        annotation__rater__name="ann-2", annotation__item__external_id="r3", step__index=2
    )
    row = steps[(steps.rater == "ann-2") & (steps.unit == "r3:2")]
    assert row.value.tolist() == [label.value]


def test_trajectory_ratings_pending_judgments_and_double_labels(tmp_path: Path) -> None:
    study = load_report_study(tmp_path, n_reasoning=2, n_summary=0)
    ann = Annotation.objects.filter(item__study=study, rater__name="ann-1").order_by("id").first()
    ann.trajectory_rating = 4
    ann.save()
    judgment = Judgment.objects.filter(item__study=study, rater__name="critic").order_by("id").first()
    judgment.trajectory_score = 3.5
    judgment.status = Judgment.Status.DONE
    judgment.save()
    Label.objects.filter(judgment=judgment, step__index=1).update(score=0.25)
    pending = Judgment.objects.filter(item__study=study, rater__name="sprm").order_by("id").first()
    pending.status = Judgment.Status.PENDING
    pending.save()
    table = ratings_table(study=study)
    traj = table[table.level == "trajectory"].set_index("rater").value
    assert traj.to_dict() == {"ann-1": 4.0, "critic": 3.5}
    both = table[(table.rater == "critic (score)")]
    assert both.value.tolist() == [0.25]
    # A pending judgment gives no rows.
    assert not ((table.rater == "sprm") & (table["item"] == pending.item.external_id)).any()


def test_changed_judge_configuration_gets_a_versioned_name(tmp_path: Path) -> None:
    study = load_report_study(tmp_path, n_reasoning=1, n_summary=0)
    old = Rater.objects.get(study=study, name="critic")
    Rater.objects.filter(pk=old.pk).update(version="abcdef0123456789")
    Rater.objects.create(study=study, kind="judge", name="critic", judge_kind="critic", version="0011223344")
    raters = set(ratings_table(study=study).rater)
    assert "critic@abcdef01" in raters and "critic" not in raters


def test_export_rows_stream_with_a_fixed_number_of_queries(
    tmp_path: Path, django_assert_num_queries: Any
) -> None:
    study = load_report_study(tmp_path)
    rows = rating_rows(study=study)
    assert isinstance(rows, types.GeneratorType)
    with django_assert_num_queries(6):  # 2 rater queries + 2 label streams + 2 record streams
        first = next(rows)
        rest = list(rows)
    assert set(first) == set(EXPORT_COLUMNS)
    assert len(rest) + 1 == len(ratings_table(study=study))


def test_gold_items_can_be_left_out(tmp_path: Path) -> None:
    study = load_report_study(tmp_path, n_reasoning=2, n_summary=0)
    study.items.filter(external_id="r0").update(is_gold=True)
    table = ratings_table(study=study, include_gold=False)
    assert set(table["item"]) == {"r1"}


def test_the_table_reports_read_is_the_export_s_tidy_columns(tmp_path: Path) -> None:
    """ratings_table reads tuples of the tidy columns only; it must equal the export's rows."""
    from analysis.tidy import COLUMNS

    study = load_report_study(tmp_path)
    for include_gold in (True, False):
        export = pd.DataFrame(
            [[r[c] for c in COLUMNS] for r in rating_rows(study=study, include_gold=include_gold)],
            columns=list(COLUMNS),
        )
        pd.testing.assert_frame_equal(ratings_table(study=study, include_gold=include_gold), export)
