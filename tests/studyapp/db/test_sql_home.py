"""Hand-written SQL lives in studyapp/db/ only, and spells no status, role or kind by hand."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

import studyapp
from studyapp.db import callers, claim, live, submit
from studyapp.db.rows import literal

ROOT = Path(studyapp.__file__).parent
# Statements the ORM did not write: a cursor's execute, raw querysets, RawSQL, extra().
RAW_CALLS = {"execute", "executemany", "raw", "RawSQL", "extra"}
# Calls of those names that run no SQL: a Redis pipeline's execute.
NOT_SQL = {(Path("ratelimits.py"), "pipe")}
STATEMENTS = {
    "claim": claim.CLAIM_SQL_POSTGRES,
    "claim (portable)": claim.CLAIM_SQL_PORTABLE,
    "participation lock": claim.LOCK_SQL_POSTGRES,
    "submit": submit.STORE_SQL_POSTGRES,
    "API caller's rater": callers.RATER_SQL_POSTGRES,
    "API caller's assignment": callers.ASSIGNMENT_SQL_POSTGRES,
    "live snapshot pending": live.PENDING_SQL,
}


def _raw_sql_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            receiver = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            if name in RAW_CALLS and (path.relative_to(ROOT), receiver) not in NOT_SQL:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return found


def test_no_hand_written_statement_outside_studyapp_db():
    modules = [p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] not in ("db", "migrations")]
    assert len(modules) > 40
    assert [call for path in sorted(modules) for call in _raw_sql_calls(path)] == []


def _choice_values() -> set[str]:
    values = set()
    for model in apps.get_app_config("studyapp").get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.CharField) and field.choices:
                values.update(str(value) for value, _ in field.flatchoices)
    return values


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_statements_take_choice_values_from_the_models(name):
    values = _choice_values()
    assert {"queued", "claimed", "submitted", "item", "human"} <= values
    spelled = sorted(v for v in values if re.search(rf"'{re.escape(v)}'", STATEMENTS[name]))
    assert spelled == []


def test_a_choice_value_becomes_a_quoted_literal_and_nothing_else_does():
    assert literal("queued") == "'queued'"
    for bad in ("", "queued'; DROP TABLE x; --", "Queued", "a b", "1st"):
        with pytest.raises(ValueError):
            literal(bad)
