"""Review workflow and comments: every handler is a POST that calls one service."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from postmortems.forms import CommentForm
from postmortems.models import Comment
from postmortems.services.drafting import postmortem_accept_drafted
from postmortems.services.postmortems import (
    BlameNotAcknowledged,
    comment_create,
    postmortem_approve,
    postmortem_publish,
    postmortem_send_back,
    postmortem_submit,
)
from postmortems.views.postmortems import get_visible_postmortem


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require_POST
def postmortem_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_visible_postmortem(request, pk)
    try:
        postmortem_submit(
            postmortem=postmortem,
            actor=request.user,
            acknowledge_blame=request.POST.get("acknowledge_blame") == "on",
            comment=request.POST.get("comment", ""),
        )
    except BlameNotAcknowledged as exc:
        messages.error(
            request,
            f"{len(exc.hits)} blameless-language warning(s) remain. Rewrite them, or "
            "tick the box to confirm you have read them and submit anyway.",
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "Submitted for review. The reviewers can see it now.")
    return redirect(postmortem)


def _transition_view(
    request: HttpRequest, pk: int, service, success: str, *, with_comment: bool
) -> HttpResponse:
    """Run one workflow service for a POST; report the outcome as a message."""
    postmortem = get_visible_postmortem(request, pk)
    extra = {"comment": request.POST.get("comment", "")} if with_comment else {}
    try:
        service(postmortem=postmortem, actor=request.user, **extra)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success)
    return redirect(postmortem)


@require_POST
def postmortem_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition_view(
        request,
        pk,
        postmortem_approve,
        "Approved. The author can publish it now.",
        with_comment=True,
    )


@require_POST
def postmortem_send_back_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition_view(
        request,
        pk,
        postmortem_send_back,
        "Sent back to draft with your comment.",
        with_comment=True,
    )


@require_POST
def postmortem_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition_view(
        request,
        pk,
        postmortem_publish,
        "Published. Everyone can read it now.",
        with_comment=False,
    )


@require_POST
def comment_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_visible_postmortem(request, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write a comment before posting it.")
        return redirect(f"{postmortem.get_absolute_url()}#comments")
    parent = None
    if form.cleaned_data["parent"]:
        parent = Comment.objects.filter(
            pk=form.cleaned_data["parent"], postmortem=postmortem
        ).first()
        if parent is None:
            messages.error(request, "That comment no longer exists.")
            return redirect(f"{postmortem.get_absolute_url()}#comments")
    try:
        comment = comment_create(
            postmortem=postmortem,
            author=request.user,
            body=form.cleaned_data["body"],
            section=form.cleaned_data["section"] or "",
            parent=parent,
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(f"{postmortem.get_absolute_url()}#comments")
    url = reverse("postmortems:postmortem_detail", args=[postmortem.pk])
    return redirect(f"{url}#comment-{comment.pk}")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@require_POST
def postmortem_accept_drafted_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep a drafted section, factor or hypothesis as written."""
    postmortem = get_visible_postmortem(request, pk)
    try:
        postmortem_accept_drafted(
            postmortem=postmortem,
            actor=request.user,
            section=request.POST.get("section") or None,
            factor_id=_int_or_none(request.POST.get("factor")),
            hypothesis_id=_int_or_none(request.POST.get("hypothesis")),
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request, "Accepted as written; it is no longer marked drafted."
        )
    if request.POST.get("next") == "edit":
        return redirect("postmortems:postmortem_edit", pk=postmortem.pk)
    return redirect(postmortem)
