from django.contrib import admin, messages

from chat import services
from chat.models import ChannelLink, ChatMessage, PinnedMessage, TeamChatSettings


@admin.register(TeamChatSettings)
class TeamChatSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "team",
        "provider",
        "channel_id",
        "reaction",
        "notify_review",
        "notify_approved",
        "notify_published",
        "notify_overdue",
        "notify_alert_match",
    )
    list_select_related = ("team",)
    fieldsets = (
        (None, {"fields": ("team", "provider", "channel_id", "reaction")}),
        (
            "Notifications",
            {
                "description": "Posted to the team's channel and to every channel "
                "linked to one of the team's incidents.",
                "fields": (
                    "notify_review",
                    "notify_approved",
                    "notify_published",
                    "notify_overdue",
                    "notify_alert_match",
                ),
            },
        ),
    )


@admin.register(ChannelLink)
class ChannelLinkAdmin(admin.ModelAdmin):
    list_display = ("channel_id", "provider", "incident", "linked_by", "created_at")
    list_select_related = ("incident", "linked_by")
    search_fields = ("channel_id", "incident__title")
    raw_id_fields = ("incident", "linked_by")


@admin.register(PinnedMessage)
class PinnedMessageAdmin(admin.ModelAdmin):
    list_display = ("channel_id", "message_ts", "author_name", "entry", "created_at")
    list_select_related = ("entry",)
    readonly_fields = [f.name for f in PinnedMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("event_key", "channel_id", "status", "attempts", "sent_at", "error")
    list_filter = ("status", "provider")
    search_fields = ("event_key", "channel_id", "subject")
    readonly_fields = [f.name for f in ChatMessage._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="last error")
    def error(self, obj: ChatMessage) -> str:
        # Slack's error code is at the end ("Slack chat_postMessage: not_in_channel").
        return obj.last_error.rsplit(": ", 1)[-1][:60]

    @admin.action(description="Send again (failed or waiting messages)")
    def send_again(self, request, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        outcome = services.chat_messages_send_again(message_ids=ids)
        self.message_user(
            request,
            send_again_summary(outcome),
            messages.SUCCESS if len(outcome["sent"]) == len(ids) else messages.WARNING,
        )


def _counted(reasons: list[str], what: str) -> str:
    """ "2 failed again (is_archived, not_in_channel)": how many, and why."""
    why = ", ".join(dict.fromkeys(r for r in reasons if r))
    return f"{len(reasons)} {what}" + (f" ({why})" if why else "")


def send_again_summary(outcome: dict[str, list[str]]) -> str:
    """What "Send again" did, e.g. "1 sent; 1 failed again (is_archived)."."""
    parts = [f"{len(outcome['sent'])} sent"]
    for key, what in (
        ("failed", "failed again"),
        ("pending", "still waiting for a retry"),
        ("skipped", "skipped"),
    ):
        if outcome[key]:
            parts.append(_counted(outcome[key], what))
    return "; ".join(parts) + "."
