from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from studyapp.api import views

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("studies/<slug:slug>/join/", views.JoinView.as_view(), name="join"),
    path("studies/<slug:slug>/next/", views.NextView.as_view(), name="next"),
    path("studies/<slug:slug>/progress/", views.ProgressView.as_view(), name="progress"),
    path("assignments/<int:pk>/", views.AssignmentView.as_view(), name="assignment"),
    path("assignments/<int:pk>/draft/", views.DraftView.as_view(), name="draft"),
    path("assignments/<int:pk>/submit/", views.SubmitView.as_view(), name="submit"),
    path("assignments/<int:pk>/skip/", views.SkipView.as_view(), name="skip"),
    path("assignments/<int:pk>/flag/", views.FlagView.as_view(), name="flag"),
]
