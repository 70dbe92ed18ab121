from django.urls import path

from studyapp.views import annotator, home, reports, researcher

# Every URL name is its view's name (tests/studyapp/test_urls.py checks it).
app_name = "studyapp"
urlpatterns = [
    path("", home.home, name="home"),
    path("studies/<slug:slug>/", annotator.study_entry, name="study_entry"),
    path("studies/<slug:slug>/consent/", annotator.consent, name="consent"),
    path("studies/<slug:slug>/instructions/", annotator.instructions, name="instructions"),
    path("studies/<slug:slug>/queue/", annotator.queue, name="queue"),
    path("studies/<slug:slug>/next/", annotator.next_item, name="next_item"),
    path("assignments/<int:pk>/", annotator.assignment_page, name="assignment_page"),
    path("p/<slug:slug>/", annotator.participant_link, name="participant_link"),
    path("researcher/studies/<slug:slug>/", researcher.dashboard, name="dashboard"),
    path("researcher/studies/<slug:slug>/reports/", reports.report_create, name="report_create"),
    path("researcher/studies/<slug:slug>/live/", researcher.live_refresh_create, name="live_refresh_create"),
    path(
        "researcher/studies/<slug:slug>/judge-runs/",
        researcher.judge_run_create,
        name="judge_run_create",
    ),
    path(
        "researcher/studies/<slug:slug>/judge-runs/<int:pk>/cancel/",
        researcher.judge_run_cancel,
        name="judge_run_cancel",
    ),
    path(
        "researcher/studies/<slug:slug>/allocation/",
        researcher.allocation_draw_now,
        name="allocation_draw_now",
    ),
    path("researcher/studies/<slug:slug>/reports/<int:pk>/", reports.report_html, name="report_html"),
    path("researcher/studies/<slug:slug>/reports/<int:pk>.json", reports.report_json, name="report_json"),
    path("researcher/studies/<slug:slug>/export.csv", reports.export_csv, name="export_csv"),
]
