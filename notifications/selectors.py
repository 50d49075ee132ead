from notifications import channels
from notifications.models import (
    Channel,
    Notification,
    NotificationKind,
    NotificationPreference,
)


def enabled_kinds(*, user) -> set[str]:
    off = set(
        NotificationPreference.objects.filter(user=user, enabled=False).values_list(
            "kind", flat=True
        )
    )
    return set(NotificationKind.values) - off


def recent_notifications(*, user, limit: int = 10) -> list[Notification]:
    return list(
        Notification.objects.visible_to(user)
        .select_related("actor")
        .order_by("-created_at", "-pk")[:limit]
    )


# How each channel reads in a sentence: "... by email and as a Slack direct message".
CHANNEL_PHRASES = {
    Channel.EMAIL: "by email",
    Channel.CHAT: "as a Slack direct message",
}


def delivery_channels() -> list[str]:
    """How notifications reach people now, as phrases: the channels registered
    and set up."""
    return [CHANNEL_PHRASES.get(name, f"by {name}") for name in channels.registered()]
