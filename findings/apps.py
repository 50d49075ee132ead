from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "findings"
    verbose_name = "Findings"

    def ready(self) -> None:
        # Receivers that keep the ingestion lookups' cache fresh.
        # What the core asks of its apps (postmortems.extensions).
        # The tasks, so that follow_up can send its task by name in every process.
        from findings import (  # noqa: F401
            drafting,
            follow_up,
            lookups,  # noqa: F401
            tasks,
        )
        from findings.demo import loader as demo
        from postmortems import extensions

        extensions.register_incident_panel("findings/_incident_findings.html")
        extensions.register_draft_facts(drafting.incident_draft_facts)
        extensions.register_relay(follow_up.RELAY)
        extensions.register_demo_loader(demo.demo_findings_load)
