"""Insights pages: the report, its exports, class curation, runs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from actions.models import Status
from insights import charts, selectors, services
from insights.models import (
    CauseStatement,
    ClassAxis,
    ClassStatus,
    FailureClass,
    InsightRun,
)
from insights.report import SCORE_FORMULA
from kb.redirects import same_site_url
from postmortems.models import ContributingFactorKind, Postmortem, Role
from postmortems.permissions import has_role


def _require(request: HttpRequest, role: str) -> None:
    if not has_role(request.user, role):
        raise PermissionDenied


# Stored values in words, wherever the report shows one.
LABELS = {**dict(Status.choices), **dict(ContributingFactorKind.choices)}
CONFIRM_NEXT = 5


def _confirm_next_context(
    request: HttpRequest, failure_class: FailureClass | None = None
) -> dict:
    """What the "confirm these next" panel needs, on the report and a class page."""
    return {
        "candidates": selectors.confirm_next(
            failure_class, CONFIRM_NEXT, user=request.user
        ),
        "effects": selectors.confirmation_history(user=request.user),
        "classes": selectors.failure_class_list(),
        "can_confirm": has_role(request.user, Role.EDITOR),
        "statement_labels": selectors.STATEMENT_LABELS,
    }


def _report_context(request: HttpRequest) -> dict:
    data = selectors.report_data(user=request.user)
    top = data.recurring[: charts.CHART_CLASSES]
    by_class = charts.durations_by_class(data)
    by_team = charts.durations_by_team(data)
    return {
        "report": data,
        "chart": charts.quarter_chart(data, top),
        "chart_rows": charts.quarter_rows(data, top),
        "chart_classes": top,
        "durations_chart": charts.duration_chart(by_class, by_team),
        "class_durations": charts.duration_rows(by_class),
        "team_durations": charts.duration_rows(by_team),
        "metric_names": charts.METRIC_NAMES,
        "labels": LABELS,
        "statement_labels": selectors.STATEMENT_LABELS,
        "threshold_validated": selectors.abstain_threshold() is not None,
        "score_formula": SCORE_FORMULA,
        "last_run": selectors.last_successful_run(),
    }


@require_GET
def report_detail(request: HttpRequest) -> HttpResponse:
    context = _report_context(request)
    context["runs"] = runs = selectors.latest_runs()
    context["active_run"] = runs[0] if runs else None
    context["can_run"] = has_role(request.user, Role.EDITOR)
    context.update(_confirm_next_context(request))
    return render(request, "insights/report_detail.html", context)


@require_GET
def report_print(request: HttpRequest) -> HttpResponse:
    return render(request, "insights/report_print.html", _report_context(request))


@require_GET
def report_markdown(request: HttpRequest) -> HttpResponse:
    text = render_to_string("insights/report_export.md", _report_context(request))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="hindsight-insights-{stamp}.md"'
    )
    return response


@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    _require(request, Role.EDITOR)
    run = services.insight_run_request(user=request.user)
    if request.htmx:
        return render(request, "insights/_run_progress.html", {"run": run})
    messages.info(request, "Insights run started.")
    return redirect("insights:report")


@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(InsightRun, pk=pk)
    return render(request, "insights/_run_progress.html", {"run": run})


@require_GET
def class_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        failure_class = selectors.failure_class_detail(slug=slug)
    except FailureClass.DoesNotExist:
        raise Http404 from None
    if failure_class.status == ClassStatus.MERGED and failure_class.merged_into:
        return redirect(failure_class.merged_into)
    data = selectors.report_data(user=request.user)
    summary = next((c for c in data.classes if c.slug == slug), None)
    # Counted members first, newest first; then the uncertain ones.
    members = sorted(
        summary.members if summary else [],
        key=lambda m: (not m.counted, -m.incident.started_at.timestamp()),
    )
    postmortems = selectors.postmortems_for_page(
        postmortem_ids=[m.incident.postmortem_id for m in members], user=request.user
    )
    context = _confirm_next_context(request, failure_class)
    return render(
        request,
        "insights/failureclass_detail.html",
        {
            "failure_class": failure_class,
            "summary": summary,
            "report": data,
            "rows": [
                (postmortems[m.incident.postmortem_id], m)
                for m in members
                if m.incident.postmortem_id in postmortems
            ],
            "chart": charts.quarter_chart(data, [summary] if summary else []),
            "durations": charts.duration_rows([("", summary.durations)])[0]
            if summary
            else None,
            "metric_names": charts.METRIC_NAMES,
            "labels": LABELS,
            "threshold_validated": selectors.abstain_threshold() is not None,
            "other_classes": [
                c for c in selectors.failure_class_list() if c.pk != failure_class.pk
            ],
            "can_curate": has_role(request.user, Role.REVIEWER),
            "axis_choices": ClassAxis.choices,
            "score_formula": SCORE_FORMULA,
            **context,
        },
    )


def _class_for_post(request: HttpRequest, slug: str) -> FailureClass:
    _require(request, Role.REVIEWER)
    return get_object_or_404(FailureClass.objects.exclude(status="merged"), slug=slug)


@require_POST
def class_accept(request: HttpRequest, slug: str) -> HttpResponse:
    failure_class = _class_for_post(request, slug)
    services.failure_class_accept(
        failure_class=failure_class,
        name=request.POST.get("name", ""),
        description=request.POST.get("description", ""),
        axis=request.POST.get("axis"),
        user=request.user,
    )
    messages.success(request, f"Accepted “{failure_class.name}”.")
    return redirect(failure_class)


@require_POST
def class_rename(request: HttpRequest, slug: str) -> HttpResponse:
    failure_class = _class_for_post(request, slug)
    name = request.POST.get("name", "").strip()
    if not name:
        messages.error(request, "A class needs a name.")
        return redirect(failure_class)
    examples = request.POST.get("examples")
    try:
        services.failure_class_rename(
            failure_class=failure_class,
            name=name,
            description=request.POST.get("description"),
            axis=request.POST.get("axis"),
            examples=examples.splitlines() if examples is not None else None,
            user=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(failure_class)
    messages.success(request, f"Saved “{failure_class.name}”.")
    return redirect(failure_class)


@require_POST
def class_merge(request: HttpRequest, slug: str) -> HttpResponse:
    source = _class_for_post(request, slug)
    target = get_object_or_404(
        FailureClass.objects.exclude(status="merged").exclude(pk=source.pk),
        slug=request.POST.get("target", ""),
    )
    services.failure_class_merge(source=source, target=target, user=request.user)
    messages.success(request, f"Merged “{source.name}” into “{target.name}”.")
    return redirect(target)


@require_POST
def class_split(request: HttpRequest, slug: str) -> HttpResponse:
    failure_class = _class_for_post(request, slug)
    name = request.POST.get("name", "").strip()
    ids = [int(v) for v in request.POST.getlist("postmortems") if v.isdigit()]
    if not name or not ids:
        messages.error(request, "Name the new class and pick postmortems to move.")
        return redirect(failure_class)
    new_class = services.failure_class_split(
        failure_class=failure_class, postmortem_ids=ids, name=name, user=request.user
    )
    messages.success(request, f"Moved {len(ids)} postmortems to “{new_class.name}”.")
    return redirect(new_class)


@require_POST
def postmortem_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Role.EDITOR)
    postmortem = get_object_or_404(Postmortem.objects.visible_to(request.user), pk=pk)
    failure_class = get_object_or_404(
        FailureClass.objects.exclude(status="merged"),
        slug=request.POST.get("failure_class", ""),
    )
    services.postmortem_class_confirm(
        postmortem=postmortem, failure_class=failure_class, user=request.user
    )
    messages.success(request, f"Class confirmed: {failure_class.name}.")
    return redirect(_safe_next(request, failure_class.get_absolute_url()))


def _safe_next(request: HttpRequest, default: str) -> str:
    return same_site_url(request, request.POST.get("next", ""), default)


@require_POST
def statement_confirm(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """An editor puts one cause statement in a class ("confirm these next")."""
    _require(request, Role.EDITOR)
    postmortem = get_object_or_404(Postmortem.objects.visible_to(request.user), pk=pk)
    statement = get_object_or_404(CauseStatement, postmortem=postmortem, key=key)
    failure_class = get_object_or_404(
        FailureClass.objects.exclude(status=ClassStatus.MERGED),
        slug=request.POST.get("failure_class", ""),
    )
    services.cause_statement_confirm(
        statement=statement, failure_class=failure_class, user=request.user
    )
    messages.success(
        request,
        f"Confirmed as {failure_class.name}. The classifier retrains now; the "
        "table shows what it changed once the run finishes.",
    )
    return redirect(_safe_next(request, failure_class.get_absolute_url()))
