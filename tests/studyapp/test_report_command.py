"""python manage.py report SLUG --format html|json|csv --out PATH."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from studyapp.selectors.ratings import EXPORT_COLUMNS, ratings_table
from tests.studyapp.report_study import load_report_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(tmp_path: Path):
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    return load_report_study(spec_dir, n_reasoning=10, n_summary=8)


def test_json_report(study, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    call_command("report", "rep", "--format", "json", "--out", str(out), "--resamples", "100")
    data = json.loads(out.read_text())
    assert data["schema_version"] == 2 and data["domains"] == ["math", "medical"]
    groups = {(g["domain"], g["level"], g["criterion"]) for g in data["groups"]}
    assert groups == {
        ("math", "step_label", "trajectory"),
        ("math", "step_label", "response"),
        ("math", "first_error", ""),
        ("medical", "rubric", "accuracy"),
    }
    judges = {(v["level"], v["criterion"], v["judge"]) for v in data["verdicts"]}
    assert ("step_label", "response", "sprm") in judges and ("rubric", "accuracy", "critic") in judges
    rubric = next(g for g in data["groups"] if g["level"] == "rubric")
    assert rubric["categories"] == [1.0, 2.0, 3.0, 4.0, 5.0]  # the criterion's declared scale
    assert data["settings"]["scales"]["rubric/accuracy"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    response = next(g for g in data["groups"] if g["criterion"] == "response")
    assert response["humans"] == ["ann-1", "ann-2", "ann-3"]
    sprm = next(j for j in response["judges_vs_humans"] if j["judge"] == "sprm")
    assert sprm["continuous_scores"] and sprm["calibration"]["n"] == 30
    assert sprm["alt_test"]["winning_rate"] is not None  # three humans: the test ran


def test_html_report_is_one_self_contained_file(study, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    call_command("report", "rep", "--format", "html", "--out", str(out), "--resamples", "100")
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "Report test (rep)" in page and "Overview: can the judges replace people here?" in page
    assert "sprm" in page


def test_csv_export_streams_every_rating(study, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    call_command("report", "rep", "--format", "csv", "--out", str(out))
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert len(rows) == len(ratings_table(study=study))
    assert {r["source"] for r in rows} == {"annotation label", "judgment label", "annotation", "judgment"}


def test_unknown_study(db) -> None:
    with pytest.raises(CommandError, match="no study with slug 'nope'"):
        call_command("report", "nope", "--format", "json")


def test_a_study_without_ratings_gives_an_empty_report(tmp_path: Path) -> None:
    from studyapp.services.study_load import study_load

    root = Path(__file__).resolve().parents[2]
    study_load(path=root / "fixtures" / "demo" / "study.yaml")
    out = tmp_path / "demo.json"
    call_command("report", "demo", "--format", "json", "--out", str(out))
    data = json.loads(out.read_text())
    assert data["n_ratings"] == 0 and data["groups"] == [] and data["verdicts"] == []
    page = tmp_path / "demo.html"
    call_command("report", "demo", "--format", "html", "--out", str(page))
    assert "No judge ratings." in page.read_text()
