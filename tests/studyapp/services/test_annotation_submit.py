"""Server-side validation of submissions: label modes, trajectory rating, rubric scales."""

from __future__ import annotations

import pytest

from studyapp.models import Annotation, Label
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next
from studyapp.services.errors import AnnotationInvalid
from tests.factories import ReasoningItemFactory

pytestmark = pytest.mark.django_db


def _claim(make_study, make_rater, **fields):
    study = make_study(n=0, **fields)
    ReasoningItemFactory(study=study, steps=3, steps__trajectory=2)
    rater = make_rater(study)
    return assignment_claim_next(rater=rater, study=study)


def _errors(call) -> dict:
    with pytest.raises(AnnotationInvalid) as info:
        call()
    return info.value.errors


def test_first_error_mode_labels_up_to_the_first_wrong_step(make_study, make_rater):
    a = _claim(make_study, make_rater, label_mode="first_error")
    # Labels after the first -1 are refused, missing ones before it too.
    errors = _errors(lambda: annotation_submit(assignment=a, step_labels={0: 1, 2: -1, 3: 1}))
    assert errors["steps"] == {
        "1": "Label this step.",
        "3": "This study stops at the first error: leave later steps unlabelled.",
    }
    result = annotation_submit(assignment=a, step_labels={0: 1, 1: 0, 2: -1})
    assert result.annotation.first_error == 2
    assert Label.objects.filter(annotation=result.annotation).count() == 3


def test_first_error_mode_without_an_error_needs_every_step(make_study, make_rater):
    a = _claim(make_study, make_rater, label_mode="first_error")
    errors = _errors(lambda: annotation_submit(assignment=a, step_labels={0: 1, 1: 1}))
    assert set(errors["steps"]) == {"2", "3", "4"}
    assert (
        annotation_submit(assignment=a, step_labels=dict.fromkeys(range(5), 1)).annotation.first_error == -1
    )


def test_all_steps_mode_labels_every_step_even_after_an_error(make_study, make_rater):
    a = _claim(make_study, make_rater)
    errors = _errors(lambda: annotation_submit(assignment=a, step_labels={0: 1, 1: -1}))
    assert set(errors["steps"]) == {"2", "3", "4"}
    errors = _errors(lambda: annotation_submit(assignment=a, step_labels={0: 2, 1: 1, 2: 1, 3: 1, 4: 9}))
    assert errors["steps"] == {"0": "A step label is +1, 0 or -1.", "4": "A step label is +1, 0 or -1."}
    result = annotation_submit(assignment=a, step_labels={0: 1, 1: -1, 2: -1, 3: 0, 4: 1})
    assert result.annotation.first_error == 1
    assert Label.objects.filter(annotation=result.annotation).count() == 5


def test_trajectory_rating_is_required_when_the_study_asks(make_study, make_rater):
    a = _claim(make_study, make_rater, trajectory_rating=True)
    labels = dict.fromkeys(range(5), 1)
    assert "trajectory_rating" in _errors(lambda: annotation_submit(assignment=a, step_labels=labels))
    assert "trajectory_rating" in _errors(
        lambda: annotation_submit(assignment=a, step_labels=labels, trajectory_rating=6)
    )
    result = annotation_submit(assignment=a, step_labels=labels, trajectory_rating=5, comment=" fine ")
    assert (result.annotation.trajectory_rating, result.annotation.comment) == (5, "fine")


def test_summary_ratings_must_be_on_each_criterions_scale(make_study, make_rater):
    study = make_study(n=0, summaries=1)
    rater = make_rater(study)
    a = assignment_claim_next(rater=rater, study=study)
    errors = _errors(lambda: annotation_submit(assignment=a, ratings={"accuracy": 0, "nonsense": 3}))
    assert errors["ratings"] == {
        "accuracy": "Choose a whole number from 1 to 5.",
        "usefulness": "Rate this criterion.",
        "nonsense": "There is no such criterion.",
    }
    assert _errors(lambda: annotation_submit(assignment=a, ratings={"accuracy": 2.5, "usefulness": 3}))
    annotation_submit(assignment=a, ratings={"accuracy": 5, "usefulness": 1})
    assert dict(Label.objects.filter(annotation__rater=rater).values_list("criterion__name", "value")) == {
        "accuracy": 5,
        "usefulness": 1,
    }
    assert Annotation.objects.count() == 1
