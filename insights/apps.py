from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from insights import receivers
        from postmortems import signals

        signals.root_cause_class_requested.connect(
            receivers.root_cause_class, dispatch_uid="insights.root_cause_class"
        )
        signals.postmortem_imported.connect(
            receivers.postmortem_imported, dispatch_uid="insights.postmortem_imported"
        )
