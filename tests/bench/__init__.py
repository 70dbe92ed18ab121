"""Tests of the bench/ scripts, which are not a package: :func:`load_script` imports one."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from analysis.shared_data import PROJECT_ROOT


def load_script(name: str) -> ModuleType:
    """Import ``bench/<name>.py`` as module ``name``, its folder on sys.path for its siblings."""
    folder = str(PROJECT_ROOT / "bench")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
