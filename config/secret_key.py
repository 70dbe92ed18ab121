"""The embedded default's SECRET_KEY: random, made on first use, kept in the var folder.

Only for a site whose processes all run on one machine and share one
`CONCORDANCE_VAR_DIR` (the SQLite default): machines that serve one site
together need the same key, which they get from `DJANGO_SECRET_KEY`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 50  # Django's deploy check (security.W009) wants at least this many characters


def embedded_secret_key(path: Path) -> str:
    """The key stored at `path`, written there (mode 600) if there is none yet.

    The web server and the worker start together and may both find no key: each
    writes a complete key to a private temporary file and links it into place,
    which fails for all but the first, so every process reads the one key.
    """
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(MIN_LENGTH) + "\n")
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ImproperlyConfigured(
            f"{path} holds the secret key but other users may read it (mode {mode:o}): "
            f"run `chmod 600 {path}`, or set DJANGO_SECRET_KEY"
        )
    key = path.read_text().strip()
    if len(key) < MIN_LENGTH:
        raise ImproperlyConfigured(
            f"{path} holds no usable secret key (fewer than {MIN_LENGTH} characters): "
            "delete it to have a new one made, or set DJANGO_SECRET_KEY"
        )
    return key
