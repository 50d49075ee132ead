from notifications.models import Notification, NotificationKind, NotificationPreference


def enabled_kinds(*, user) -> set[str]:
    off = set(
        NotificationPreference.objects.filter(user=user, enabled=False).values_list(
            "kind", flat=True
        )
    )
    return set(NotificationKind.values) - off


def recent_notifications(*, user, limit: int = 10) -> list[Notification]:
    return list(
        Notification.objects.filter(user=user)
        .select_related("actor")
        .order_by("-created_at", "-pk")[:limit]
    )
