"""Errors that services raise and interfaces map to responses."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses; `code` is stable for API clients."""

    code = "error"
    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()


class AnnotationInvalid(ServiceError):
    """The annotation is incomplete or out of range."""

    code = "invalid"
    status = 400

    def __init__(self, errors: dict[str, object], message: str = "") -> None:
        super().__init__(message or "The annotation is incomplete or out of range.")
        self.errors = errors


class AssignmentNotActive(ServiceError):
    """This item is no longer yours to annotate (its claim timed out and was taken)."""

    code = "not_active"
    status = 409


class StudyNotOpen(ServiceError):
    """This study is not open: it serves no items and takes no new participants."""

    code = "study_not_open"
    status = 409


class ParticipationBlocked(ServiceError):
    """Consent and instructions come before the first item."""

    code = "participation_blocked"
    status = 409
