"""The postmortem list with filters and search (the incident list is in incidents)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from postmortems import selectors
from postmortems.filters import PostmortemFilter
from postmortems.views.incidents import paginate


def postmortem_list(request: HttpRequest) -> HttpResponse:
    filterset = PostmortemFilter(
        request.GET or None,
        queryset=selectors.postmortem_list(user=request.user),
        request=request,
    )
    page = paginate(request, filterset.qs)
    return render(
        request,
        "postmortems/postmortem_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "postmortems": page.object_list,
            "filtered": any(
                value for key, value in request.GET.items() if key != "page"
            ),
        },
    )
