from django.apps import AppConfig


class StudyappConfig(AppConfig):
    name = "studyapp"
    verbose_name = "Concordance studies"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib.auth.signals import user_login_failed
        from django.core.exceptions import ImproperlyConfigured

        from studyapp import checks  # noqa: F401  (registers the system checks)
        from studyapp.ratelimits import login_failed, rate_parse

        for scope, text in settings.RATE_LIMITS.items():
            try:
                rate_parse(text)
            except ValueError as error:
                raise ImproperlyConfigured(f"rate limit {scope}: {error}") from error
        user_login_failed.connect(login_failed, dispatch_uid="concordance-login-failed")
