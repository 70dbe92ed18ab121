"""A report build whose real worker is killed with SIGKILL is built again by the next
worker, once: killed twice, the report is failed with attempts=2 and says why, instead
of being built forever. On the embedded default and on Redis; no visibility timeout."""

from __future__ import annotations

import pytest

from studyapp.models import StudyReport
from studyapp.services.reports import study_report_request
from studyapp.services.study_load import study_load
from tests.studyapp.report_study import write_report_study
from tests.support.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# A build that takes seconds (about 6 s on a quiet machine): each kill below lands
# within 50 ms of the build starting, long before it can end.
SLOW = {"n_resamples": 10_000}


def building(report: StudyReport, attempts: int) -> bool:
    report.refresh_from_db()
    return report.status == StudyReport.Status.RUNNING and report.attempts == attempts


def test_a_report_killed_twice_fails_with_two_attempts(tmp_path, broker, workers):
    study = study_load(path=write_report_study(tmp_path, n_reasoning=60, n_summary=40)).study
    report = study_report_request(study=study, **SLOW)  # enqueued on commit

    for attempt, name in ((1, "first"), (2, "second")):
        worker = workers.start(name)  # the second finds the first's build as it starts
        wait_until(lambda attempt=attempt: building(report, attempt), f"build {attempt} to start")
        workers.kill(worker)
        report.refresh_from_db()
        assert (report.status, report.attempts, report.data) == (StudyReport.Status.RUNNING, attempt, None)

    workers.start("third")
    wait_until(lambda: StudyReport.objects.get(pk=report.pk).status == StudyReport.Status.FAILED, "failed")
    report.refresh_from_db()
    assert report.attempts == 2 and report.worker is None and report.finished_at is not None
    assert report.error.startswith("the worker process building this report died 2 times (attempts 2)")
    assert "out of memory" in report.error
    assert "not built again" in report.error


@pytest.mark.parametrize("broker", ["filesystem"], indirect=True)  # on Redis: the test above
def test_a_report_killed_once_is_built_by_the_next_worker(tmp_path, broker, workers):
    study = study_load(path=write_report_study(tmp_path, n_reasoning=60, n_summary=40)).study
    report = study_report_request(study=study, **SLOW)
    worker = workers.start("first")
    wait_until(lambda: building(report, 1), "the build to start")
    workers.kill(worker)

    workers.start("second")
    wait_until(lambda: StudyReport.objects.get(pk=report.pk).status == StudyReport.Status.DONE, "built")
    report.refresh_from_db()
    assert report.attempts == 2 and report.error == "" and report.worker is None
    assert report.data["settings"]["n_resamples"] == SLOW["n_resamples"] and report.html
