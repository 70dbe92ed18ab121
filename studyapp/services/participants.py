"""Human raters: accounts made by researchers, participants entering by link.

`annotator_create` makes Django users with random passwords (and API tokens)
and their raters; `participant_enter` turns a crowdsourcing link
(Prolific's `PROLIFIC_PID`, `STUDY_ID`, `SESSION_ID`) into a user and a
rater, the same one each time the same participant comes back. The users a
link makes are marked (`ParticipantAccount`) and have no rights; a link
enters no other account.
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

from studyapp.models import ParticipantAccount, Participation, Rater, Study
from studyapp.services.errors import ServiceError, StudyNotOpen

PID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
EXTERNAL_PATTERN = re.compile(r"[^\x00-\x1f\x7f]{0,200}")  # a platform's study and session ids


class ParticipantIdInvalid(ServiceError):
    """The link carries no valid participant id."""

    code = "participant_id_invalid"
    status = 400


class ParticipantAccountRefused(ServiceError):
    """This link's account has since been given rights, so no link can open it: log in instead."""

    code = "participant_account_refused"
    status = 403


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


def _rightless(user: Any) -> bool:
    """An account a link may log into: active, no password, no group, no permission, not staff."""
    return (
        user.is_active
        and not user.is_staff
        and not user.is_superuser
        and not user.has_usable_password()
        and not user.groups.exists()
        and not user.user_permissions.exists()
    )


def _participant_account_create(*, participant_id: str) -> ParticipantAccount:
    """A new rightless user for the participant id (`p-<id>`, or `p-<id>-<n>` when that is taken)."""
    user_model = get_user_model()
    base = f"p-{participant_id}"
    username, n = base, 1
    while user_model.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    try:
        with transaction.atomic():
            user = user_model(username=username)
            user.set_unusable_password()
            user.save()
            return ParticipantAccount.objects.create(user=user, external_id=participant_id)
    except IntegrityError:
        # The same participant arrived twice at once (or the username was just taken): theirs wins.
        account = ParticipantAccount.objects.select_related("user").filter(external_id=participant_id).first()
        if account is None:
            raise
        return account


def participant_link_ids(
    *, participant_id: str, external_study_id: str = "", session_id: str = ""
) -> tuple[str, str, str]:
    """A link's ids, stripped; `ParticipantIdInvalid` when they are not plain ids."""
    participant_id = (participant_id or "").strip()
    if not PID_PATTERN.fullmatch(participant_id):
        raise ParticipantIdInvalid()
    external_study_id, session_id = (external_study_id or "").strip(), (session_id or "").strip()
    if not (EXTERNAL_PATTERN.fullmatch(external_study_id) and EXTERNAL_PATTERN.fullmatch(session_id)):
        raise ParticipantIdInvalid("The link's STUDY_ID or SESSION_ID is not an id (200 characters at most).")
    return participant_id, external_study_id, session_id


def participant_enter(
    *,
    study: Study,
    participant_id: str,
    external_study_id: str = "",
    session_id: str = "",
) -> Rater:
    """The rater for an external participant id; its account is made on the first visit.

    A link only ever enters an account that a link made for this id
    (`ParticipantAccount`), and only while it has no rights; an account that
    was given a password, a group, a permission or staff status since is
    refused. No other account is reachable, whatever its username.
    """
    if study.status != Study.Status.OPEN:
        raise StudyNotOpen()
    participant_id, external_study_id, session_id = participant_link_ids(
        participant_id=participant_id, external_study_id=external_study_id, session_id=session_id
    )
    account = ParticipantAccount.objects.select_related("user").filter(external_id=participant_id).first()
    if account is None:
        account = _participant_account_create(participant_id=participant_id)
    user = account.user
    if not _rightless(user):
        raise ParticipantAccountRefused()
    rater = rater_for_user(study=study, user=user)
    participation = rater.participation
    participation.external_id = participant_id
    participation.external_study_id = external_study_id
    participation.external_session_id = session_id
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
