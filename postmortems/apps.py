from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Postmortems"

    def ready(self) -> None:
        # audit: connects the security log's receivers for auth signals.
        from postmortems import audit, extensions  # noqa: F401

        # The core's own sections of the navigation bar; the apps built on it
        # add theirs in their ready() (postmortems.extensions.nav_items).
        for entry in (
            extensions.NavItem("Incidents", "postmortems:incident_list", order=10),
            extensions.NavItem("Postmortems", "postmortems:postmortem_list", order=20),
        ):
            extensions.register(extensions.nav_items, entry)
