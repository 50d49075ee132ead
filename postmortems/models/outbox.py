"""The transactional outbox: Celery tasks recorded with the write that needs them."""

from django.db import models


class OutboxTask(models.Model):
    """A task to send to the broker once the transaction that wrote it commits.

    If the broker is down the row stays, and the relay sends it later, so follow-on
    work is never lost. Rows are deleted once the broker has accepted the task.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.task_name}({self.kwargs})"
