"""Incident pages."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from postmortems import selectors
from postmortems.models import Incident


def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = selectors.incident_list(user=request.user)
    return render(request, "postmortems/incident_list.html", {"incidents": incidents})


def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        incident = selectors.incident_detail(pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None
    return render(request, "postmortems/incident_detail.html", {"incident": incident})
