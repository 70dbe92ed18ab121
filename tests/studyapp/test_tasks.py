"""What `studyapp/tasks.py` says about acknowledgement is what Celery does with each task,
and the tasks and services import each other in one direction only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from config.celery import app
from studyapp import tasks

ROW = re.compile(r"^\s+(studyapp\.tasks\.\w+)\s+(True|False)\s+(True|False)\s*$", re.MULTILINE)
ROOT = Path(__file__).resolve().parents[2]


def test_each_tasks_effective_acknowledgement_is_what_the_docstring_says():
    said = {name: (late == "True", lost == "True") for name, late, lost in ROW.findall(tasks.__doc__ or "")}
    app.loader.import_default_modules()
    registered = {name: task for name, task in app.tasks.items() if name.startswith("studyapp.")}
    assert set(said) == set(registered), "every task, and only those, in the docstring's table"
    for name, task in registered.items():
        assert (task.acks_late, task.reject_on_worker_lost) == said[name], name


def test_no_task_sets_its_own_acknowledgement_flags():
    """One policy, in settings: a flag on a task would say something the table must repeat."""
    tree = ast.parse((ROOT / "studyapp" / "tasks.py").read_text())
    flags = {"acks_late", "reject_on_worker_lost", "acks_on_failure_or_timeout"}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "shared_task":
            assert not {kw.arg for kw in call.keywords} & flags


def _imports(nodes) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_services_import_tasks_at_the_top_and_tasks_import_services_in_their_bodies():
    """The HackSoft direction: no import cycle hidden inside a function."""
    tasks_module = ast.parse((ROOT / "studyapp" / "tasks.py").read_text())
    assert not {n for n in _imports(tasks_module.body) if n.startswith("studyapp.services")}
    for path in sorted((ROOT / "studyapp" / "services").glob("*.py")):
        tree = ast.parse(path.read_text())
        top = _imports(tree.body)
        inside = _imports(n for n in ast.walk(tree) if n not in tree.body)
        assert "studyapp.tasks" not in inside, f"{path.name} imports the tasks inside a function"
        if path.stem in ("judge_runs", "reports"):
            assert "studyapp.tasks" in top, path.name
