from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Postmortems"

    def ready(self) -> None:
        # Connects the security log's receivers for auth signals, and those that
        # keep the ingestion lookups' cache fresh.
        from postmortems import audit  # noqa: F401
        from postmortems.findings import lookups  # noqa: F401
