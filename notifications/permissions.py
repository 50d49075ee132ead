"""Who may see notifications: a person reads their own, nobody else's.

``Notification.objects.visible_to(user)`` is the rule, as NetBox's
``restrict(user)``. What a notification is about (a postmortem, an action item)
is read through that model's own ``visible_to`` (notifications/messages.py). This
module imports no notifications model, so the models can use it.
"""

from django.db.models import QuerySet


class NotificationQuerySet(QuerySet):
    def visible_to(self, user) -> "NotificationQuerySet":
        """The notifications ``user`` may read: their own."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)
