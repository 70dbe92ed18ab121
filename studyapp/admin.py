from django.contrib import admin

from studyapp import models


class DomainInline(admin.TabularInline):
    model = models.Domain
    extra = 0


class PersonaInline(admin.TabularInline):
    model = models.Persona
    extra = 0


@admin.register(models.Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "status", "overlap", "created_at"]
    list_filter = ["status"]
    search_fields = ["slug", "title"]
    inlines = [DomainInline, PersonaInline]


class CriterionInline(admin.TabularInline):
    model = models.Criterion
    extra = 0


@admin.register(models.Rubric)
class RubricAdmin(admin.ModelAdmin):
    list_display = ["study", "name"]
    inlines = [CriterionInline]


class StepInline(admin.TabularInline):
    model = models.Step
    extra = 0


@admin.register(models.Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["external_id", "study", "domain", "kind", "outcome", "is_gold"]
    list_filter = ["study", "kind", "is_gold", "domain__name"]
    search_fields = ["external_id", "problem", "summary"]
    list_select_related = ["study", "domain"]
    inlines = [StepInline]


@admin.register(models.Rater)
class RaterAdmin(admin.ModelAdmin):
    list_display = ["name", "study", "kind", "judge_kind", "version", "active"]
    list_filter = ["study", "kind", "judge_kind"]
    search_fields = ["name"]


class LabelInline(admin.TabularInline):
    model = models.Label
    extra = 0
    raw_id_fields = ["step", "criterion"]


@admin.register(models.Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["item", "rater", "first_error", "time_on_task", "created_at"]
    list_filter = ["rater__kind", "item__study"]
    list_select_related = ["item__study", "rater"]
    raw_id_fields = ["item"]
    inlines = [LabelInline]


@admin.register(models.Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ["item", "rater", "status", "first_error", "score", "completed_at"]
    list_filter = ["status", "rater__name", "item__study"]
    list_select_related = ["item__study", "rater"]
    raw_id_fields = ["item", "run"]
    inlines = [LabelInline]


@admin.register(models.JudgeRun)
class JudgeRunAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "rater", "status", "mode", "n_items", "cost", "created_at"]
    list_filter = ["status", "mode", "study"]


@admin.register(models.Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "item", "rater", "role", "status", "claimed_at", "submitted_at"]
    list_filter = ["study", "status", "role"]
    list_select_related = ["study", "item__study", "rater"]
    raw_id_fields = ["item", "rater", "annotation"]
    search_fields = ["rater__name", "item__external_id", "flag_reason"]


@admin.register(models.Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = [
        "rater", "qualification", "n_submitted", "n_gold", "n_gold_correct", "external_id",
        "finished_at",
    ]  # fmt: skip
    list_filter = ["qualification", "rater__study"]
    list_select_related = ["rater"]
    raw_id_fields = ["rater", "current"]
    search_fields = ["rater__name", "external_id"]


@admin.register(models.ParticipantAccount)
class ParticipantAccountAdmin(admin.ModelAdmin):
    list_display = ["external_id", "user", "created_at"]
    search_fields = ["external_id", "user__username"]
    readonly_fields = ["user", "external_id", "created_at"]
