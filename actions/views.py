"""Action item pages: list, mine, detail, create/edit, CSV, dashboard, reviews, and
the htmx panel on the postmortem page. Thin: selectors read, services write."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.validators import slug_re
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from actions import permissions, selectors, services
from actions.csv_export import csv_lines
from actions.filters import ActionItemFilter
from actions.forms import (
    ActionItemForm,
    InlineActionItemForm,
    LeadershipReviewForm,
    ReviewDecisionForm,
    StatusForm,
)
from actions.models import ActionItem, LeadershipReview
from postmortems.models import Postmortem, Team

PAGE_SIZE = 50
# Filter parameters that stay in the "More filters" box unless used.
MORE_FILTERS = (
    "severity",
    "age",
    "postmortem",
    "done_on_time",
    "owner_none",
    "tracker",
)


def _filtered(request: HttpRequest) -> ActionItemFilter:
    return ActionItemFilter(
        request.GET or None, queryset=selectors.action_item_list(user=request.user)
    )


def _querystring(request: HttpRequest, **drop) -> str:
    params = request.GET.copy()
    for key in ("page", *drop):
        params.pop(key, None)
    return params.urlencode()


def _page_of(queryset, number):
    """One page of ``queryset``: ordered ids first, then the full rows of those.

    Sorting only ids keeps the sort narrow at 50,000 items; the wide rows (with
    their joins) are read for the page alone. Always three queries.
    """
    page = Paginator(queryset.values_list("pk", flat=True), PAGE_SIZE).get_page(number)
    ids = list(page.object_list)
    rows = queryset.order_by().in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def item_list(request: HttpRequest) -> HttpResponse:
    filterset = _filtered(request)
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    page = _page_of(queryset, request.GET.get("page"))
    return render(
        request,
        "actions/actionitem_list.html",
        {
            "filter": filterset,
            "page": page,
            "items": page.object_list,
            "query": _querystring(request),
            "export_query": _querystring(request),
            "more_open": any(request.GET.get(k) for k in MORE_FILTERS),
            "owner_options": selectors.owner_options(),
            "can_create": permissions.can_create_items(request.user),
            "today": timezone.localdate(),
        },
    )


def item_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV (same filters as the page), safe for spreadsheets."""
    filterset = _filtered(request)
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    today = timezone.localdate()
    base = request.build_absolute_uri("/").rstrip("/")
    header = [
        "id",
        "title",
        "status",
        "priority",
        "category",
        "team",
        "owner",
        "due_date",
        "overdue",
        "completed_at",
        "status_reason",
        "verification_note",
        "postmortem",
        "tracker",
        "tracker_key",
        "tracker_url",
        "url",
    ]

    def rows():
        for item in queryset.iterator(chunk_size=2000):
            yield [
                item.pk,
                item.title,
                item.get_status_display(),
                item.priority,
                item.get_category_display(),
                item.team.name,
                item.owner.username if item.owner else "",
                item.due_date.isoformat() if item.due_date else "",
                "yes"
                if item.is_open and item.due_date and item.due_date < today
                else "",
                item.completed_at.isoformat() if item.completed_at else "",
                item.status_reason,
                item.verification_note,
                str(item.postmortem.incident) if item.postmortem else "",
                item.get_tracker_provider_display() if item.tracker_provider else "",
                item.tracker_key,
                item.tracker_url,
                base + item.get_absolute_url(),
            ]

    response = StreamingHttpResponse(
        csv_lines(header, rows()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="action-items-{today.isoformat()}.csv"'
    )
    return response


def my_items(request: HttpRequest) -> HttpResponse:
    items = list(selectors.my_action_items(user=request.user))
    return render(
        request,
        "actions/actionitem_mine.html",
        {
            "open_items": [i for i in items if i.is_open],
            "closed_items": [i for i in items if not i.is_open][:50],
            "today": timezone.localdate(),
        },
    )


def _item_or_404(request: HttpRequest, pk: int) -> ActionItem:
    try:
        return selectors.action_item_detail(user=request.user, pk=pk)
    except ActionItem.DoesNotExist:
        raise Http404("No such action item.") from None


def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    return _render_detail(request, item)


def _render_detail(
    request, item, *, status_form=None, decision_form=None, status=200
) -> HttpResponse:
    can_edit = permissions.can_edit_item(request.user, item)
    can_review = permissions.can_record_reviews(request.user)
    return render(
        request,
        "actions/actionitem_detail.html",
        {
            "item": item,
            "history": selectors.history_entries(item),
            "decisions": item.decision_list,
            "can_edit": can_edit,
            "can_review": can_review,
            "status_form": status_form
            or (StatusForm(instance=item) if can_edit else None),
            "decision_form": decision_form
            or (ReviewDecisionForm() if can_review else None),
            "today": timezone.localdate(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_items(request.user):
        raise PermissionDenied("Only editors of a team create action items.")
    teams = permissions.editable_teams(request.user)
    postmortem = None
    if request.GET.get("postmortem"):
        if not request.GET["postmortem"].isdigit():
            raise Http404("No such postmortem.")
        postmortem = get_object_or_404(
            Postmortem.objects.visible_to(request.user),
            pk=request.GET["postmortem"],
        )
        if not permissions.can_add_items_to(request.user, postmortem):
            # Said before the form is filled in; action_item_create refuses too.
            raise PermissionDenied(
                "Only editors of the postmortem's team add action items to it."
            )
    form = ActionItemForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.action_item_create(
                **data, postmortem=postmortem, created_by=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Action item created.")
            return redirect(item)
    return render(
        request,
        "actions/actionitem_form.html",
        {"form": form, "item": None, "postmortem": postmortem},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    if not permissions.can_edit_item(request.user, item):
        raise PermissionDenied("Only editors of the item's team change it.")
    teams = permissions.editable_teams(request.user) | type(item.team).objects.filter(
        pk=item.team_id
    )
    form = ActionItemForm(request.POST or None, instance=item, teams=teams.distinct())
    if request.method == "POST" and form.is_valid():
        try:
            services.action_item_update(
                item=item, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Action item saved.")
            return redirect(item)
    return render(
        request,
        "actions/actionitem_form.html",
        {"form": form, "item": item, "postmortem": item.postmortem},
        status=400 if form.errors else 200,
    )


@require_POST
def item_status(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    if not permissions.can_edit_item(request.user, item):
        raise PermissionDenied("Only editors of the item's team change it.")
    form = StatusForm(request.POST, instance=ActionItem.objects.get(pk=item.pk))
    if form.is_valid():
        try:
            services.action_item_set_status(
                item=item,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["status_reason"],
                verification_note=form.cleaned_data["verification_note"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Status set to {item.get_status_display()}.")
            return redirect(item)
    return _render_detail(request, item, status_form=form, status=400)


@require_POST
def item_decision(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    if not permissions.can_record_reviews(request.user):
        raise PermissionDenied("Leadership decisions are recorded by reviewers.")
    form = ReviewDecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        review = data["review"] or services.leadership_review_create(
            date=timezone.localdate(),
            recorded_by=request.user,
            attendees=[request.user],
        )
        try:
            decision = services.review_decision_record(
                review=review,
                item=item,
                decision=data["decision"],
                note=data["note"],
                new_due_date=data["new_due_date"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"Recorded “{decision.get_decision_display()}” in the review of "
                f"{review.date:%d %b %Y}.",
            )
            return redirect(item)
    return _render_detail(request, item, decision_form=form, status=400)


# Dashboard -------------------------------------------------------------------------


def dashboard(request: HttpRequest) -> HttpResponse:
    team = None
    slug = request.GET.get("team")
    if slug:
        # Only a slug is looked up (a NUL character would break PostgreSQL).
        if not slug_re.match(slug):
            raise Http404("No such team.")
        team = get_object_or_404(Team, slug=slug)
    board = selectors.dashboard(user=request.user, team=team)
    return render(
        request,
        "actions/dashboard.html",
        {
            "board": board,
            "team": team,
            "teams": board.by_team,
            "all_teams": Team.objects.order_by("name").values("slug", "name"),
            "chart_data": board.chart_data(),
            "list_url": reverse("actions:item_list"),
        },
    )


# Leadership reviews ----------------------------------------------------------------


def review_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "actions/leadershipreview_list.html",
        {
            "reviews": selectors.review_list(user=request.user)[:100],
            "can_review": permissions.can_record_reviews(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def review_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_record_reviews(request.user):
        raise PermissionDenied("Leadership reviews are recorded by reviewers.")
    form = LeadershipReviewForm(
        request.POST or None,
        initial={"date": timezone.localdate(), "attendees": [request.user.pk]},
    )
    if request.method == "POST" and form.is_valid():
        review = services.leadership_review_create(
            date=form.cleaned_data["date"],
            attendees=form.cleaned_data["attendees"],
            notes=form.cleaned_data["notes"],
            recorded_by=request.user,
        )
        messages.success(request, "Review recorded. Record decisions from each item.")
        return redirect(review)
    return render(request, "actions/leadershipreview_form.html", {"form": form})


def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        review = selectors.review_detail(user=request.user, pk=pk)
    except LeadershipReview.DoesNotExist:
        raise Http404("No such review.") from None
    return render(
        request,
        "actions/leadershipreview_detail.html",
        {
            "review": review,
            "decisions": review.decisions.all(),
            "overdue_query": "overdue=true",
        },
    )


# The panel on the postmortem page (htmx) -------------------------------------------


def _postmortem_or_404(request: HttpRequest, pk: int) -> Postmortem:
    return get_object_or_404(
        Postmortem.objects.select_related("incident", "incident__team").visible_to(
            request.user
        ),
        pk=pk,
    )


def _panel(request, postmortem, *, form=None, editing=None, status=200):
    context = selectors.postmortem_action_items_context(
        user=request.user, postmortem=postmortem
    )
    context["action_items_panel"].update({"form": form, "editing": editing})
    return render(
        request, "actions/_postmortem_action_items.html", context, status=status
    )


def postmortem_items(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel itself (also what htmx swaps in after a change)."""
    return _panel(request, _postmortem_or_404(request, pk))


@require_http_methods(["GET", "POST"])
def postmortem_item_new(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = _postmortem_or_404(request, pk)
    if not permissions.can_add_items_to(request.user, postmortem):
        raise PermissionDenied("Only editors of the team add action items.")
    teams = permissions.editable_teams(request.user) | Team.objects.filter(
        pk=postmortem.incident.team_id
    )
    if request.method == "GET":
        form = InlineActionItemForm(
            teams=teams.distinct(),
            initial={"team": postmortem.incident.team_id, "priority": "P1"},
        )
        return _panel(request, postmortem, form=form, editing="new")
    form = InlineActionItemForm(request.POST, teams=teams.distinct())
    if form.is_valid():
        try:
            services.action_item_create(
                **form.cleaned_data, postmortem=postmortem, created_by=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _panel(request, postmortem)
    # htmx 2 does not swap 4xx responses: the form with its errors is a 200.
    return _panel(request, postmortem, form=form, editing="new")


@require_http_methods(["GET", "POST"])
def postmortem_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    postmortem = _postmortem_or_404(request, pk)
    item = get_object_or_404(
        ActionItem.objects.select_related("postmortem__incident"),
        pk=item_pk,
        postmortem=postmortem,
    )
    if not permissions.can_edit_item(request.user, item):
        raise PermissionDenied("Only editors of the item's team change it.")
    teams = (
        permissions.editable_teams(request.user) | Team.objects.filter(pk=item.team_id)
    ).distinct()
    if request.method == "GET":
        form = InlineActionItemForm(instance=item, teams=teams)
        return _panel(request, postmortem, form=form, editing=item.pk)
    form = InlineActionItemForm(request.POST, instance=item, teams=teams)
    if form.is_valid():
        try:
            services.action_item_update(
                item=item, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _panel(request, postmortem)
    return _panel(request, postmortem, form=form, editing=item.pk)
