from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        # Hear about what happened in the core (after commit, with ids).
        from chat import receivers
        from chat.services.direct import notification_send_direct
        from chat.services.outbox import RELAY
        from notifications.channels import register
        from postmortems import extensions

        receivers.connect()
        # Messages a Slack outage (or a lost task) left unsent: the one relay.
        extensions.register(extensions.relays, RELAY)
        # Personal notifications as direct messages, whenever Slack is set up.
        register("chat", notification_send_direct, active=receivers.chat_enabled)
