"""Page views are thin interfaces: they call selectors and services, never the ORM themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import studyapp.views

VIEWS = Path(studyapp.views.__file__).parent
# What a view must not do itself: query (managers, querysets, 404 shortcuts) or write rows.
ORM_ATTRIBUTES = {"objects", "order_by", "filter", "exclude", "save", "delete", "refresh_from_db"}
ORM_FUNCTIONS = {"get_object_or_404", "get_list_or_404"}


def _orm_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in ORM_ATTRIBUTES:
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in ORM_FUNCTIONS:
            found.append(f"{path.name}:{node.lineno} {node.id}")
    return found


def test_the_views_package_holds_every_page_view():
    pages = {"home", "annotator", "researcher", "reports", "auth"}
    assert {p.stem for p in VIEWS.glob("*.py")} == {"__init__", *pages}


def test_page_views_make_no_orm_calls():
    assert [use for path in sorted(VIEWS.glob("*.py")) for use in _orm_uses(path)] == []
