"""What a concordance study is.

A Study has Domains, Personas and one Rubric of Criteria. Its Items are
reasoning traces (a problem and ordered Steps), summaries (a document and a
summary written for a Persona) or pairs (a prompt and two responses, A and
B). Raters are of three kinds: human accounts, external raters (labels
imported from a dataset) and AI judges. Humans and external raters make
Annotations, judges make Judgments; both own Labels, one per step or per
criterion. Invariants are database constraints.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        CLOSED = "closed"

    class LabelMode(models.TextChoices):
        ALL_STEPS = "all_steps", "label every step"
        FIRST_ERROR = "first_error", "stop at the first error (PRM800K phase 2)"

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    instructions = models.TextField(blank=True)
    consent = models.TextField(blank=True)
    overlap = models.PositiveSmallIntegerField(default=1, help_text="raters per item (k)")
    seed = models.BigIntegerField(default=0, help_text="randomisation seed")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    label_mode = models.CharField(max_length=12, choices=LabelMode.choices, default=LabelMode.ALL_STEPS)
    trajectory_rating = models.BooleanField(
        default=False, help_text="ask raters to rate the thinking trajectory as a whole"
    )
    claim_timeout = models.PositiveIntegerField(
        default=30, help_text="minutes before an unsubmitted claim returns to the pool"
    )
    gold_rate = models.FloatField(default=0.0, help_text="share of gold items mixed into queues")
    qualification_pass_mark = models.FloatField(
        null=True, blank=True, help_text="gold accuracy needed to pass the qualification set"
    )
    spec = models.JSONField(default=dict, blank=True, help_text="the loaded spec, as parsed")
    spec_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="study_overlap_positive"),
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="study_gold_rate_share"
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class Domain(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="domains")
    name = models.SlugField(max_length=80)
    description = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="domain_unique")]

    def __str__(self) -> str:
        return self.name


class Persona(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="personas")
    name = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    prompt = models.TextField(blank=True, help_text="shown to raters and given to critics")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="persona_unique")]

    def __str__(self) -> str:
        return self.name


class Rubric(models.Model):
    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="rubric")
    name = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name or f"rubric of {self.study}"


class Criterion(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    name = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    scale_min = models.SmallIntegerField(default=1)
    scale_max = models.SmallIntegerField(default=5)
    anchors = models.JSONField(default=dict, blank=True, help_text='{"1": "text", "5": "text"}')
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(fields=["rubric", "name"], name="criterion_unique"),
            models.CheckConstraint(
                condition=Q(scale_min__lt=models.F("scale_max")), name="criterion_scale_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    class Kind(models.TextChoices):
        REASONING = "reasoning"
        SUMMARY = "summary"
        PAIRWISE = "pairwise"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="items")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    external_id = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0, help_text="order of loading")
    # reasoning
    problem = models.TextField(blank=True)
    reference_answer = models.TextField(blank=True)
    outcome = models.BooleanField(null=True, blank=True, help_text="final answer correct")
    # summary
    document = models.TextField(blank=True)
    summary = models.TextField(blank=True)
    persona = models.ForeignKey(
        Persona, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    # pairwise: the prompt is `problem`; labels refer to these two, never to a screen side
    response_a = models.TextField(blank=True)
    response_b = models.TextField(blank=True)
    # all kinds
    metadata = models.JSONField(default=dict, blank=True)
    is_gold = models.BooleanField(default=False)
    gold = models.JSONField(null=True, blank=True, help_text="expected answer of a gold item")
    source = models.CharField(max_length=500, blank=True, help_text="file:line it came from")
    content_hash = models.CharField(max_length=64)
    # `annotation.allocation: active` (services/allocation.py): the item's probability of a
    # human label, fixed before the draw, and the draw (True: people label it). Null until
    # the study's allocation has drawn it; never drawn again.
    allocation_pi = models.FloatField(null=True, blank=True)
    allocation_drawn = models.BooleanField(null=True, blank=True)
    allocation_uncertainty = models.FloatField(
        null=True, blank=True, help_text="the judges' disagreement and unsureness it was drawn from"
    )

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "external_id"], name="item_unique"),
            models.CheckConstraint(
                condition=(Q(allocation_pi__isnull=True) & Q(allocation_drawn__isnull=True))
                | (Q(allocation_pi__gt=0) & Q(allocation_pi__lte=1) & Q(allocation_drawn__isnull=False)),
                name="item_allocation_pi_range",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=["reasoning", "pairwise"]) & Q(persona__isnull=True))
                | (Q(kind="summary") & Q(persona__isnull=False)),
                name="item_persona_iff_summary",
            ),
        ]
        indexes = [models.Index(fields=["study", "domain", "kind"])]

    def __str__(self) -> str:
        return f"{self.study.slug}:{self.external_id}"


class Step(models.Model):
    class Section(models.TextChoices):
        TRAJECTORY = "trajectory"
        RESPONSE = "response"

    # No index of its own: step_unique (item, index) leads with item and serves every lookup.
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="steps", db_index=False)
    index = models.PositiveIntegerField(help_text="0-based over the whole trace")
    section = models.CharField(max_length=10, choices=Section.choices, default=Section.RESPONSE)
    text = models.TextField()

    class Meta:
        ordering = ["item", "index"]
        constraints = [models.UniqueConstraint(fields=["item", "index"], name="step_unique")]

    def __str__(self) -> str:
        return f"{self.item_id}#{self.index}"


class Rater(models.Model):
    class Kind(models.TextChoices):
        HUMAN = "human"
        EXTERNAL = "external", "external (imported labels)"
        JUDGE = "judge", "AI judge"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="raters")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="raters",
    )
    judge_kind = models.CharField(
        max_length=20, blank=True, help_text="critic, sprm, or imported (ratings from a dataset)"
    )
    config = models.JSONField(default=dict, blank=True, help_text="judge configuration")
    version = models.CharField(
        max_length=64,
        blank=True,
        help_text="hash of the judge configuration; a change is a new rater",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "name", "version"], name="rater_unique"),
            models.UniqueConstraint(
                fields=["study", "user"], condition=Q(user__isnull=False), name="rater_user_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind="human", user__isnull=False) | (~Q(kind="human") & Q(user__isnull=True)),
                name="rater_user_iff_human",
            ),
            models.CheckConstraint(
                condition=Q(kind="judge") | Q(judge_kind=""), name="rater_judge_kind_only_judges"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Annotation(models.Model):
    """Labels of one item by a human or an external rater."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations")
    rater = models.ForeignKey(Rater, on_delete=models.PROTECT, related_name="annotations")
    first_error = models.IntegerField(null=True, blank=True, help_text="-1 = no error")
    trajectory_rating = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True)
    time_on_task = models.FloatField(null=True, blank=True, help_text="seconds")
    pair_swapped = models.BooleanField(
        null=True,
        blank=True,
        help_text="pairwise items: the screen order the labels were mapped from (True: B was shown first)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "rater"], name="annotation_unique"),
            models.CheckConstraint(
                condition=Q(first_error__isnull=True) | Q(first_error__gte=-1),
                name="annotation_first_error_range",
            ),
            models.CheckConstraint(
                condition=Q(time_on_task__isnull=True) | Q(time_on_task__gte=0),
                name="annotation_time_nonnegative",
            ),
        ]


class JudgeRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Mode(models.TextChoices):
        SYNC = "sync"
        BATCH = "batch"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="judge_runs")
    rater = models.ForeignKey(Rater, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    mode = models.CharField(max_length=5, choices=Mode.choices, default=Mode.SYNC)
    n_items = models.PositiveIntegerField(default=0)
    tokens_in = models.BigIntegerField(default=0)
    tokens_out = models.BigIntegerField(default=0)
    cost = models.FloatField(default=0.0, help_text="estimated, from JUDGE_PRICES")
    batch_id = models.CharField(max_length=200, blank=True)
    batch_status = models.CharField(max_length=20, blank=True, help_text="as the provider says")
    batch_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="idempotency key of the batch submission, sent in the batch's metadata",
    )
    judge_version = models.CharField(
        max_length=64, blank=True, help_text="the judge's own version (model, prompts, parameters)"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["mode", "status"])]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.rater.name} ({self.status})"


class WorkerProcess(models.Model):
    """A process that runs Celery tasks, so that a lease can tell whether its holder lives
    (`studyapp/services/workers.py`)."""

    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    pid_space = models.CharField(
        max_length=100, blank=True, help_text="boot and PID namespace: where `pid` means this process"
    )
    started_ticks = models.BigIntegerField(
        null=True, blank=True, help_text="start time in clock ticks after boot, so a reused pid is told apart"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} pid {self.pid}"


class JudgeChunk(models.Model):
    """The share of a run that one Celery task judges (or, in batch mode, submits), and
    the worker process holding it: a chunk whose worker dies is given to another."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"

    run = models.ForeignKey(JudgeRun, on_delete=models.CASCADE, related_name="chunks")
    judgment_ids = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    worker = models.ForeignKey(
        WorkerProcess, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="deliveries that started it")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"], name="judgechunk_status_idx")]

    def __str__(self) -> str:
        return f"chunk {self.pk} of run {self.run_id} ({self.status})"


class Judgment(models.Model):
    """One AI judge's verdict on one item; empty until the call succeeds."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="judgments")
    rater = models.ForeignKey(Rater, on_delete=models.PROTECT, related_name="judgments")
    run = models.ForeignKey(
        JudgeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="judgments"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    first_error = models.IntegerField(null=True, blank=True, help_text="-1 = no error")
    score = models.FloatField(null=True, blank=True, help_text="solution-level score")
    trajectory_score = models.FloatField(null=True, blank=True)
    raw = models.JSONField(null=True, blank=True, help_text="raw judge output")
    error = models.TextField(blank=True)
    prompt_version = models.CharField(max_length=64, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "rater"], name="judgment_unique"),
            models.CheckConstraint(
                condition=Q(first_error__isnull=True) | Q(first_error__gte=-1),
                name="judgment_first_error_range",
            ),
        ]
        indexes = [models.Index(fields=["rater", "status"])]


class Label(models.Model):
    """One step label or one criterion rating, owned by an annotation or a judgment.

    `value` is the label (+1 / 0 / -1 for a step, a score on the criterion's
    scale for a criterion; on a pair +1 = response A, -1 = response B, 0 = tie,
    always the underlying responses whatever order they were shown in);
    `score` is a continuous score such as the SPRM's probability that the
    step is correct.
    """

    annotation = models.ForeignKey(
        Annotation, null=True, blank=True, on_delete=models.CASCADE, related_name="labels"
    )
    judgment = models.ForeignKey(
        Judgment, null=True, blank=True, on_delete=models.CASCADE, related_name="labels"
    )
    step = models.ForeignKey(Step, null=True, blank=True, on_delete=models.CASCADE)
    criterion = models.ForeignKey(Criterion, null=True, blank=True, on_delete=models.PROTECT)
    value = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    rationale = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(annotation__isnull=True) ^ Q(judgment__isnull=True),
                name="label_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(step__isnull=True) ^ Q(criterion__isnull=True),
                name="label_one_target",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=False) | Q(score__isnull=False), name="label_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(step__isnull=True) | Q(value__isnull=True) | Q(value__in=[-1, 0, 1]),
                name="label_step_value",
            ),
            models.CheckConstraint(
                condition=Q(step__isnull=True) | Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=1)),
                name="label_step_score_probability",
            ),
            models.UniqueConstraint(
                fields=["annotation", "step"],
                condition=Q(annotation__isnull=False, step__isnull=False),
                name="label_annotation_step_unique",
            ),
            models.UniqueConstraint(
                fields=["annotation", "criterion"],
                condition=Q(annotation__isnull=False, criterion__isnull=False),
                name="label_annotation_criterion_unique",
            ),
            models.UniqueConstraint(
                fields=["judgment", "step"],
                condition=Q(judgment__isnull=False, step__isnull=False),
                name="label_judgment_step_unique",
            ),
            models.UniqueConstraint(
                fields=["judgment", "criterion"],
                condition=Q(judgment__isnull=False, criterion__isnull=False),
                name="label_judgment_criterion_unique",
            ),
        ]


# --- Assignment of items to human raters -------------------------------------
#
# Every real (non-gold) item has `study.overlap` Slots, made when the item first
# enters a queue. A human rater's queue is one Assignment row per item, made a
# chunk at a time from the first time the rater asks for work, ordered by
# `position` (a hash of the study seed, the rater and the item). Claiming
# an item means taking one of its free slots (`Slot.holder`); a slot is held by
# at most one assignment and an item has k slots, so no item is ever served to
# more than k raters, and (item, rater) is unique, so no rater sees an item
# twice. Gold and qualification items take no slot and do not count toward k.


class Assignment(models.Model):
    class Role(models.TextChoices):
        ITEM = "item"
        GOLD = "gold", "gold / attention check"
        QUALIFICATION = "qualification"

    class Status(models.TextChoices):
        QUEUED = "queued"
        CLAIMED = "claimed"
        SUBMITTED = "submitted"
        SKIPPED = "skipped"
        FLAGGED = "flagged"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="assignments")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    rater = models.ForeignKey(Rater, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(max_length=13, choices=Role.choices, default=Role.ITEM)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.QUEUED)
    position = models.BigIntegerField(help_text="order in the rater's queue (seeded hash)")
    claimed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    expiries = models.PositiveSmallIntegerField(default=0, help_text="claims that timed out")
    draft = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    time_on_task = models.FloatField(default=0.0, help_text="seconds, accumulated")
    flag_reason = models.TextField(blank=True)
    gold_correct = models.BooleanField(null=True, blank=True)
    annotation = models.OneToOneField(
        Annotation, null=True, blank=True, on_delete=models.PROTECT, related_name="assignment"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "rater"], name="assignment_item_rater_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "claimed", "submitted", "skipped", "flagged"]),
                name="assignment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["item", "gold", "qualification"]),
                name="assignment_role_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="submitted") | Q(annotation__isnull=False),
                name="assignment_submitted_has_annotation",
            ),
            models.CheckConstraint(condition=Q(time_on_task__gte=0), name="assignment_time_nonnegative"),
        ]
        indexes = [
            models.Index(
                fields=["rater", "role", "position"],
                condition=Q(status="queued"),
                name="assignment_queue_idx",
            ),
            models.Index(fields=["study", "status"], name="assignment_study_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rater_id}:{self.item_id} {self.status}"


class Slot(models.Model):
    """One of the k places of a real item; `holder` is the assignment holding it.

    A held slot with `held_until` in the past is free again (the claim timed
    out); a submitted assignment holds its slot for good (`held_until` NULL).
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="slots")
    index = models.PositiveSmallIntegerField()
    holder = models.OneToOneField(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="slot"
    )
    held_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "index"], name="slot_item_index_unique"),
            models.CheckConstraint(
                condition=Q(holder__isnull=False) | Q(held_until__isnull=True),
                name="slot_free_has_no_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}/{self.index}"


class Participation(models.Model):
    """A human rater's progress through a study: consent, qualification, counters."""

    class Qualification(models.TextChoices):
        NONE = "none", "not required"
        PENDING = "pending"
        PASSED = "passed"
        FAILED = "failed"

    rater = models.OneToOneField(Rater, on_delete=models.CASCADE, related_name="participation")
    consented_at = models.DateTimeField(null=True, blank=True)
    instructions_read_at = models.DateTimeField(null=True, blank=True)
    qualification = models.CharField(max_length=8, choices=Qualification.choices, default=Qualification.NONE)
    queue_built_at = models.DateTimeField(null=True, blank=True)
    current = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    n_submitted = models.PositiveIntegerField(default=0, help_text="real items submitted")
    n_gold = models.PositiveIntegerField(default=0, help_text="gold items submitted")
    n_gold_correct = models.PositiveIntegerField(default=0)
    n_served = models.PositiveIntegerField(default=0, help_text="claims made (all roles)")
    external_id = models.CharField(max_length=200, blank=True, help_text="e.g. PROLIFIC_PID")
    external_study_id = models.CharField(max_length=200, blank=True)
    external_session_id = models.CharField(max_length=200, blank=True)
    completion_code = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(n_gold_correct__lte=models.F("n_gold")),
                name="participation_gold_correct_le_total",
            ),
        ]

    def __str__(self) -> str:
        return f"participation of {self.rater_id}"


class ParticipantAccount(models.Model):
    """A user made by a crowdsourcing link for one external participant id.

    A link only ever logs into an account it made (one with this row), and
    only while that account has no rights: no password, no group, no
    permission, not staff. Every other account is out of a link's reach,
    whatever its username.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participant_account"
    )
    external_id = models.CharField(max_length=64, unique=True, help_text="e.g. PROLIFIC_PID")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"participant {self.external_id}"


class RateLimitWindow(models.Model):
    """One fixed window of a rate limit counted in the database (when Redis is not configured)."""

    key = models.CharField(max_length=64, help_text="hash of the limit's scope and who it counts")
    window = models.BigIntegerField(help_text="start of the window, seconds since the epoch")
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="ratelimit_window_unique")]


class StudyReport(models.Model):
    """A concordance report built in the background (never inside a web request)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="reports")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    options = models.JSONField(default=dict, blank=True, help_text="resamples, seed, epsilon, gold")
    data = models.JSONField(null=True, blank=True, help_text="the JSON report")
    html = models.TextField(blank=True, help_text="the self-contained HTML report")
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    worker = models.ForeignKey(
        WorkerProcess, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="builds started")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class LiveSnapshot(models.Model):
    """The live estimates and verdicts of a study, built by a worker after annotations
    arrive and read by the dashboard (`studyapp/services/live.py`). One row per study.

    `pending`: annotations arrived that no finished or running build has read, and a
    refresh is queued (set by one conditional statement per submission, so a burst of
    submissions queues one refresh). `status`, `worker` and `attempts` are the lease of
    the build (`studyapp/services/workers.py`); `attempts` counts the builds started since
    the last one that finished.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="live")
    pending = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True, blank=True, help_text="when pending was last set")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    worker = models.ForeignKey(
        WorkerProcess, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="builds started since the last finished")
    data = models.JSONField(null=True, blank=True, help_text="analysis.live.live_summary of the report")
    n_annotations = models.PositiveIntegerField(default=0, help_text="annotations the data reflects")
    built_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="why the last build failed")

    def __str__(self) -> str:
        return f"live snapshot of study {self.study_id} ({self.status})"
