"""API keys for machines (analyzers, Alertmanager, PagerDuty, Robusta).

Keys are stored hashed by djangorestframework-api-key; the secret is shown once, when
the key is created. Each key belongs to one team and carries scopes.
"""

from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from postmortems.models.org import Team


class ApiKeyScope(models.TextChoices):
    FINDINGS_WRITE = "findings:write", "Send analyzer findings"
    ALERTS_WRITE = "alerts:write", "Send alerts (Alertmanager, PagerDuty, Robusta)"
    READ = "read", "Read findings"


class ApiKey(AbstractAPIKey):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="api_keys")
    scopes = models.JSONField(
        default=list, blank=True, help_text="What the key may do, e.g. findings:write."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @property
    def is_usable(self) -> bool:
        return not self.revoked and not self.has_expired

    def revoke(self) -> None:
        """Mark revoked (irreversible); the caller saves."""
        self.revoked = True
        self.revoked_at = self.revoked_at or timezone.now()


class IdempotencyRecord(models.Model):
    """The response to a request sent with an ``Idempotency-Key`` header.

    The same key with the same body replays the stored response; the same key with a
    different body is refused (422). Records are purged after a day.
    """

    api_key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "key"], name="idempotency_unique_key_per_api_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
