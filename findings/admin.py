"""Admin for API keys (create: the secret is shown once; revoke) and findings."""

from django import forms
from django.contrib import admin, messages
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from findings import services
from findings.models import (
    ApiKey,
    ApiKeyScope,
    Finding,
    FindingMatch,
    FindingSuggestion,
)

# The library's team-less key model would authenticate nothing here; hide it.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ["name", "team", "scopes", "expiry_date", "revoked"]


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    form = ApiKeyForm
    list_display = (
        "prefix",
        "name",
        "team",
        "scope_list",
        "created",
        "expiry_date",
        "_has_expired",
        "revoked",
    )
    list_filter = ("team", "revoked", "created")
    search_fields = ("name", "prefix")
    actions = ["revoke_selected"]

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes or [])

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            # The service records the creation; the secret is shown once, here.
            api_key, secret = services.api_key_create(
                name=obj.name,
                team=obj.team,
                scopes=obj.scopes,
                expires_at=obj.expiry_date,
                request=request,
            )
            obj.pk = api_key.pk
            obj.prefix = api_key.prefix
            obj.hashed_key = api_key.hashed_key
            obj.created = api_key.created
            obj._state.adding = False
            messages.warning(
                request,
                f"The API key for {api_key.name} is: {secret} . Store it now: it "
                "is not shown again.",
            )
            return
        was_revoked = ApiKey.objects.filter(pk=obj.pk, revoked=True).exists()
        if obj.revoked and not was_revoked:
            obj.revoked = False  # the service revokes and records it
            obj.save()
            services.api_key_revoke(api_key=obj, request=request)
            return
        obj.save()

    # Deleting a key ends its use as revoking does: record it the same way.
    def delete_model(self, request, obj) -> None:
        if not obj.revoked:
            services.api_key_revoke(api_key=obj, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for api_key in queryset.filter(revoked=False).select_related("team"):
            services.api_key_revoke(api_key=api_key, request=request)
        super().delete_queryset(request, queryset)

    @admin.action(description="Revoke the selected API keys")
    def revoke_selected(self, request, queryset) -> None:
        count = 0
        for api_key in queryset.filter(revoked=False).select_related("team"):
            services.api_key_revoke(api_key=api_key, request=request)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


class FindingSuggestionInline(admin.TabularInline):
    model = FindingSuggestion
    extra = 0
    fields = ("kind", "title", "target", "category", "status", "action_item")
    raw_id_fields = ("action_item",)


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "analyzer",
        "analyzer_version",
        "source",
        "incident",
        "severity",
        "verdict",
        "first_seen_at",
    )
    list_filter = ("source", "severity", "verdict", "analyzer")
    search_fields = ("title", "dedupe_key", "analyzer")
    raw_id_fields = ("incident", "parent", "service", "verdict_by")
    readonly_fields = ("dedupe_key", "first_seen_at", "last_seen_at", "follow_up_due")
    inlines = [FindingSuggestionInline]

    # A confirmed root cause is part of what the incident's postmortem says:
    # edits here re-read it as the pages do (the old incident's too, if moved).
    def save_model(self, request, obj, form, change) -> None:
        before = list(
            Finding.objects.filter(pk=obj.pk).values_list("incident_id", flat=True)
        )
        super().save_model(request, obj, form, change)
        services.incident_postmortems_reread(incident_ids=[obj.incident_id, *before])

    def delete_model(self, request, obj) -> None:
        incident_id = obj.incident_id
        super().delete_model(request, obj)
        services.incident_postmortems_reread(incident_ids=[incident_id])

    def delete_queryset(self, request, queryset) -> None:
        incident_ids = set(queryset.values_list("incident_id", flat=True))
        super().delete_queryset(request, queryset)
        services.incident_postmortems_reread(incident_ids=incident_ids)


@admin.register(FindingMatch)
class FindingMatchAdmin(admin.ModelAdmin):
    list_display = ("incident", "past_incident", "action_item", "reason", "created_at")
    raw_id_fields = ("incident", "finding", "past_incident", "action_item")
