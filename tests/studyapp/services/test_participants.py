"""Participant links enter only the rightless accounts they made, never anyone else's."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User

from studyapp.models import ParticipantAccount, Participation
from studyapp.permissions import is_researcher
from studyapp.services.errors import StudyNotOpen
from studyapp.services.participants import (
    ParticipantAccountRefused,
    ParticipantIdInvalid,
    participant_enter,
    rater_for_user,
)

pytestmark = pytest.mark.django_db


def _rightless_user(username: str) -> User:
    user = User(username=username)
    user.set_unusable_password()
    user.save()
    return user


def test_a_link_makes_a_marked_account_without_rights_and_comes_back_to_it(make_study):
    study = make_study(n=1)
    rater = participant_enter(study=study, participant_id="5f1e9c", external_study_id="st", session_id="se")
    user = rater.user
    assert user.username == "p-5f1e9c" and user.participant_account.external_id == "5f1e9c"
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert not user.groups.exists() and not user.user_permissions.exists() and not is_researcher(user)
    again = participant_enter(study=study, participant_id="5f1e9c")
    assert again.id == rater.id and ParticipantAccount.objects.count() == 1


def test_a_link_never_enters_a_researchers_account_with_the_same_name(make_study):
    study = make_study(n=1)
    researcher = _rightless_user("p-res1")  # e.g. made in the admin, logging in by another backend
    researcher.groups.add(Group.objects.get_or_create(name="researchers")[0])
    for existing in (researcher, _rightless_user("p-plain")):
        pid = existing.username[2:]
        rater = participant_enter(study=study, participant_id=pid)
        assert rater.user_id != existing.id
        assert rater.user.username == f"p-{pid}-2" and not is_researcher(rater.user)
    assert not Participation.objects.filter(rater__user=researcher).exists()


@pytest.mark.parametrize("grant", ["group", "permission", "staff", "password"])
def test_a_link_account_given_rights_later_is_refused(make_study, grant):
    study = make_study(n=1)
    user = participant_enter(study=study, participant_id="abc").user
    if grant == "group":
        user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    elif grant == "permission":
        user.user_permissions.add(Permission.objects.get(codename="view_annotation"))
    elif grant == "staff":
        User.objects.filter(id=user.id).update(is_staff=True)
    else:
        user.set_password("now-it-has-one")
        user.save()
    with pytest.raises(ParticipantAccountRefused):
        participant_enter(study=study, participant_id="abc")


def test_link_ids_are_checked(make_study):
    study = make_study(n=1)
    for bad in ("", "a b", "<script>", "x" * 65, "a\x00b"):
        with pytest.raises(ParticipantIdInvalid):
            participant_enter(study=study, participant_id=bad)
    for bad in ("a\x00b", "x" * 201, "line\nbreak"):
        with pytest.raises(ParticipantIdInvalid):
            participant_enter(study=study, participant_id="ok", external_study_id=bad)
    assert not ParticipantAccount.objects.exists()
    study.status = "closed"
    study.save()
    with pytest.raises(StudyNotOpen):
        participant_enter(study=study, participant_id="ok")


def test_the_migration_marks_only_the_accounts_the_old_link_made(make_study):
    study = make_study(n=1)
    made_by_link, researcher = _rightless_user("p-old1"), _rightless_user("p-old2")
    researcher.groups.add(Group.objects.get_or_create(name="researchers")[0])
    for user in (made_by_link, researcher):  # both look like the old link's accounts but for the group
        rater = rater_for_user(study=study, user=user)
        Participation.objects.filter(rater=rater).update(external_id=user.username[2:])
    _rightless_user("p-never-linked")
    migration = importlib.import_module("studyapp.migrations.0006_participant_accounts_rate_limits")
    migration.mark_link_accounts(apps, None)
    marked = list(ParticipantAccount.objects.values_list("user__username", "external_id"))
    assert marked == [("p-old1", "old1")]
    assert participant_enter(study=study, participant_id="old1").user_id == made_by_link.id
