from django.apps import AppConfig


class TrackersConfig(AppConfig):
    name = "trackers"
    verbose_name = "Issue trackers"

    def ready(self) -> None:
        from actions import extensions
        from trackers import hooks, queries

        if hooks.reference_lock not in extensions.reference_locks:
            extensions.reference_locks.append(hooks.reference_lock)
        if queries not in extensions.done_confirmations:
            extensions.done_confirmations.append(queries)
