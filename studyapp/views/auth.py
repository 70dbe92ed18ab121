"""Log-in pages (the site's and the admin's), refused while failed logins are over the limit."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from studyapp.ratelimits import login_wait, wait_text


def login_rate_limited(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A login POST gets 429 and a page saying when to try again while the limit is used up.

    Failures are counted where Django reports them (`user_login_failed`), so
    the form, the admin and HTTP Basic on the API share the count.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            wait = login_wait(request=request, username=request.POST.get("username", ""))
            if wait:
                return _too_many(request, wait)
        return view(request, *args, **kwargs)

    return wrapped


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    response = render(request, "registration/too_many_attempts.html", {"wait": wait_text(wait)}, status=429)
    response["Retry-After"] = str(wait)
    return response


__all__ = ["login_rate_limited"]
