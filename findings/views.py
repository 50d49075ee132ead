"""Finding pages: the incident partial and its htmx actions, a finding's page, and
the analyzer scorecards.

Every action answers an htmx request with the re-rendered findings partial and a
plain form post with a redirect to the incident page, so it works without JS.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from findings import selectors, services
from findings.models import (
    Finding,
    FindingSuggestion,
    RootCauseVerdict,
    SuggestionCategory,
)
from findings.permissions import can_act_on_findings, can_review_findings
from findings.scorecards import describe_lead
from postmortems.models import Incident

PARTIAL = "findings/_finding_section.html"


def _after_action(request: HttpRequest, incident: Incident) -> HttpResponse:
    if request.htmx:
        context = selectors.incident_findings_context(
            user=request.user, incident=incident
        )
        return render(request, PARTIAL, context)
    return redirect(incident.get_absolute_url())


@require_GET
def incident_findings(request: HttpRequest, pk: int) -> HttpResponse:
    """An incident's findings: the partial for htmx (refresh or lazy load), a page
    of its own otherwise."""
    incident = get_object_or_404(Incident.objects.select_related("team"), pk=pk)
    context = selectors.incident_findings_context(user=request.user, incident=incident)
    if request.htmx:
        return render(request, PARTIAL, context)
    return render(request, "findings/finding_incident.html", context)


@require_GET
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        finding = selectors.finding_detail(user=request.user, pk=pk)
    except Finding.DoesNotExist:
        raise Http404("No such finding.") from None
    return render(
        request,
        "findings/finding_detail.html",
        {
            "finding": finding,
            "raw_json": json.dumps(finding.raw, indent=2, sort_keys=True),
            "meta_json": json.dumps(finding.meta, indent=2, sort_keys=True),
        },
    )


@require_POST
def finding_add_to_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(Finding.objects.select_related("incident"), pk=pk)
    if not can_act_on_findings(request.user, finding.incident):
        raise PermissionDenied("Only the incident team's editors change its timeline.")
    services.finding_add_to_timeline(finding=finding, user=request.user)
    if not request.htmx:
        messages.success(request, "Added to the timeline.")
    response = _after_action(request, finding.incident)
    # The incident page's timeline can refresh itself on this event.
    response["HX-Trigger"] = "findings-timeline-changed"
    return response


@require_POST
def finding_verdict(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(Finding.objects.select_related("incident"), pk=pk)
    if not can_review_findings(request.user, finding.incident):
        raise PermissionDenied("Only reviewers mark root causes.")
    verdict = request.POST.get("verdict", "")
    if verdict and verdict not in RootCauseVerdict.values:
        return HttpResponse("Unknown verdict.", status=400)
    services.finding_set_verdict(finding=finding, verdict=verdict, user=request.user)
    return _after_action(request, finding.incident)


def _suggestion(pk: int) -> FindingSuggestion:
    return get_object_or_404(
        FindingSuggestion.objects.select_related(
            "finding", "finding__incident", "finding__incident__team"
        ),
        pk=pk,
    )


@require_POST
def finding_suggestion_accept(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = _suggestion(pk)
    incident = suggestion.finding.incident
    if not can_act_on_findings(request.user, incident):
        raise PermissionDenied("Only the incident team's editors accept suggestions.")
    category = request.POST.get("category") or None
    if category is not None and category not in SuggestionCategory.values:
        return HttpResponse("Unknown category.", status=400)
    try:
        item = services.finding_suggestion_accept(
            suggestion=suggestion, user=request.user, category=category
        )
    except services.SuggestionAlreadyDecided:
        messages.info(request, "Someone already decided on this suggestion.")
    else:
        if not request.htmx:
            messages.success(request, f"Created the action item “{item.title}”.")
    return _after_action(request, incident)


@require_POST
def finding_suggestion_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = _suggestion(pk)
    incident = suggestion.finding.incident
    if not can_act_on_findings(request.user, incident):
        raise PermissionDenied("Only the incident team's editors dismiss suggestions.")
    try:
        services.finding_suggestion_dismiss(suggestion=suggestion, user=request.user)
    except services.SuggestionAlreadyDecided:
        messages.info(request, "Someone already decided on this suggestion.")
    return _after_action(request, incident)


@require_GET
def analyzer_scorecards(request: HttpRequest) -> HttpResponse:
    cards = selectors.analyzer_scorecards()
    rows = [
        {"card": card, "lead": describe_lead(card.median_lead_seconds)}
        for card in cards
    ]
    chart = {
        "labels": [f"{c.analyzer} {c.version}".strip() for c in cards],
        "confirmed": [c.confirmed_percent for c in cards],
    }
    return render(
        request,
        "findings/analyzer_scorecards.html",
        {"rows": rows, "chart": chart},
    )
