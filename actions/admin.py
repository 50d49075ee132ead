from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from actions import models
from actions.forms import CoveragePolicyAdminForm


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
    list_select_related = ("team", "owner")


@admin.register(models.DuePolicy)
class DuePolicyAdmin(admin.ModelAdmin):
    list_display = ("priority", "days")


@admin.register(models.CoveragePolicy)
class CoveragePolicyAdmin(admin.ModelAdmin):
    form = CoveragePolicyAdminForm
    list_display = ("severity", "__str__")


@admin.register(models.ReminderLog)
class ReminderLogAdmin(admin.ModelAdmin):
    list_display = ("item", "date", "sent_at")
    date_hierarchy = "date"
    raw_id_fields = ("item",)


class ReviewDecisionInline(admin.TabularInline):
    model = models.ReviewDecision
    extra = 0
    raw_id_fields = ("item",)


@admin.register(models.LeadershipReview)
class LeadershipReviewAdmin(admin.ModelAdmin):
    list_display = ("date", "recorded_by")
    filter_horizontal = ("attendees",)
    inlines = [ReviewDecisionInline]
