from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from actions.signals import action_item_assigned
        from notifications import receivers
        from notifications.services import RELAY
        from postmortems import extensions
        from postmortems.signals import (
            postmortem_reviewers_added,
            postmortem_status_changed,
        )

        postmortem_reviewers_added.connect(
            receivers.on_reviewers_added, dispatch_uid="notifications-reviewers"
        )
        postmortem_status_changed.connect(
            receivers.on_status_changed, dispatch_uid="notifications-status"
        )
        # Notifications a channel could not take yet: the one relay resends them.
        extensions.register(extensions.relays, RELAY)
        action_item_assigned.connect(
            receivers.on_item_assigned, dispatch_uid="notifications-item-assigned"
        )
