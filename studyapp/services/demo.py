"""Demo accounts for the demo study (never for a real one: the passwords are public)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from studyapp.models import Study

DEMO_PASSWORD = "concordance-demo"
RESEARCHERS_GROUP = "researchers"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str


def demo_accounts_ensure(*, study: Study) -> list[DemoAccount]:
    """Create (or reset) the researcher and three annotators of the demo study."""
    User = get_user_model()
    researchers, _ = Group.objects.get_or_create(name=RESEARCHERS_GROUP)
    accounts = [DemoAccount("researcher", "researcher", DEMO_PASSWORD)] + [
        DemoAccount("annotator", f"annotator{i}", DEMO_PASSWORD) for i in (1, 2, 3)
    ]
    for account in accounts:
        user, _ = User.objects.get_or_create(username=account.username)
        user.set_password(account.password)
        if account.role == "researcher":
            user.is_staff = user.is_superuser = True
            user.save()
            user.groups.add(researchers)
        else:
            user.save()
    return accounts
