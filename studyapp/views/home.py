from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studyapp.permissions import is_researcher
from studyapp.selectors.studies import study_list_with_counts


def home(request: HttpRequest) -> HttpResponse:
    """The front page: open studies; researchers see every study with its status."""
    researcher = is_researcher(request.user)
    return render(
        request,
        "studyapp/home.html",
        {"studies": study_list_with_counts(open_only=not researcher), "is_researcher": researcher},
    )
