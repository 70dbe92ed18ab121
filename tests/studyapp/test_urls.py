"""URL names are the names of their views, so a template's `{% url %}` says which view it reaches."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver


def _patterns(namespace: str) -> list[URLPattern]:
    resolver = get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == namespace:
            return [p for p in entry.url_patterns if isinstance(p, URLPattern)]
    raise AssertionError(f"no URL namespace {namespace!r}")


def test_page_url_names_are_their_view_names():
    patterns = _patterns("studyapp")
    assert len(patterns) >= 15
    mismatched = {p.name: p.callback.__name__ for p in patterns if p.name != p.callback.__name__}
    assert mismatched == {}


def test_api_url_names_are_their_view_class_names():
    """`SubmitView` is `api:submit`; the schema and docs views are drf-spectacular's own."""
    named = {}
    for p in _patterns("api"):
        cls = p.callback.view_class  # type: ignore[attr-defined]
        if cls.__module__.startswith("studyapp."):
            named[p.name] = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("View")).lower()
    assert len(named) >= 8
    assert {name: view for name, view in named.items() if name != view} == {}
