from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from studyapp.views.auth import login_rate_limited


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for compose healthchecks: the app is up and the database answers."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("healthz", healthz),
    # The two log-in pages, rate limited (before the includes that hold them unlimited).
    path("admin/login/", login_rate_limited(admin.site.login)),
    path("accounts/login/", login_rate_limited(LoginView.as_view()), name="login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("studyapp.api.urls")),
    path("", include("studyapp.urls")),
]
