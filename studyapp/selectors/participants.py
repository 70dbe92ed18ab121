"""Accounts that participant links made (`ParticipantAccount`)."""

from __future__ import annotations

from typing import Any

from studyapp.models import ParticipantAccount


def participant_account_of(*, user: Any) -> str | None:
    """The participant id whose link made this account, if a link made it."""
    if not user.is_authenticated:
        return None
    return ParticipantAccount.objects.filter(user_id=user.pk).values_list("external_id", flat=True).first()


def participant_account_exists(*, participant_id: str) -> bool:
    """Whether a link already made an account for this participant id."""
    return ParticipantAccount.objects.filter(external_id=participant_id).exists()


__all__ = ["participant_account_exists", "participant_account_of"]
