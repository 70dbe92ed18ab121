"""Where the shared public datasets live: ``../shared/data`` beside the project root.

The project never copies those files. The directory is ``$CONCORDANCE_SHARED_DATA``
when set; otherwise the first ``shared/data`` found beside the project root or
beside one of its parent directories (a git worktree nests one level deeper).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROJECT_ROOT", "shared_data_dir"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Return the shared data directory.

    Raises
    ------
    FileNotFoundError
        When neither the environment variable nor a ``shared/data`` directory is found.
    """
    env = os.environ.get("CONCORDANCE_SHARED_DATA")
    if env:
        return Path(env)
    for parent in PROJECT_ROOT.parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no ../shared/data beside the project root; set CONCORDANCE_SHARED_DATA")
