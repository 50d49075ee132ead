"""Writing a postmortem: start one, edit it, live preview and blameless check."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from postmortems import permissions, selectors
from postmortems.blameless import analyze
from postmortems.forms import (
    PostmortemCreateForm,
    PostmortemEditForm,
    with_one_more_row,
)
from postmortems.markdown import render_markdown
from postmortems.models import Incident, Postmortem
from postmortems.services.postmortems import (
    PostmortemConflict,
    PostmortemContent,
    postmortem_create,
    postmortem_update,
)
from postmortems.views.postmortems import get_visible_postmortem

# Posted fields the conflict page must not carry over into "save mine anyway".
_NOT_REPOSTED = {"csrfmiddlewaretoken", "version", "continue", "add_row"}


def postmortem_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick a template and reviewers; the new postmortem is the user's draft."""
    incident = get_object_or_404(Incident.objects.select_related("team"), pk=pk)
    existing = Postmortem.objects.filter(incident=incident).first()
    if existing is not None:
        messages.info(request, "This incident already has a postmortem.")
        return redirect(existing)
    if not permissions.can_create_postmortem(request.user, incident):
        raise PermissionDenied(
            "Only editors of the incident's team start its postmortem."
        )
    form = PostmortemCreateForm(
        request.POST or None, author=request.user, team=incident.team_id
    )
    if request.method == "POST" and form.is_valid():
        try:
            postmortem = postmortem_create(
                incident=incident,
                template=form.cleaned_data["template"],
                author=request.user,
                reviewers=form.cleaned_data["reviewers"],
                draft=form.cleaned_data["draft"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                "Draft started from the incident's record: edit or accept each "
                "drafted part."
                if postmortem.drafted_sections
                else "Draft started. Write it section by section.",
            )
            return redirect("postmortems:postmortem_edit", pk=postmortem.pk)
    return render(
        request,
        "postmortems/postmortem_new.html",
        {"incident": incident, "form": form},
        status=400 if form.errors else 200,
    )


def _section_checks(form: PostmortemEditForm, people: list[str]) -> dict[str, list]:
    """Blame hits per section for the editor's first render."""
    checks = {}
    for section, name in form.section_names:
        value = form[name].value() or ""
        checks[section["key"]] = analyze(value, people=people)
    return checks


def _content_fields(postmortem: Postmortem, content: PostmortemContent) -> list:
    """The editor's unsaved content as labelled text fields (conflict page)."""
    return selectors.postmortem_document_fields(
        postmortem=_Unsaved(content, saved_parts=postmortem.list_parts),
        template=postmortem.template,
    )


def _saved_fields(postmortem: Postmortem) -> list:
    postmortem.list_parts = selectors.postmortem_list_parts(postmortem=postmortem)
    return selectors.postmortem_document_fields(
        postmortem=postmortem, template=postmortem.template
    )


class _Unsaved:
    """Editor content shaped like a postmortem for postmortem_document_fields."""

    def __init__(self, content: PostmortemContent, saved_parts: dict):
        self.sections = content.sections
        self.five_whys = content.five_whys
        self.impact_users_affected = content.impact_users_affected
        self.impact_revenue_usd = content.impact_revenue_usd
        self.impact_error_budget_pct = content.impact_error_budget_pct
        self.impact_regions = content.impact_regions
        # A list the post left out (None) stays as saved.
        self.list_parts = {
            "factors": saved_parts["factors"]
            if content.contributing_factors is None
            else [
                selectors.factor_line(kind=f.kind, description=f.description)
                for f in content.contributing_factors
            ],
            "hypotheses": saved_parts["hypotheses"]
            if content.hypotheses is None
            else [
                selectors.hypothesis_line(
                    track=h.track, status=h.status, text=h.text, test=h.test
                )
                for h in content.hypotheses
            ],
        }


def _conflict_response(
    request: HttpRequest, conflict: PostmortemConflict, content: PostmortemContent
) -> HttpResponse:
    current = selectors.postmortem_detail(pk=conflict.current.pk, user=request.user)
    theirs = {field.key: field for field in _saved_fields(current)}
    yours = _content_fields(current, content)
    rows = [
        {
            "key": field.key,
            "label": field.label,
            "yours": field.text,
            "theirs": theirs[field.key].text if field.key in theirs else "",
            "differs": field.text
            != (theirs[field.key].text if field.key in theirs else ""),
        }
        for field in yours
    ]
    latest = selectors.postmortem_versions(postmortem=current).first()
    reposted = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in _NOT_REPOSTED
        for value in values
    ]
    return render(
        request,
        "postmortems/postmortem_conflict.html",
        {
            "postmortem": current,
            "rows": rows,
            "differing": sum(1 for row in rows if row["differs"]),
            "same": [row["label"] for row in rows if not row["differs"]],
            "base_version": conflict.base_version,
            "latest": latest,
            "reposted": reposted,
        },
        status=409,
    )


def drafted_context(postmortem: Postmortem) -> dict:
    """What is still drafted, for the badges: section keys, and row ids as text."""
    return {
        "drafted_keys": postmortem.drafted_keys,
        "drafted_factors": {
            str(pk): analyzer
            for pk, analyzer in postmortem.contributing_factors.exclude(
                drafted_from=""
            ).values_list("pk", "drafted_from")
        },
        "drafted_hypotheses": {
            str(pk): analyzer
            for pk, analyzer in postmortem.hypotheses.exclude(
                drafted_from=""
            ).values_list("pk", "drafted_from")
        },
    }


def postmortem_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The editor. A save based on an older version gets the 409 conflict page."""
    postmortem = get_visible_postmortem(request, pk)
    if not permissions.can_edit_postmortem(request.user, postmortem):
        if postmortem.is_public:
            messages.info(
                request,
                "An approved postmortem is read-only. A reviewer can send it back "
                "to draft if it needs changes.",
            )
            return redirect(postmortem)
        raise PermissionDenied("You cannot edit this postmortem.")
    adding_row = request.method == "POST" and "add_row" in request.POST
    if adding_row:
        # "Add a row" without JavaScript: the same page with one more blank row,
        # everything typed so far kept, nothing saved.
        form = PostmortemEditForm(
            with_one_more_row(request.POST, request.POST["add_row"]),
            postmortem=postmortem,
        )
    elif request.method == "POST":
        form = PostmortemEditForm(request.POST, postmortem=postmortem)
        if form.is_valid():
            content = form.to_content()
            try:
                saved = postmortem_update(
                    postmortem=postmortem,
                    actor=request.user,
                    base_version=form.cleaned_data["version"],
                    content=content,
                )
            except PostmortemConflict as conflict:
                return _conflict_response(request, conflict, content)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if saved.version == form.cleaned_data["version"]:
                    messages.info(
                        request, f"Nothing changed; still version {saved.version}."
                    )
                else:
                    messages.success(request, f"Saved as version {saved.version}.")
                if "continue" in request.POST:
                    return redirect("postmortems:postmortem_edit", pk=saved.pk)
                return redirect(saved)
    else:
        form = PostmortemEditForm(postmortem=postmortem)
    people = selectors.known_people_names()
    checks = _section_checks(form, people)
    return render(
        request,
        "postmortems/postmortem_edit.html",
        {
            "postmortem": postmortem,
            "incident": postmortem.incident,
            "form": form,
            "adding_row": adding_row,
            "sections": [
                {**item, "hits": checks[item["section"]["key"]]}
                for item in form.section_fields
            ],
            **drafted_context(postmortem),
        },
        status=400 if form.is_bound and not adding_row and form.has_errors else 200,
    )


def _posted_text(request: HttpRequest) -> str:
    # htmx posts the textarea under its own name; ``field`` says which one it is.
    name = request.POST.get("field") or "text"
    return request.POST.get(name, "")


@require_POST
def markdown_preview(request: HttpRequest) -> HttpResponse:
    """The live preview: the same renderer as the saved page."""
    return render(
        request,
        "postmortems/_markdown_preview.html",
        # Sanitised by render_markdown (markdown-it js-default + nh3).
        {"html": mark_safe(render_markdown(_posted_text(request)))},  # noqa: S308
    )


@require_POST
def blame_check(request: HttpRequest) -> HttpResponse:
    """Blameless-language hits for one text, shown beside it while writing."""
    hits = analyze(_posted_text(request), people=selectors.known_people_names())
    return render(request, "postmortems/_blame_hits.html", {"hits": hits})
