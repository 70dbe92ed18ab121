"""Researchers build reports through a worker task and download them; the CSV export streams."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from studyapp.models import StudyReport
from studyapp.services.demo import demo_accounts_ensure
from studyapp.services.reports import study_report_build, study_report_request
from studyapp.services.study_load import study_load

pytestmark = pytest.mark.django_db


def rated_study(tmp_path: Path):
    """A small study with three external raters and one imported judge on two criteria."""
    rows = []
    for i in range(12):
        base = 1 + i % 5
        rows.append(
            {
                "id": f"s{i}",
                "kind": "summary",
                "document": f"doc {i}",
                "summary": f"sum {i}",
                "persona": "p",
                "annotations": [
                    {
                        "rater": f"expert-{r}",
                        "ratings": {
                            "accuracy": min(5, base + (r == 2 and i % 3 == 0)),
                            "fit": 1 + (i + r) % 5,
                        },
                    }
                    for r in range(3)
                ],
                "judgments": [{"judge": "llm", "ratings": {"accuracy": base, "fit": 3}}],
            }
        )
    data = tmp_path / "items.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    spec = tmp_path / "study.yaml"
    spec.write_text(
        "slug: rated\ntitle: Rated\ndomains: [{name: med}]\npersonas: [{name: p}]\n"
        "rubric: {criteria: [{name: accuracy}, {name: fit}]}\n"
        f"sources: [{{path: {data}, format: native}}]\n"
    )
    return study_load(path=spec).study


def test_researcher_builds_views_and_downloads_a_report(
    client, tmp_path: Path, django_capture_on_commit_callbacks, eager
) -> None:
    study = rated_study(tmp_path)
    demo_accounts_ensure(study=study)
    client.login(username="researcher", password="concordance-demo")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/researcher/studies/{study.slug}/reports/")
    assert response.status_code == 302
    assert response["Location"] == f"/researcher/studies/{study.slug}/#reports"
    report = StudyReport.objects.get()
    assert report.status == "done", report.error
    assert report.requested_by.username == "researcher"

    page = client.get(f"/researcher/studies/{study.slug}/")
    assert f"/researcher/studies/{study.slug}/reports/{report.pk}/" in page.content.decode()

    html = client.get(f"/researcher/studies/{study.slug}/reports/{report.pk}/")
    assert html.status_code == 200
    assert html["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert "script-src" not in html["Content-Security-Policy"]
    body = html.content.decode()
    # No script and nothing fetched: the figures are inline SVG, the overview comes first.
    assert "<script" not in body and re.search(r"\bsrc=", body) is None
    assert body.index("id='overview'") < body.index("<details")

    data = json.loads(client.get(f"/researcher/studies/{study.slug}/reports/{report.pk}.json").content)
    assert data == report.data
    judges = {v["judge"] for v in data["verdicts"]}
    assert judges == {"llm"}


def test_csv_export_streams_every_label(client, tmp_path: Path) -> None:
    study = rated_study(tmp_path)
    demo_accounts_ensure(study=study)
    client.login(username="researcher", password="concordance-demo")
    response = client.get(f"/researcher/studies/{study.slug}/export.csv")
    assert response.status_code == 200 and response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # 12 items x (3 external raters + 1 judge) x 2 criteria
    assert len(rows) == 12 * 4 * 2
    assert {r["rater_kind"] for r in rows} == {"external", "judge"}


def test_a_failed_report_is_recorded_and_a_redelivered_one_is_not_rebuilt(tmp_path: Path) -> None:
    study = rated_study(tmp_path)
    report = StudyReport.objects.create(study=study, options={"n_resamples": 50})  # missing options
    assert study_report_build(report_id=report.pk).status == "failed"
    report.refresh_from_db()
    assert "KeyError" in report.error and report.finished_at is not None
    with pytest.raises(ValueError, match="unknown report option"):
        study_report_request(study=study, colour="red")
    done = StudyReport.objects.create(study=study, status="done", data={"kept": True})
    assert study_report_build(report_id=done.pk).data == {"kept": True}


def test_annotators_cannot_build_or_download_reports(client, tmp_path: Path) -> None:
    study = rated_study(tmp_path)
    demo_accounts_ensure(study=study)
    report = StudyReport.objects.create(study=study, status="done", data={}, html="<p>r</p>")
    client.login(username="annotator1", password="concordance-demo")
    for method, url in [
        ("post", f"/researcher/studies/{study.slug}/reports/"),
        ("get", f"/researcher/studies/{study.slug}/reports/{report.pk}/"),
        ("get", f"/researcher/studies/{study.slug}/reports/{report.pk}.json"),
        ("get", f"/researcher/studies/{study.slug}/export.csv"),
    ]:
        assert getattr(client, method)(url).status_code == 403, url
    assert StudyReport.objects.count() == 1
