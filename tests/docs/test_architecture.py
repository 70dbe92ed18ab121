"""docs/architecture.md names files and functions that exist, so its two flows stay followable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()
# `path/to/module.py: name()` or `path/to/module.py: Class.method()`
REFERENCE = re.compile(r"`([\w/]+\.py): ([A-Za-z_][\w.]*)(?:\([^`]*\))?`")
PATH = re.compile(r"`((?:studyapp|judges|analysis|config|tests|bench|docs)/[\w/.-]*)`")


def _defined(path: Path) -> dict[str, set[str]]:
    """Module-level names, and each class's methods and attributes (under the class name)."""
    tree = ast.parse(path.read_text())
    names: dict[str, set[str]] = {"": set()}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[""].add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names[""].update(t.id for t in targets if isinstance(t, ast.Name))
        if isinstance(node, ast.ClassDef):
            names[node.name] = {
                child.name for child in node.body if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    return names


def test_every_named_function_exists_in_the_named_file():
    references = REFERENCE.findall(DOC)
    assert len(references) > 40
    missing = []
    for file, name in references:
        path = ROOT / file
        if not path.is_file():
            missing.append(f"{file} (no such file)")
            continue
        defined = _defined(path)
        owner, _, member = name.rpartition(".")
        if (owner and member not in defined.get(owner, set())) or (not owner and name not in defined[""]):
            missing.append(f"{file}: {name}")
    assert missing == []


def test_every_named_path_exists():
    paths = set(PATH.findall(DOC))
    assert len(paths) > 30
    assert sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists()) == []


def test_the_readme_links_the_code_map():
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()


def test_every_function_the_flows_name_is_in_a_file_the_doc_names():
    """A bare `name()` must be defined in one of the files the document names."""
    files = {ROOT / f for f, _ in REFERENCE.findall(DOC)} | {
        ROOT / p for p in PATH.findall(DOC) if p.endswith(".py") and (ROOT / p).is_file()
    }
    defined: set[str] = set()
    for path in files:
        for owner, names in _defined(path).items():
            defined.update(names)  # a method may be named bare once its class is
            defined.update(f"{owner}.{n}" for n in names if owner)
    called = set(re.findall(r"`(?:[\w./]+: )?([A-Za-z_][\w.]*)\(", DOC))
    assert len(called) > 60
    external = {
        # the introduction's notation, Django's own and PostgreSQL's set_config
        "f", "Class.method", "execute_from_command_line", "transaction.atomic", "transaction.on_commit",
        "select_for_update", "clean_fields", "save", "reverse", "connection.ensure_connection", "set_config",
        # annotate.js, which the document names
        "submit", "payload", "headers", "done",
    }  # fmt: skip
    assert sorted(c for c in called - external if c not in defined) == []


def test_the_module_index_names_every_module():
    """Every module of analysis/, judges/, the importers and bench/ is in the code map."""
    top_level_packages = {"analysis/__init__.py", "judges/__init__.py"}
    modules = [
        path.relative_to(ROOT).as_posix()
        for pattern in ("analysis/*.py", "judges/**/*.py", "studyapp/importers/*.py", "bench/*.py")
        for path in ROOT.glob(pattern)
    ]
    modules = [m for m in modules if m not in top_level_packages]
    assert len(modules) > 70
    assert sorted(m for m in modules if f"`{m}`" not in DOC) == []
