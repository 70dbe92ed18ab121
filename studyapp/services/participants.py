"""Human raters: accounts made by researchers, participants entering by link.

`annotator_create` makes Django users with random passwords (and API tokens)
and their raters; `participant_enter` turns a crowdsourcing link
(Prolific's `PROLIFIC_PID`, `STUDY_ID`, `SESSION_ID`) into a user and a
rater, the same one each time the same participant comes back.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from studyapp.models import Participation, Rater, Study
from studyapp.services.errors import ServiceError, StudyNotOpen

PID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ParticipantIdInvalid(ServiceError):
    """The link carries no valid participant id."""

    code = "participant_id_invalid"
    status = 400


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    token: str


def rater_for_user(*, study: Study, user: Any) -> Rater:
    """The user's human rater in the study (and its participation), made on first use."""
    rater = Rater.objects.select_related("participation").filter(study=study, user=user).first()
    if rater is None:
        try:
            with transaction.atomic():
                rater = Rater.objects.create(
                    study=study, kind=Rater.Kind.HUMAN, name=user.get_username(), user=user
                )
        except IntegrityError:
            rater = Rater.objects.select_related("participation").get(study=study, user=user)
    rater.study = study
    try:
        rater.participation  # noqa: B018 (loaded by select_related; raises when missing)
    except Participation.DoesNotExist:
        rater.participation, _ = Participation.objects.get_or_create(rater=rater)
    return rater


def annotator_create(*, study: Study, count: int, prefix: str = "annotator") -> list[Credentials]:
    """Make `count` annotator accounts for the study; passwords are shown once."""
    if count < 1:
        raise ServiceError("Make at least one annotator.")
    user_model = get_user_model()
    taken = set(user_model.objects.filter(username__startswith=prefix).values_list("username", flat=True))
    made: list[Credentials] = []
    n = 1
    with transaction.atomic():
        while len(made) < count:
            username = f"{prefix}{n:03d}"
            n += 1
            if username in taken:
                continue
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_user(username=username, password=password)
            rater_for_user(study=study, user=user)
            token = Token.objects.create(user=user)
            made.append(Credentials(username=username, password=password, token=token.key))
    return made


def participant_enter(
    *,
    study: Study,
    participant_id: str,
    external_study_id: str = "",
    session_id: str = "",
) -> Rater:
    """The rater for an external participant id, made on the first visit."""
    if study.status != Study.Status.OPEN:
        raise StudyNotOpen()
    participant_id = (participant_id or "").strip()
    if not PID_PATTERN.match(participant_id):
        raise ParticipantIdInvalid()
    user_model = get_user_model()
    username = f"p-{participant_id}"[:150]
    user, created = user_model.objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif user.has_usable_password() or user.is_staff or user.is_superuser:
        # Only accounts made by this link may be entered by it, never one with a password.
        raise ParticipantIdInvalid()
    rater = rater_for_user(study=study, user=user)
    participation = rater.participation
    participation.external_id = participant_id
    participation.external_study_id = (external_study_id or "")[:200]
    participation.external_session_id = (session_id or "")[:200]
    participation.save(update_fields=["external_id", "external_study_id", "external_session_id"])
    return rater


def participation_consent(*, rater: Rater, now: datetime | None = None) -> Participation:
    participation = rater.participation
    if participation.consented_at is None:
        participation.consented_at = now or timezone.now()
        participation.save(update_fields=["consented_at"])
    return participation


def participation_instructions_read(*, rater: Rater, now: datetime | None = None) -> Participation:
    participation = rater.participation
    if participation.instructions_read_at is None:
        participation.instructions_read_at = now or timezone.now()
        participation.save(update_fields=["instructions_read_at"])
    return participation
