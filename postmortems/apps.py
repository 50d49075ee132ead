from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Postmortems"

    def ready(self) -> None:
        # Connects the security log's receivers for auth signals.
        from postmortems import audit  # noqa: F401
