"""factory_boy factories for the study data model, shared by the whole suite.

Each factory makes a valid row with the fewest related rows it needs:
`ReasoningItemFactory(steps=3)` makes an item with three response steps,
`SummaryItemFactory()` one with a persona. Pass related rows explicitly to
share them (`ReasoningItemFactory(study=study, domain=domain)`).
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from studyapp import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n:04d}")
    password = factory.django.Password("pw-for-tests")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Study

    slug = factory.Sequence(lambda n: f"study-{n}")
    title = factory.LazyAttribute(lambda o: f"Study {o.slug}")
    overlap = 2
    seed = 7
    claim_timeout = 30


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Domain
        django_get_or_create = ("study", "name")

    study = factory.SubFactory(StudyFactory)
    name = "math"


class PersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Persona
        django_get_or_create = ("study", "name")

    study = factory.SubFactory(StudyFactory)
    name = "patient"
    description = "a patient with no medical training who wants to know what to do next"
    prompt = "You are rating this summary for a patient."


class RubricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Rubric
        django_get_or_create = ("study",)

    study = factory.SubFactory(StudyFactory)
    name = "summary quality"


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Criterion
        django_get_or_create = ("rubric", "name")

    rubric = factory.SubFactory(RubricFactory)
    name = factory.Sequence(lambda n: f"criterion-{n}")
    description = "How well the summary serves the reader."
    scale_min = 1
    scale_max = 5
    anchors = factory.LazyFunction(lambda: {"1": "useless", "3": "adequate", "5": "excellent"})
    position = factory.Sequence(lambda n: n)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Item
        skip_postgeneration_save = True

    study = factory.SubFactory(StudyFactory)
    domain = factory.SubFactory(DomainFactory, study=factory.SelfAttribute("..study"))
    external_id = factory.Sequence(lambda n: f"item-{n}")
    position = factory.Sequence(lambda n: n)
    content_hash = factory.Sequence(lambda n: f"{n:064x}")


class ReasoningItemFactory(ItemFactory):
    """A reasoning item; `steps=N` response steps, `trajectory=M` thinking steps before them."""

    kind = models.Item.Kind.REASONING
    problem = "What is $2 + 3 \\times 4$?"
    reference_answer = "14"

    @factory.post_generation
    def steps(self, create: bool, extracted: int | None, **kwargs: object) -> None:
        if not create:
            return
        n_traj = int(kwargs.get("trajectory", 0) or 0)
        n_resp = 3 if extracted is None else int(extracted)
        rows = [
            models.Step(item=self, index=i, section="trajectory", text=f"Thinking step {i}.")
            for i in range(n_traj)
        ] + [
            models.Step(item=self, index=n_traj + i, section="response", text=f"Step {n_traj + i}.")
            for i in range(n_resp)
        ]
        models.Step.objects.bulk_create(rows)


class SummaryItemFactory(ItemFactory):
    kind = models.Item.Kind.SUMMARY
    domain = factory.SubFactory(DomainFactory, study=factory.SelfAttribute("..study"), name="clinical")
    document = "The patient was admitted with chest pain. Troponin was normal."
    summary = "Chest pain; heart tests normal; go home and rest."
    persona = factory.SubFactory(PersonaFactory, study=factory.SelfAttribute("..study"))


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Step

    item = factory.SubFactory(ReasoningItemFactory, steps=0)
    index = factory.Sequence(lambda n: n)
    section = models.Step.Section.RESPONSE
    text = factory.Sequence(lambda n: f"Step text {n}.")


class RaterFactory(factory.django.DjangoModelFactory):
    """A human rater with its own user account."""

    class Meta:
        model = models.Rater

    study = factory.SubFactory(StudyFactory)
    kind = models.Rater.Kind.HUMAN
    user = factory.SubFactory(UserFactory)
    name = factory.LazyAttribute(lambda o: o.user.username if o.user else "rater")


class JudgeRaterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Rater

    study = factory.SubFactory(StudyFactory)
    kind = models.Rater.Kind.JUDGE
    user = None
    name = factory.Sequence(lambda n: f"judge-{n}")
    judge_kind = "critic"
    version = factory.Sequence(lambda n: f"v{n}")


class ExternalRaterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Rater

    study = factory.SubFactory(StudyFactory)
    kind = models.Rater.Kind.EXTERNAL
    user = None
    name = factory.Sequence(lambda n: f"dataset-{n}")


class AnnotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Annotation

    item = factory.SubFactory(ReasoningItemFactory)
    rater = factory.SubFactory(RaterFactory, study=factory.SelfAttribute("..item.study"))
    first_error = -1


class JudgeRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.JudgeRun

    study = factory.SubFactory(StudyFactory)
    rater = factory.SubFactory(JudgeRaterFactory, study=factory.SelfAttribute("..study"))


class JudgmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Judgment

    item = factory.SubFactory(ReasoningItemFactory)
    rater = factory.SubFactory(JudgeRaterFactory, study=factory.SelfAttribute("..item.study"))
    status = models.Judgment.Status.DONE
    first_error = -1


class LabelFactory(factory.django.DjangoModelFactory):
    """A step label owned by an annotation; pass `judgment=` and `annotation=None` for a judge's."""

    class Meta:
        model = models.Label

    annotation = factory.SubFactory(AnnotationFactory)
    step = factory.LazyAttribute(lambda o: (o.annotation or o.judgment).item.steps.order_by("index").first())
    judgment = None
    value = 1


class PairwiseItemFactory(ItemFactory):
    """A pair: a prompt (in `problem`) and responses A and B."""

    kind = models.Item.Kind.PAIRWISE
    problem = "Name a prime number greater than 10."
    response_a = "**Eleven** (11) is prime."
    response_b = "Twelve (12) is prime."


def judge_step_scores(study: models.Study, scores: dict[int, list[float]], name: str) -> models.Rater:
    """A judge (an SPRM) that gave each item's steps these scores ({item id: scores}), each
    step's label thresholded at 0.5; done judgments with their labels."""
    judge = JudgeRaterFactory(study=study, name=name, judge_kind="sprm")
    for item_id, item_scores in scores.items():
        judgment = JudgmentFactory(item_id=item_id, rater=judge)
        steps = list(models.Step.objects.filter(item_id=item_id).order_by("index"))
        models.Label.objects.bulk_create(
            models.Label(judgment=judgment, step=step, value=1 if s >= 0.5 else -1, score=s)
            for step, s in zip(steps, item_scores, strict=True)
        )
    return judge
