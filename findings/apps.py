from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "findings"
    verbose_name = "Findings"

    def ready(self) -> None:
        # lookups: receivers that keep the ingestion lookups' cache fresh.
        from findings import dispatch, drafting, lookups, selectors  # noqa: F401
        from findings.demo import loader as demo
        from insights import extensions as insights_extensions
        from postmortems import extensions

        # What the core asks of the apps built on it (postmortems.extensions).
        extensions.register(
            extensions.incident_panels, "findings/_incident_findings.html"
        )
        extensions.register(
            extensions.draft_fact_providers, drafting.incident_draft_facts
        )
        extensions.register(extensions.relays, dispatch.RELAY)
        extensions.register(extensions.demo_loaders, demo.demo_findings_load)
        # What insights reads of findings: confirmed root causes.
        extensions.register(
            insights_extensions.text_sources, selectors.confirmed_root_causes
        )
