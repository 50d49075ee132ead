"""Postmortem pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from postmortems import selectors


def postmortem_list(request: HttpRequest) -> HttpResponse:
    postmortems = selectors.postmortem_list(user=request.user)
    return render(
        request, "postmortems/postmortem_list.html", {"postmortems": postmortems}
    )


def postmortem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Not visible is the same as not there: a 404 does not reveal private drafts.
    postmortem = get_object_or_404(selectors.postmortem_list(user=request.user), pk=pk)
    return render(
        request, "postmortems/postmortem_detail.html", {"postmortem": postmortem}
    )
