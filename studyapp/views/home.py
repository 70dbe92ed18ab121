from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studyapp.permissions import is_researcher
from studyapp.selectors.studies import study_list_with_counts


def home(request: HttpRequest) -> HttpResponse:
    """The front page: the studies and what they hold."""
    return render(
        request,
        "studyapp/home.html",
        {"studies": study_list_with_counts(), "is_researcher": is_researcher(request.user)},
    )
