"""The timeline editor on the incident page: htmx partials, full pages without JS.

Every write answers an htmx request with the refreshed partial, and a plain form
post with a redirect back to the incident page, so the editor also works without
JavaScript.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from postmortems import selectors
from postmortems.incident_forms import TimelineEntryForm
from postmortems.models import Incident, TimelineEntry
from postmortems.services import timeline as timeline_services
from postmortems.views.incidents import (
    incident_for_write,
    new_entry_form,
    render_incident_page,
    timeline_context,
)


def _entries(incident: Incident) -> list[TimelineEntry]:
    return list(selectors.timeline_entries(incident=incident))


def _render_entries(request, incident, **kwargs) -> HttpResponse:
    context = timeline_context(request, incident, _entries(incident), **kwargs)
    return render(request, "postmortems/_timeline_entries.html", context)


@require_GET
def timeline_entries(request: HttpRequest, pk: int) -> HttpResponse:
    """The list of entries (used to cancel an edit)."""
    incident = get_object_or_404(Incident, pk=pk)
    return _render_entries(request, incident)


@require_POST
def timeline_entry_create(request: HttpRequest, pk: int) -> HttpResponse:
    incident = incident_for_write(request, pk)
    form = TimelineEntryForm(request.POST, prefix="new")
    if form.is_valid():
        timeline_services.timeline_entry_create(
            incident=incident, actor=request.user, **form.cleaned_data
        )
        if not request.htmx:
            messages.success(request, "Timeline entry added.")
            return redirect(incident)
        entries = _entries(incident)
        form = new_entry_form(incident, entries, request.user, focus=True)
    elif not request.htmx:
        return render_incident_page(
            request, selectors.incident_detail(pk=pk), entry_form=form, status=422
        )
    else:
        entries = _entries(incident)
    context = {
        **timeline_context(request, incident, entries),
        "entry_form": form,
    }
    return render(request, "postmortems/_timeline.html", context)


def timeline_entry_edit(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    """GET: the entry's edit form in place. POST: save it."""
    incident = incident_for_write(request, pk)
    entry = get_object_or_404(TimelineEntry, pk=entry_pk, incident=incident)
    if request.method != "POST":
        if not request.htmx:
            return redirect(
                f"{incident.get_absolute_url()}?edit={entry.pk}#entry-{entry.pk}"
            )
        return _render_entries(request, incident, editing=entry)
    form = TimelineEntryForm(request.POST, instance=entry, prefix="edit")
    if form.is_valid():
        timeline_services.timeline_entry_update(
            entry=entry, actor=request.user, **form.cleaned_data
        )
        if not request.htmx:
            messages.success(request, "Timeline entry saved.")
            return redirect(incident)
        return _render_entries(request, incident)
    # The form updated the in-memory entry; show the saved one beside the errors.
    entry.refresh_from_db()
    if not request.htmx:
        return render_incident_page(
            request,
            selectors.incident_detail(pk=pk),
            editing=entry,
            edit_form=form,
            status=422,
        )
    return _render_entries(request, incident, editing=entry, edit_form=form)


@require_POST
def timeline_entry_delete(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    incident = incident_for_write(request, pk)
    entry = get_object_or_404(TimelineEntry, pk=entry_pk, incident=incident)
    timeline_services.timeline_entry_delete(entry=entry, actor=request.user)
    if not request.htmx:
        messages.success(request, "Timeline entry deleted.")
        return redirect(incident)
    return _render_entries(request, incident)
