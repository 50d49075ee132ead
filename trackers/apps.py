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
        core_extensions.register(extensions.reference_locks, hooks.reference_lock)
        core_extensions.register(extensions.done_confirmations, queries)
