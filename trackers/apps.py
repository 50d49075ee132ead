from django.apps import AppConfig


class TrackersConfig(AppConfig):
    name = "trackers"
    verbose_name = "Issue trackers"

    def ready(self) -> None:
        from actions import extensions
        from postmortems import extensions as core_extensions
        from trackers import hooks, queries
        from trackers.services import RELAY

        # Links still due (a tracker or broker outage): the one relay.
        core_extensions.register(core_extensions.relays, RELAY)
        if hooks.reference_lock not in extensions.reference_locks:
            extensions.reference_locks.append(hooks.reference_lock)
        if queries not in extensions.done_confirmations:
            extensions.done_confirmations.append(queries)
