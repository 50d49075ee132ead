"""Incident pages: the list, declare and edit, the incident page, corrections."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from postmortems import extensions, selectors
from postmortems.filters import IncidentFilter
from postmortems.incident_forms import (
    IncidentForm,
    TimelineEntryForm,
    TimestampCorrectionForm,
)
from postmortems.metrics import incident_metrics
from postmortems.models import (
    SEVERITY_DEFINITIONS,
    Incident,
    Role,
    TimelineEntry,
)
from postmortems.permissions import (
    can_edit_incident,
    has_role,
    is_admin,
    team_ids,
)
from postmortems.services import incidents as incident_services

PAGE_SIZE = 25


def paginate(request: HttpRequest, queryset: QuerySet) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def incident_for_write(request: HttpRequest, pk: int) -> Incident:
    """The incident if the user may change it: 404 for other teams, 403 for viewers."""
    incident = get_object_or_404(Incident, pk=pk)
    if can_edit_incident(request.user, incident):
        return incident
    if incident.team_id in team_ids(request.user):
        raise PermissionDenied("Viewers cannot change incidents.")
    raise Http404("No such incident.")


def can_correct_timestamps(user, incident: Incident) -> bool:
    """Reviewers of the incident's team (and admins) correct recorded timestamps."""
    if is_admin(user):
        return True
    return has_role(user, Role.REVIEWER) and incident.team_id in team_ids(user)


def _postmortem_of(incident: Incident):
    try:
        return incident.postmortem
    except Incident.postmortem.RelatedObjectDoesNotExist:
        return None


def _add_service_errors(form, exc: ValidationError) -> None:
    """A service's refusal shown on the form, against the field it names."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def timeline_context(
    request: HttpRequest,
    incident: Incident,
    entries: list[TimelineEntry],
    *,
    editing: TimelineEntry | None = None,
    edit_form: TimelineEntryForm | None = None,
) -> dict:
    """What the timeline partials need: entries grouped by day in the viewer's zone."""
    days: list[dict] = []
    for entry in entries:
        day = _local_date(entry.occurred_at)
        if not days or days[-1]["date"] != day:
            days.append({"date": day, "entries": []})
        days[-1]["entries"].append(entry)
    span = {day["date"] for day in days} | {_local_date(incident.started_at)}
    if incident.resolved_at:
        span.add(_local_date(incident.resolved_at))
    if editing is not None and edit_form is None:
        edit_form = TimelineEntryForm(instance=editing, prefix="edit")
    return {
        "incident": incident,
        "timeline_days": days,
        "timeline_count": len(entries),
        "spans_days": len(span) > 1,
        "single_day": min(span),
        "can_edit": can_edit_incident(request.user, incident),
        "editing_id": editing.pk if editing is not None else None,
        "edit_form": edit_form,
        "tz": timezone.get_current_timezone_name(),
    }


def new_entry_form(
    incident: Incident, entries: list[TimelineEntry], user, *, focus: bool = False
) -> TimelineEntryForm:
    """An empty add form, its time set where the story left off."""
    last = entries[-1].occurred_at if entries else incident.started_at
    form = TimelineEntryForm(
        prefix="new",
        initial={"occurred_at": timezone.localtime(last), "author": user},
    )
    if focus:
        # After an htmx add, the cursor is ready for the next entry.
        form.fields["text"].widget.attrs["autofocus"] = True
    return form


def incident_list(request: HttpRequest) -> HttpResponse:
    filterset = IncidentFilter(
        request.GET or None,
        queryset=selectors.incident_list(user=request.user),
        request=request,
    )
    page = paginate(request, filterset.qs)
    return render(
        request,
        "postmortems/incident_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "incidents": page.object_list,
            "filtered": any(
                value for key, value in request.GET.items() if key != "page"
            ),
            "can_declare": has_role(request.user, Role.EDITOR)
            and (is_admin(request.user) or bool(team_ids(request.user))),
        },
    )


def incident_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not has_role(user, Role.EDITOR) or not (is_admin(user) or team_ids(user)):
        raise PermissionDenied("Only editors of a team declare incidents.")
    if request.method == "POST":
        form = IncidentForm(request.POST, user=user)
        if form.is_valid():
            try:
                incident = incident_services.incident_create(
                    actor=user, **form.cleaned_data
                )
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(request, f"{incident.reference} declared.")
                return redirect(incident)
    else:
        form = IncidentForm(
            user=user,
            initial={"started_at": timezone.localtime().replace(second=0)},
        )
    return render(
        request,
        "postmortems/incident_form.html",
        {"form": form, "incident": None, "tz": timezone.get_current_timezone_name()},
        status=400 if form.errors else 200,
    )


def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = incident_for_write(request, pk)
    locked = incident_services.locked_timestamps(incident)
    if request.method == "POST":
        form = IncidentForm(
            request.POST, instance=incident, user=request.user, locked=locked
        )
        if form.is_valid():
            data = dict(form.cleaned_data)
            services = data.pop("services")
            try:
                incident_services.incident_update(
                    incident=incident, actor=request.user, services=services, **data
                )
            except ValidationError as exc:
                _add_service_errors(form, exc)
                form.show_locked_as_recorded()
            else:
                messages.success(request, f"{incident.reference} saved.")
                return redirect(incident)
    else:
        form = IncidentForm(instance=incident, user=request.user, locked=locked)
    return render(
        request,
        "postmortems/incident_form.html",
        {
            "form": form,
            "incident": incident,
            "tz": timezone.get_current_timezone_name(),
        },
        status=400 if form.errors else 200,
    )


def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        incident = selectors.incident_detail(pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None
    editing = None
    if "edit" in request.GET and can_edit_incident(request.user, incident):
        # Without JavaScript, "Edit" on a timeline entry reloads the page with it
        # open in place.
        editing = next(
            (e for e in incident.timeline.all() if str(e.pk) == request.GET["edit"]),
            None,
        )
    return render_incident_page(request, incident, editing=editing)


def render_incident_page(
    request: HttpRequest,
    incident: Incident,
    *,
    entry_form: TimelineEntryForm | None = None,
    correction_form: TimestampCorrectionForm | None = None,
    editing: TimelineEntry | None = None,
    edit_form: TimelineEntryForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    entries = list(incident.timeline.all())
    postmortem = _postmortem_of(incident)
    can_edit = can_edit_incident(user, incident)
    can_correct = can_correct_timestamps(user, incident)
    context = {
        **timeline_context(
            request, incident, entries, editing=editing, edit_form=edit_form
        ),
        "can_correct": can_correct,
        "timestamps_locked": postmortem is not None and postmortem.is_public,
        "metrics": incident_metrics(incident.lifecycle),
        "severity_definition": SEVERITY_DEFINITIONS.get(incident.severity, ""),
        "lifecycle": [
            {"name": name, "label": label, "value": getattr(incident, name)}
            for name, label in (
                ("started_at", "Started"),
                ("detected_at", "Detected"),
                ("acknowledged_at", "Acknowledged"),
                ("mitigated_at", "Mitigated"),
                ("resolved_at", "Resolved"),
            )
        ],
        "roles": [
            ("Incident commander", incident.commander),
            ("Communications lead", incident.comms_lead),
            ("Operations lead", incident.ops_lead),
            ("Scribe", incident.scribe),
        ],
        "timestamp_changes": selectors.incident_timestamp_changes(incident=incident),
        # Panels other apps register (findings, insights), by column.
        "panel_templates": extensions.panels_in(extensions.incident_panels, "main"),
        "aside_panel_templates": extensions.panels_in(
            extensions.incident_panels, "aside"
        ),
    }
    if can_edit:
        context["entry_form"] = entry_form or new_entry_form(incident, entries, user)
    if can_correct:
        context["correction_form"] = correction_form or TimestampCorrectionForm()
    return render(request, "postmortems/incident_detail.html", context, status=status)


@require_POST
def incident_correct(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    if not can_correct_timestamps(request.user, incident):
        if incident.team_id in team_ids(request.user):
            raise PermissionDenied("Only reviewers correct timestamps.")
        raise Http404("No such incident.")
    form = TimestampCorrectionForm(request.POST)
    if form.is_valid():
        try:
            incident_services.incident_correct_timestamp(
                incident=incident,
                actor=request.user,
                field=form.cleaned_data["field"],
                value=form.cleaned_data["value"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Timestamp corrected; the change is recorded.")
            return redirect(incident)
    incident = selectors.incident_detail(pk=pk)
    return render_incident_page(request, incident, correction_form=form, status=422)
