from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        # Hear about what happened in the core (after commit, with ids).
        from chat import receivers
        from chat.services.direct import notification_send_direct
        from notifications.channels import register

        receivers.connect()
        # Personal notifications as direct messages, whenever Slack is set up.
        register("chat", notification_send_direct, active=receivers.chat_enabled)
