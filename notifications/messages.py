"""The text of each notification, rendered from templates/notifications/email/."""

from django.conf import settings
from django.template.loader import render_to_string

from actions.models import ActionItem
from notifications.channels import Message
from notifications.choices import Channel
from notifications.models import Notification, NotificationKind
from postmortems.models import Postmortem

POSTMORTEM_KINDS = (
    NotificationKind.REVIEW_REQUESTED,
    NotificationKind.POSTMORTEM_APPROVED,
    NotificationKind.POSTMORTEM_SENT_BACK,
)


def _subject_object(notification: Notification):
    """The postmortem or action item, or None when it is gone or no longer
    visible to the person."""

    user = notification.user
    if notification.kind in POSTMORTEM_KINDS:
        return (
            Postmortem.objects.visible_to(user)
            .select_related("incident", "author")
            .filter(pk=notification.object_id)
            .first()
        )
    # An item can change owner or team after its notification was queued: its
    # message goes out only while the person may still read the item.
    return (
        ActionItem.objects.visible_to(user)
        .select_related("team", "postmortem__incident")
        .filter(pk=notification.object_id)
        .first()
    )


def build_message(notification: Notification) -> Message | None:
    """The message for ``notification``; None when there is nothing to send."""
    obj = _subject_object(notification)
    if obj is None:
        return None
    actor = notification.actor
    context = {
        "user": notification.user,
        "name": notification.user.get_full_name() or notification.user.get_username(),
        "object": obj,
        "actor": (actor.get_full_name() or actor.get_username()) if actor else "",
        "comment": notification.comment,
        "url": settings.SITE_URL.rstrip("/") + obj.get_absolute_url(),
        "preferences_url": settings.SITE_URL.rstrip("/") + "/notifications/",
    }
    kind, url = notification.kind, context["url"]
    subject = render_to_string(f"notifications/email/{kind}_subject.txt", context)
    subject = " ".join(subject.split())
    # Only the body the channel sends is rendered: chat's sentence or two, or the
    # email's full text.
    if notification.channel == Channel.CHAT:
        short = render_to_string(f"notifications/chat/{kind}.txt", context).strip()
        return Message(subject=subject, text="", url=url, short_text=short)
    text = render_to_string(f"notifications/email/{kind}.txt", context)
    return Message(subject=subject, text=text, url=url)
