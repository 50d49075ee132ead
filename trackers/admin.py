from django.contrib import admin

from trackers.models import TrackerConfig, TrackerLink


@admin.register(TrackerConfig)
class TrackerConfigAdmin(admin.ModelAdmin):
    list_display = ("team", "provider", "project", "labels", "enabled")
    list_filter = ("provider", "enabled")
    search_fields = ("team__name", "project")


@admin.register(TrackerLink)
class TrackerLinkAdmin(admin.ModelAdmin):
    list_display = (
        "item",
        "provider",
        "remote_key",
        "remote_status",
        "last_synced_at",
        "sync_due",
        "attempts",
    )
    list_filter = ("provider", "remote_status")
    search_fields = ("remote_key", "item__title")
    raw_id_fields = ("item", "created_by")
    readonly_fields = ("last_synced_at", "remote_changed_at", "remote_changed_by")
