"""The Idempotency-Key header: one response per key, a different body is refused."""

import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from findings.models import ApiKey, IdempotencyRecord

IDEMPOTENCY_TTL = dt.timedelta(hours=24)


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key sent again with a different body (422)."""


class _LostRace(Exception):
    pass


def idempotent_call(
    *,
    api_key: ApiKey,
    key: str | None,
    request_hash: str,
    operation: Callable[[], tuple[int, dict]],
) -> tuple[int, dict, bool]:
    """Run ``operation`` once per Idempotency-Key: ``(status, body, replayed)``.

    The record is written in the operation's transaction, so a failed request stores
    nothing and may be retried with the same key. Two concurrent requests with the
    same key: the second waits on the unique index, then replays the first.
    """
    if not key:
        status, body = operation()
        return status, body, False
    record = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
    if record is not None and record.created_at < timezone.now() - IDEMPOTENCY_TTL:
        record.delete()
        record = None
    if record is not None:
        return _replay(record, request_hash)
    try:
        with transaction.atomic():
            status, body = operation()
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        api_key=api_key,
                        key=key,
                        request_hash=request_hash,
                        status_code=status,
                        response=body,
                    )
            except IntegrityError:
                raise _LostRace from None
    except _LostRace:
        record = IdempotencyRecord.objects.get(api_key=api_key, key=key)
        return _replay(record, request_hash)
    return status, body, False


def _replay(record: IdempotencyRecord, request_hash: str) -> tuple[int, dict, bool]:
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new request."
        )
    return record.status_code, record.response, True


def idempotency_records_purge(*, now: dt.datetime | None = None) -> int:
    """Delete records older than a day; returns how many."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
