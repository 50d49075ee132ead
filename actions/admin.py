from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from actions import models


@admin.register(models.ActionItem)
class ActionItemAdmin(SimpleHistoryAdmin):
    list_display = (
        "title",
        "category",
        "priority",
        "status",
        "team",
        "owner",
        "due_date",
    )
    list_filter = ("status", "category", "priority", "team")
    search_fields = ("title", "tracker_key")
    raw_id_fields = ("postmortem",)


@admin.register(models.DuePolicy)
class DuePolicyAdmin(admin.ModelAdmin):
    list_display = ("priority", "days")
