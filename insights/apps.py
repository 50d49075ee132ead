from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from insights import demo, receivers
        from insights.services import postmortem_changed
        from insights.services.runs import RELAY
        from postmortems import extensions, signals

        signals.root_cause_class_requested.connect(
            receivers.root_cause_class, dispatch_uid="insights.root_cause_class"
        )
        signals.postmortem_imported.connect(
            receivers.postmortem_imported, dispatch_uid="insights.postmortem_imported"
        )
        extensions.register(extensions.edit_hooks, postmortem_changed)
        extensions.register(extensions.import_hooks, receivers.postmortems_imported)
        # A full run left waiting (its worker killed, its retries spent) is
        # sent again by the outbox relay, every minute.
        extensions.register(extensions.relays, RELAY)
        extensions.register(extensions.demo_loaders, demo.load_demo_classes)
        extensions.register(
            extensions.nav_items,
            extensions.NavItem("Insights", "insights:report", order=50),
        )
        # The failure class and similar incidents, in the pages' side column.
        extensions.register(
            extensions.incident_panels,
            extensions.Panel("insights/_incident_similar.html", column="aside"),
        )
        extensions.register(
            extensions.postmortem_panels,
            extensions.Panel("insights/_postmortem_similar.html", column="aside"),
        )
