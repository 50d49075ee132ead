from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        # Hear about what happened in the core (after commit, with ids).
        from chat import receivers

        receivers.connect()
