"""HTTP Basic on the API, refused while the caller's failed logins are over the limit."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import BasicScheme
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import Throttled

from studyapp.ratelimits import login_wait, wait_text


class RateLimitedBasicAuthentication(BasicAuthentication):
    """Basic authentication with the login form's limit on failures (429 with Retry-After)."""

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        wait = login_wait(request=request, username=userid)
        if wait:
            raise Throttled(wait=wait, detail=f"Too many failed log-ins; try again in {wait_text(wait)}.")
        return super().authenticate_credentials(userid, password, request)


class RateLimitedBasicScheme(BasicScheme):
    """The OpenAPI security scheme of `RateLimitedBasicAuthentication`: HTTP Basic, as DRF's."""

    target_class = "studyapp.api.authentication.RateLimitedBasicAuthentication"
