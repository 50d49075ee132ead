"""Every way each notified event happens, page and API alike.

``EVENTS`` maps a name to (act, kind, recipient): ``act(postmortem, people, team,
capture)`` makes the event happen; ``recipient`` names who must hear of it.
"""

import json

from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications.models import NotificationKind
from postmortems.models import PostmortemStatus
from tests import factories


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_call(client, method, url, payload):
    return client.generic(
        method, url, json.dumps(payload), content_type="application/json"
    )


def submit(postmortem, people):
    return as_user(people["author"]).post(
        reverse("postmortems:postmortem_submit", args=[postmortem.pk]),
        {"acknowledge_blame": "on"},
    )


def _in_review(postmortem, people, capture):
    with capture(execute=True):
        submit(postmortem, people)
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.IN_REVIEW


# Every way each event happens, page and API alike: (event, kind, recipient, act).
def submit_page(postmortem, people, team, capture):
    with capture(execute=True):
        assert submit(postmortem, people).status_code == 302


def reviewer_added_in_review(postmortem, people, team, capture):
    """A reviewer named while the postmortem is in review is asked at once (the
    editor's save, postmortem_update)."""
    from postmortems.services.postmortems import PostmortemContent, postmortem_update

    _in_review(postmortem, people, capture)
    mail.outbox.clear()
    with capture(execute=True):
        postmortem_update(
            postmortem=postmortem,
            actor=people["author"],
            base_version=postmortem.version,
            content=PostmortemContent(
                sections=postmortem.sections,
                reviewers=[people["reviewer"], people["late"]],
            ),
        )


def approve_page(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    with capture(execute=True):
        response = as_user(people["reviewer"]).post(
            reverse("postmortems:postmortem_approve", args=[postmortem.pk])
        )
    assert response.status_code == 302


def send_back_page(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    with capture(execute=True):
        response = as_user(people["reviewer"]).post(
            reverse("postmortems:postmortem_send_back", args=[postmortem.pk]),
            {"comment": "Please add the pool graph."},
        )
    assert response.status_code == 302


def item_create_page(postmortem, people, team, capture):
    with capture(execute=True):
        response = as_user(people["author"]).post(
            reverse("actions:item_create"),
            {
                "title": "Alert on pool saturation",
                "category": "detection",
                "priority": "P2",
                "team": team.pk,
                "owner": people["owner"].pk,
                "status": "open",
            },
        )
    assert response.status_code == 302, response.content[:3000]


def item_create_api(postmortem, people, team, capture):
    with capture(execute=True):
        response = api_call(
            as_user(people["author"]),
            "POST",
            "/api/v1/action-items/",
            {
                "title": "Alert on pool saturation",
                "category": "detection",
                "team": team.slug,
                "owner": "owner",
            },
        )
    assert response.status_code == 201, response.content


def item_reassign_api(postmortem, people, team, capture):
    item = factories.ActionItemFactory(team=team, owner=people["author"])
    mail.outbox.clear()
    with capture(execute=True):
        response = api_call(
            as_user(people["author"]),
            "PATCH",
            f"/api/v1/action-items/{item.pk}/",
            {"owner": "owner"},
        )
    assert response.status_code == 200, response.content


def _api_step(postmortem, actor, step, **body):
    url = f"/api/v1/postmortems/{postmortem.pk}/{step}/"
    return api_call(as_user(actor), "POST", url, body)


def submit_api(postmortem, people, team, capture):
    with capture(execute=True):
        response = _api_step(
            postmortem, people["author"], "submit", acknowledge_blame=True
        )
    assert response.status_code == 200, response.content


def reviewer_added_in_review_api(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    postmortem.refresh_from_db()
    mail.outbox.clear()
    with capture(execute=True):
        response = api_call(
            as_user(people["author"]),
            "PATCH",
            f"/api/v1/postmortems/{postmortem.pk}/",
            {"reviewers": ["rev", "late"]},
        )
    assert response.status_code == 200, response.content


def approve_api(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    with capture(execute=True):
        response = _api_step(postmortem, people["reviewer"], "approve")
    assert response.status_code == 200, response.content


def send_back_api(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    with capture(execute=True):
        response = _api_step(
            postmortem, people["reviewer"], "send-back", comment="Add the graph."
        )
    assert response.status_code == 200, response.content


EVENTS = {
    "review-requested/submit-page": (
        submit_page,
        NotificationKind.REVIEW_REQUESTED,
        "reviewer",
    ),
    "review-requested/reviewer-added": (
        reviewer_added_in_review,
        NotificationKind.REVIEW_REQUESTED,
        "late",
    ),
    "review-requested/submit-api": (
        submit_api,
        NotificationKind.REVIEW_REQUESTED,
        "reviewer",
    ),
    "review-requested/reviewer-added-api": (
        reviewer_added_in_review_api,
        NotificationKind.REVIEW_REQUESTED,
        "late",
    ),
    "approved/page": (approve_page, NotificationKind.POSTMORTEM_APPROVED, "author"),
    "approved/api": (approve_api, NotificationKind.POSTMORTEM_APPROVED, "author"),
    "sent-back/api": (send_back_api, NotificationKind.POSTMORTEM_SENT_BACK, "author"),
    "sent-back/page": (
        send_back_page,
        NotificationKind.POSTMORTEM_SENT_BACK,
        "author",
    ),
    "assigned/item-create-page": (
        item_create_page,
        NotificationKind.ACTION_ITEM_ASSIGNED,
        "owner",
    ),
    "assigned/item-create-api": (
        item_create_api,
        NotificationKind.ACTION_ITEM_ASSIGNED,
        "owner",
    ),
    "assigned/item-reassign-api": (
        item_reassign_api,
        NotificationKind.ACTION_ITEM_ASSIGNED,
        "owner",
    ),
}
