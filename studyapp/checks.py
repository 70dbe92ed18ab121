"""System checks for a deployment (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.checks import CheckMessage, Error, Tags, register

COLLECT_HINT = "Run `python manage.py collectstatic --noinput` (`manage.py serve` and the Dockerfile do)."


@register(Tags.staticfiles, deploy=True)
def static_manifest_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every static file the apps ship is collected: pages render `{% static %}` from the manifest."""
    try:  # the storage reads its manifest when first used
        if not isinstance(staticfiles_storage, ManifestFilesMixin):
            return []
        manifest, _ = staticfiles_storage.load_manifest()
    except ValueError as error:  # unreadable: collecting again rewrites it
        return [Error(f"{error} in {settings.STATIC_ROOT}", hint=COLLECT_HINT, id="concordance.E001")]
    if not manifest:
        return [
            Error(
                f"No static files manifest in {settings.STATIC_ROOT}: pages with scripts "
                "(every item page) fail to render",
                hint=COLLECT_HINT,
                id="concordance.E001",
            )
        ]
    missing = sorted(
        path
        for finder in finders.get_finders()
        for path, _ in finder.list(ignore_patterns=["CVS", ".*", "*~"])
        if path not in manifest
    )
    if missing:
        return [
            Error(
                f"{len(missing)} static files are not collected in {settings.STATIC_ROOT} "
                f"(e.g. {', '.join(missing[:3])}): pages that use them fail to render",
                hint=COLLECT_HINT,
                id="concordance.E002",
            )
        ]
    return []
