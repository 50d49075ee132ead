from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from postmortems import extensions, models


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "allow_auto_incidents")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(models.Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "team")
    list_filter = ("team",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(models.Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "timezone")
    list_filter = ("role", "teams")
    filter_horizontal = ("teams",)
    search_fields = ("user__username", "user__email")


class TimelineEntryInline(admin.TabularInline):
    model = models.TimelineEntry
    extra = 0
    autocomplete_fields = ("author",)


@admin.register(models.Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "severity", "status", "team", "started_at")
    list_filter = ("severity", "status", "team")
    search_fields = ("title", "external_key")
    date_hierarchy = "started_at"
    filter_horizontal = ("services",)
    inlines = [TimelineEntryInline]


@admin.register(models.PostmortemTemplate)
class PostmortemTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_default")
    prepopulated_fields = {"slug": ("name",)}


class ContributingFactorInline(admin.TabularInline):
    model = models.ContributingFactor
    extra = 0


class HypothesisInline(admin.StackedInline):
    model = models.Hypothesis
    extra = 0


@admin.register(models.Postmortem)
class PostmortemAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "status", "author", "template", "version")
    list_filter = ("status", "template", "incident__team")
    search_fields = ("incident__title",)
    filter_horizontal = ("reviewers",)
    raw_id_fields = ("incident",)
    inlines = [ContributingFactorInline, HypothesisInline]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # Sections or factors may have changed: as the editor's save does.
        extensions.postmortem_text_changed(postmortem_id=form.instance.pk)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        response = super().history_form_view(
            request, object_id, version_id, extra_context
        )
        # Reverting to an earlier version saves the postmortem alone (no
        # save_related): its sections may say something else now.
        if request.method == "POST" and response.status_code == 302:
            extensions.postmortem_text_changed(postmortem_id=int(object_id))
        return response


@admin.register(models.WorkflowEvent)
class WorkflowEventAdmin(admin.ModelAdmin):
    list_display = ("postmortem", "from_status", "to_status", "actor", "created_at")
    list_filter = ("to_status",)


@admin.register(models.Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("postmortem", "section", "author", "created_at")


@admin.register(models.TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ("incident", "occurred_at", "kind", "source")
    list_filter = ("kind", "source")
    search_fields = ("text",)


@admin.register(models.SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: the security log is append-only for every role, admins included."""

    list_display = ("created_at", "kind", "username", "ip_address", "method", "path")
    list_filter = ("kind",)
    search_fields = ("username", "path")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
