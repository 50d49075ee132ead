"""Postmortem pages: the document, its version history, Markdown export and print."""

import itertools
import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from postmortems import extensions, permissions, selectors
from postmortems.diff import document_diff
from postmortems.export import render_markdown_export
from postmortems.models import HypothesisTrack, Postmortem, PostmortemStatus
from postmortems.pdf import render_pdf

STEPS = (
    PostmortemStatus.DRAFT,
    PostmortemStatus.IN_REVIEW,
    PostmortemStatus.APPROVED,
    PostmortemStatus.PUBLISHED,
)

logger = logging.getLogger(__name__)


def get_visible_postmortem(request: HttpRequest, pk: int) -> Postmortem:
    """The postmortem with its page's data, or 404 when missing or not visible."""
    # Not visible is the same as not there: a 404 does not reveal private drafts.
    try:
        return selectors.postmortem_detail(pk=pk, user=request.user)
    except Postmortem.DoesNotExist:
        raise Http404("No such postmortem.") from None


def _timeline_days(entries) -> tuple[bool, list[dict]]:
    """Entries grouped by local day; the day is shown only when there are several."""
    groups = [
        {"day": day, "entries": list(group)}
        for day, group in itertools.groupby(
            entries, key=lambda entry: timezone.localdate(entry.occurred_at)
        )
    ]
    return len(groups) > 1, groups


def document_context(postmortem: Postmortem) -> dict:
    """What the page and the print view both show."""
    incident = postmortem.incident
    multi_day, timeline_days = _timeline_days(incident.timeline.all())
    end = incident.resolved_at or incident.mitigated_at
    hypotheses = list(postmortem.hypotheses.all())
    sections = postmortem.section_items
    return {
        "postmortem": postmortem,
        "incident": incident,
        "sections": sections,
        # The figures are shown with the template's impact section, where it sits.
        "impact_section": next((s for s in sections if s["key"] == "impact"), None),
        "duration": (end - incident.started_at) if end else None,
        "timeline_multi_day": multi_day,
        "timeline_days": timeline_days,
        "timeline_count": sum(len(group["entries"]) for group in timeline_days),
        # Diagnosis and mitigation are separate tracks; ruled-out ideas stay visible.
        "hypothesis_tracks": [
            {"track": track, "items": [h for h in hypotheses if h.track == track]}
            for track in HypothesisTrack
        ],
        "hypothesis_count": len(hypotheses),
        "action_items": list(postmortem.action_items.all()),
        "today": timezone.localdate(),
    }


def postmortem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_visible_postmortem(request, pk)
    user = request.user
    threads = selectors.postmortem_comment_threads(postmortem=postmortem)
    can_submit = permissions.can_submit_postmortem(user, postmortem)
    context = {
        **document_context(postmortem),
        "steps": [
            {
                "status": step,
                "done": STEPS.index(step) < STEPS.index(postmortem.status),
                "current": step == postmortem.status,
            }
            for step in STEPS
        ],
        "can_edit": permissions.can_edit_postmortem(user, postmortem),
        "can_submit": can_submit,
        "can_review": permissions.can_review_postmortem(user, postmortem),
        "can_publish": permissions.can_publish_postmortem(user, postmortem),
        "can_comment": permissions.can_comment_postmortem(user, postmortem),
        "blame_hits": (
            selectors.postmortem_blame_hits(postmortem=postmortem) if can_submit else []
        ),
        "comment_groups": threads,
        "comment_counts": {group["key"]: group["count"] for group in threads},
        "comment_total": sum(group["count"] for group in threads),
        "events": list(postmortem.workflow_events.all()),
        "reviewers": list(postmortem.reviewers.all()),
    }
    context["aside_panel_templates"] = extensions.panels_in(
        extensions.postmortem_panels, "aside"
    )
    # Panels other apps add to the page (actions: the action-item panel).
    for page_context in extensions.postmortem_page_contexts:
        context.update(page_context(user=user, postmortem=postmortem))
    return render(request, "postmortems/postmortem_detail.html", context)


def postmortem_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every saved version, and a word-level diff between any two of them."""
    postmortem = get_visible_postmortem(request, pk)
    versions = list(selectors.postmortem_versions(postmortem=postmortem))
    by_id = {version.history_id: version for version in versions}

    def pick(name: str, default):
        try:
            return by_id.get(int(request.GET.get(name, "")), default)
        except ValueError:
            return default

    newer = pick("b", versions[0] if versions else None)
    older_default = None
    if newer is not None:
        index = versions.index(newer)
        older_default = versions[index + 1] if index + 1 < len(versions) else None
    older = pick("a", older_default)
    if (
        older is not None
        and newer is not None
        and older.history_date > newer.history_date
    ):
        older, newer = newer, older
    diffs = []
    if older is not None and newer is not None:
        diffs = document_diff(
            selectors.postmortem_document_fields(
                postmortem=older, template=postmortem.template
            ),
            selectors.postmortem_document_fields(
                postmortem=newer, template=postmortem.template
            ),
        )
    return render(
        request,
        "postmortems/postmortem_history.html",
        {
            "postmortem": postmortem,
            "versions": versions,
            "older": older,
            "newer": newer,
            "diffs": diffs,
            "changed_count": sum(1 for diff in diffs if diff.changed),
            "unchanged": [diff.label for diff in diffs if not diff.changed],
        },
    )


def postmortem_export_markdown(request: HttpRequest, pk: int) -> HttpResponse:
    """The postmortem as a Markdown file with YAML front matter."""
    postmortem = get_visible_postmortem(request, pk)
    text = render_markdown_export(
        selectors.postmortem_export_data(postmortem=postmortem)
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    filename = f"{postmortem.incident.reference}-{slugify(postmortem.title)[:60]}.md"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _print_context(postmortem: Postmortem) -> dict:
    return {
        **document_context(postmortem),
        "events": list(postmortem.workflow_events.all()),
        "reviewers": list(postmortem.reviewers.all()),
        "printing": True,
    }


def postmortem_print(request: HttpRequest, pk: int) -> HttpResponse:
    """A print-ready page: the document only, no navigation or buttons."""
    postmortem = get_visible_postmortem(request, pk)
    return render(
        request, "postmortems/postmortem_print.html", _print_context(postmortem)
    )


def postmortem_export_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The print page as a PDF; it fetches only the app's static files."""
    postmortem = get_visible_postmortem(request, pk)
    html = render_to_string(
        "postmortems/postmortem_print.html", _print_context(postmortem), request
    )
    try:
        pdf = render_pdf(html)
    except OSError:
        # WeasyPrint loads the system's Pango libraries on first use.
        logger.exception("PDF export unavailable")
        return HttpResponse(
            "PDF export needs the system's Pango libraries (Debian: apt-get install "
            "libpango-1.0-0 libpangoft2-1.0-0). The print page works without them: "
            f"{postmortem.get_absolute_url()}print/",
            status=503,
            content_type="text/plain",
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{postmortem.incident.reference}-{slugify(postmortem.title)[:60]}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
