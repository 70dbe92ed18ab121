from django.urls import path

from studyapp import views, views_annotator, views_reports, views_researcher

app_name = "studyapp"
urlpatterns = [
    path("", views.home, name="home"),
    path("studies/<slug:slug>/", views_annotator.study_entry, name="study"),
    path("studies/<slug:slug>/consent/", views_annotator.consent, name="consent"),
    path("studies/<slug:slug>/instructions/", views_annotator.instructions, name="instructions"),
    path("studies/<slug:slug>/queue/", views_annotator.queue, name="queue"),
    path("studies/<slug:slug>/next/", views_annotator.next_item, name="next"),
    path("assignments/<int:pk>/", views_annotator.assignment_page, name="assignment"),
    path("p/<slug:slug>/", views_annotator.participant_link, name="participant_link"),
    path("researcher/studies/<slug:slug>/", views_researcher.dashboard, name="researcher_dashboard"),
    path("researcher/studies/<slug:slug>/reports/", views_reports.report_create, name="report_create"),
    path(
        "researcher/studies/<slug:slug>/judge-runs/",
        views_researcher.judge_run_create,
        name="judge_run_create",
    ),
    path(
        "researcher/studies/<slug:slug>/judge-runs/<int:pk>/cancel/",
        views_researcher.judge_run_stop,
        name="judge_run_cancel",
    ),
    path("researcher/studies/<slug:slug>/reports/<int:pk>/", views_reports.report_html, name="report_html"),
    path(
        "researcher/studies/<slug:slug>/reports/<int:pk>.json", views_reports.report_json, name="report_json"
    ),
    path("researcher/studies/<slug:slug>/export.csv", views_reports.export_csv, name="export_csv"),
]
