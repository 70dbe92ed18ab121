"""Shapes of the annotator API's requests and responses (validation and OpenAPI)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from studyapp.services.annotations import COMMENT_MAX
from studyapp.services.assignments import REASON_MAX, TIME_ON_TASK_MAX, draft_problem


class JoinIn(serializers.Serializer):
    consent = serializers.BooleanField(help_text="the participant agrees to the consent text")
    instructions_read = serializers.BooleanField(default=True)


class StepOut(serializers.Serializer):
    index = serializers.IntegerField()
    section = serializers.ChoiceField(choices=["trajectory", "response"])
    text = serializers.CharField()


class PersonaOut(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    prompt = serializers.CharField()


class CriterionOut(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    scale_min = serializers.IntegerField()
    scale_max = serializers.IntegerField()
    anchors = serializers.DictField(child=serializers.CharField())


class TaskOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["reasoning", "summary"])
    domain = serializers.CharField()
    label_mode = serializers.ChoiceField(choices=["all_steps", "first_error"])
    trajectory_rating = serializers.BooleanField()
    problem = serializers.CharField(required=False)
    steps = StepOut(many=True, required=False)
    document = serializers.CharField(required=False)
    summary = serializers.CharField(required=False)
    persona = PersonaOut(required=False)
    criteria = CriterionOut(many=True, required=False)


class AssignmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    study = serializers.CharField()
    status = serializers.CharField()
    claimed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    draft = serializers.DictField()
    time_on_task = serializers.FloatField()


class ProgressOut(serializers.Serializer):
    done = serializers.IntegerField()
    assigned = serializers.IntegerField()
    finished = serializers.BooleanField(help_text="no item can ever be served to you again")
    wait = serializers.BooleanField(help_text="no item is free now (others hold the slots left): ask later")
    awaiting_draw = serializers.BooleanField(
        help_text="with wait: an active-allocation study has not drawn the items people label yet"
    )
    completion_code = serializers.CharField(allow_null=True)
    qualification = serializers.CharField()
    consented = serializers.BooleanField()
    instructions_read = serializers.BooleanField()


class NextOut(serializers.Serializer):
    assignment = AssignmentOut(allow_null=True)
    task = TaskOut(allow_null=True)
    finished = serializers.BooleanField(
        help_text="no item can ever be served to you again; the completion code is set"
    )
    wait = serializers.BooleanField(
        help_text="no item now, but the study is not over for you: every slot left is held by another "
        "annotator's claim, which their submission, a skip or a timeout may free, or an active-allocation "
        "study has not drawn its items yet; ask again"
    )
    retry_after = serializers.IntegerField(
        allow_null=True, help_text="with wait: seconds until asking again is worth it (also Retry-After)"
    )
    completion_code = serializers.CharField(allow_null=True)


class DraftIn(serializers.Serializer):
    draft = serializers.DictField(help_text="any JSON object: the page's state (at most 1 MiB by default)")
    time_on_task = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=TIME_ON_TASK_MAX,
        help_text="seconds; more than the time since the claim (plus a minute) is cut to that",
    )

    def validate_draft(self, value: Any) -> Any:
        problem = draft_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class DraftOut(serializers.Serializer):
    saved_at = serializers.DateTimeField()
    time_on_task = serializers.FloatField()


class SubmitIn(serializers.Serializer):
    steps = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text='reasoning: step index -> +1 / 0 / -1, e.g. {"0": 1, "1": -1}',
    )
    step_comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=COMMENT_MAX), required=False
    )
    ratings = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text=(
            'summary: criterion name -> score on its scale, e.g. {"accuracy": 4}; pairwise: criterion'
            " -> 1 (the first of task.responses), -1 (the second) or 0 (tie, when task.allow_tie)"
        ),
    )
    trajectory_rating = serializers.IntegerField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=COMMENT_MAX)
    time_on_task = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=TIME_ON_TASK_MAX,
        help_text="seconds; more than the time since the claim (plus a minute) is cut to that",
    )


class SubmitOut(serializers.Serializer):
    annotation = serializers.IntegerField()
    first_error = serializers.IntegerField(allow_null=True)
    created = serializers.BooleanField(help_text="false when this was a retry of a stored submission")


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX)


class ErrorOut(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(required=False)
