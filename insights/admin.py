from django.contrib import admin

from insights import services
from insights.models import (
    EmbeddingCache,
    FailureClass,
    InsightRun,
    PostmortemClassification,
)


@admin.register(FailureClass)
class FailureClassAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "origin", "updated_at"]
    list_filter = ["status", "origin"]
    search_fields = ["name", "slug", "description"]
    readonly_fields = ["slug", "terms", "merged_into", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # A new class gets its slug here; an existing one keeps it forever.
        return self.readonly_fields if obj else ["terms", "merged_into"]

    # The admin writes classes without the curation services: as they do, a
    # change to what the classifier reads queues a full run.
    def save_model(self, request, obj, form, change) -> None:
        before = FailureClass.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        if before is None or services.class_reading(before) != services.class_reading(
            obj
        ):
            services.classes_changed(user=request.user)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        services.classes_changed(user=request.user)

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        services.classes_changed(user=request.user)


@admin.register(PostmortemClassification)
class PostmortemClassificationAdmin(admin.ModelAdmin):
    list_display = ["postmortem", "failure_class", "source", "confidence", "updated_at"]
    list_filter = ["source", "failure_class"]
    raw_id_fields = ["postmortem", "embedding", "confirmed_by"]
    list_select_related = ["postmortem__incident", "failure_class"]


@admin.register(InsightRun)
class InsightRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "model_name", "progress", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in InsightRun._meta.fields]


@admin.register(EmbeddingCache)
class EmbeddingCacheAdmin(admin.ModelAdmin):
    list_display = ["model_name", "text_hash", "dimension", "created_at"]
    list_filter = ["model_name"]
    readonly_fields = ["model_name", "text_hash", "dimension", "created_at"]
    exclude = ["vector"]
