from django.contrib import admin

from notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "channel", "status", "note")
    list_filter = ("kind", "channel", "status")
    search_fields = ("user__username", "key")
    readonly_fields = [field.name for field in Notification._meta.fields]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "enabled", "updated_at")
    list_filter = ("kind", "enabled")
