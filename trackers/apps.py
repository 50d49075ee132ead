from django.apps import AppConfig


class TrackersConfig(AppConfig):
    name = "trackers"
    verbose_name = "Issue trackers"

    def ready(self) -> None:
        from actions import extensions
        from trackers import hooks

        extensions.reference_locks.append(hooks.reference_lock)
