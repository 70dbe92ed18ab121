"""`check --deploy` refuses a deployment whose static files are not collected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import override_settings

from studyapp.checks import static_manifest_check

MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.fixture
def static_root(tmp_path: Path):
    with override_settings(STATIC_ROOT=str(tmp_path), STORAGES=MANIFEST_STORAGE):
        yield tmp_path


def write_manifest(root: Path, paths: list[str]) -> None:
    manifest = {"version": "1.1", "hash": "x", "paths": {p: p for p in paths}}
    (root / "staticfiles.json").write_text(json.dumps(manifest))


def all_static_files() -> list[str]:
    return [path for finder in finders.get_finders() for path, _ in finder.list(["CVS", ".*", "*~"])]


def test_no_manifest_is_an_error_and_pages_cannot_render_their_scripts(static_root: Path) -> None:
    [error] = static_manifest_check()
    assert error.id == "concordance.E001" and "collectstatic" in error.hint
    assert str(static_root) in error.msg
    with pytest.raises(ValueError, match=r"Missing staticfiles manifest entry for 'studyapp/annotate\.js'"):
        staticfiles_storage.url("studyapp/annotate.js")


def test_a_file_added_since_the_last_collect_is_an_error(static_root: Path) -> None:
    files = all_static_files()
    write_manifest(static_root, [p for p in files if p != "studyapp/annotate.js"])
    [error] = static_manifest_check()
    assert error.id == "concordance.E002" and "studyapp/annotate.js" in error.msg


def test_a_complete_manifest_passes(static_root: Path) -> None:
    write_manifest(static_root, all_static_files())
    assert static_manifest_check() == []


def test_an_unreadable_manifest_is_an_error(static_root: Path) -> None:
    (static_root / "staticfiles.json").write_text("{not json")
    [error] = static_manifest_check()
    assert error.id == "concordance.E001" and "Couldn't load manifest" in error.msg
