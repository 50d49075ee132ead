"""Every write of the trackers app: linking an item to an issue, creating the
issue, applying what the tracker says, the relay and the nightly reconcile.

The tracker is the source of truth for a linked item's done and won't do: its
changes move the item through ``actions.services.action_item_set_status`` (the
same rules as a person's change), with the tracker user in the history's reason.
Hindsight does not push its own status changes to the tracker; where the two
differ, the item's page and the dashboard say so.

A tracker outage never blocks a save: the link row is the outbox. ``sync_due`` is
set with the row, the task clears it once the tracker answered, and the relay
(every minute) resends what stays due, backing off after each failure.
"""

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from actions import services as action_services
from actions.models import ActionItem
from postmortems import extensions, outbox
from trackers import sync
from trackers.models import TrackerConfig, TrackerLink
from trackers.providers import get_provider
from trackers.providers.base import (
    IssueDraft,
    RemoteIssue,
    TrackerError,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

# A sent task that has not cleared the row by then counts as lost.
RESEND_AFTER = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=1)
# How long a running sync owns its link: well past the tracker's timeout, so
# only a worker that died mid-call leaves a claim to expire.
CLAIM_FOR = dt.timedelta(minutes=5)


class UnknownIssue(Exception):
    """A webhook about an issue no action item is linked to."""


def backoff(attempts: int) -> dt.timedelta:
    """Wait before retry number ``attempts``: 1, 2, 4... minutes, at most an hour."""
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _config(item: ActionItem) -> TrackerConfig:
    config = TrackerConfig.objects.filter(team_id=item.team_id, enabled=True).first()
    if config is None:
        raise ValidationError(
            f"The team {item.team} has no issue tracker set up; an admin adds one "
            "under Admin → Issue trackers → Tracker configs."
        )
    return config


def _provider_or_error(config: TrackerConfig):
    provider = get_provider(config.provider, base_url=config.base_url)
    if not provider.configured():
        raise ValidationError(
            f"{provider.label} credentials are not set on this server; see "
            "docs/integrations.md for the environment variables."
        )
    return provider


def _existing_link(item: ActionItem) -> None:
    link = TrackerLink.objects.filter(item=item).first()
    if link is not None:
        raise ValidationError(
            f"This item is already linked to {link}. Unlink it first."
        )


@transaction.atomic
def tracker_issue_create(*, item: ActionItem, actor) -> TrackerLink:
    """Create the item's issue in its team's tracker (after commit, retried)."""
    config = _config(item)
    _provider_or_error(config)
    _existing_link(item)
    if not item.is_open:
        raise ValidationError(
            "This item is closed; link the issue that closed it instead."
        )
    link = TrackerLink.objects.create(
        item=item,
        provider=config.provider,
        base_url=config.base_url,
        sync_due=timezone.now() + RESEND_AFTER,
        created_by=actor,
    )
    tracker_sync_on_commit(link.pk)
    return link


@transaction.atomic
def tracker_issue_link(*, item: ActionItem, text: str, actor) -> TrackerLink:
    """Link the item to an existing issue given by key or URL; its state follows."""
    config = _config(item)
    provider = _provider_or_error(config)
    _existing_link(item)
    try:
        key = provider.parse_key(text, project=config.project)
    except ValueError as exc:
        raise ValidationError({"issue": str(exc)}) from None
    taken = (
        TrackerLink.objects.filter(provider=config.provider, remote_key=key)
        .values_list("item_id", flat=True)
        .first()
    )
    if taken is not None:
        raise ValidationError({"issue": f"{key} is already linked to AI-{taken}."})
    url = _guess_url(provider, key)
    link = TrackerLink.objects.create(
        item=item,
        provider=config.provider,
        base_url=config.base_url,
        remote_key=key,
        remote_url=url,
        sync_due=timezone.now() + RESEND_AFTER,
        created_by=actor,
    )
    action_services.action_item_update(
        item=item,
        actor=actor,
        tracker_provider=config.provider,
        tracker_key=key,
        tracker_url=url,
        via_tracker=True,
    )
    tracker_sync_on_commit(link.pk)
    return link


@transaction.atomic
def tracker_link_remove(*, item: ActionItem, actor) -> None:
    """Stop following the item's issue; the item keeps its status."""
    TrackerLink.objects.filter(item=item).delete()
    action_services.action_item_update(
        item=item,
        actor=actor,
        tracker_provider="",
        tracker_key="",
        tracker_url="",
        via_tracker=True,
    )


def tracker_link_resync(*, link: TrackerLink) -> None:
    """Create (if it failed) or re-read the issue now, as a person asked."""
    TrackerLink.objects.filter(pk=link.pk).update(
        sync_due=timezone.now() + RESEND_AFTER
    )
    tracker_sync_on_commit(link.pk)


def tracker_sync_on_commit(link_id: int) -> None:
    # Robust: the item is saved whatever the broker does; the row stays due.
    transaction.on_commit(lambda: _send_or_mark_due(link_id), robust=True)


def _send_or_mark_due(link_id: int) -> None:
    if not _send(link_id):
        TrackerLink.objects.filter(pk=link_id, sync_due__isnull=False).update(
            sync_due=timezone.now()
        )


def _send(link_id: int) -> bool:
    from trackers import tasks

    try:
        tasks.tracker_sync.apply_async(kwargs={"link_id": link_id}, retry=False)
    except outbox.BROKER_ERRORS as exc:
        logger.warning("Broker unavailable; tracker link %s waits: %s", link_id, exc)
        return False
    return True


def tracker_link_sync(*, link_id: int) -> str:
    """Create the link's issue, or fetch its state, and apply it (the task body).

    The link is claimed first with a conditional update, so a second copy of the
    task finds it taken and does nothing: the issue is never created twice. The
    tracker is called outside any transaction (no lock held for its timeout),
    and a created issue's key is saved at once, so whatever fails afterwards the
    next pass fetches the issue instead of creating another.
    """
    now = timezone.now()
    claimed = (
        TrackerLink.objects.filter(pk=link_id, sync_due__isnull=False)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=now + CLAIM_FOR)
    )
    if claimed != 1:
        return "nothing due"
    # The link and its item in one read before the call, and one read (locked)
    # after it: the item may have changed while the tracker answered.
    link = TrackerLink.objects.select_related("item__team").get(pk=link_id)
    try:
        item = link.item
        provider = get_provider(link.provider, base_url=link.base_url)
        creating = link.is_pending
        if creating:
            config = _config(item)
            issue = provider.create_issue(
                IssueDraft(
                    title=item.title,
                    description=_description(item),
                    project=config.project,
                    labels=config.label_list,
                    issue_type=config.issue_type,
                )
            )
            # Saved on its own straight away: the issue exists from now on.
            TrackerLink.objects.filter(pk=link_id).update(
                remote_key=issue.key,
                remote_id=issue.id or link.remote_id,
                remote_url=issue.url or link.remote_url,
            )
        else:
            issue = provider.fetch_issue(link.remote_key)
    except (TrackerError, ValidationError) as exc:
        return _record_failure(link_id, exc)
    try:
        with transaction.atomic():
            link = (
                # The link and its item locked, not their team.
                TrackerLink.objects.select_for_update(of=("self", "item"))
                .select_related("item__team")
                .get(pk=link_id)
            )
            item = link.item
            also = ["sync_due", "attempts", "last_error", "claimed_until"]
            if not creating:  # a created issue's key is saved already
                link.remote_key, link.remote_id = issue.key, issue.id or link.remote_id
                link.remote_url = issue.url or link.remote_url
                also += REMOTE_KEY_FIELDS
            link.sync_due, link.attempts, link.last_error = None, 0, ""
            link.claimed_until = None
            _item_follows_link(item, link)
            via = "created" if creating else "fetched"
            return _apply(
                link,
                item,
                issue,
                actor_name="",
                when=None,
                via=via,
                also=also,
            )
    except Exception as exc:
        # Whatever it was, the issue exists: record it and retry with backoff.
        logger.exception("Tracker link %s: applying the issue failed", link_id)
        return _record_failure(link_id, exc, transient=True)


def _item_follows_link(item: ActionItem, link: TrackerLink) -> None:
    """Write the link's issue into the item's tracker fields (the system's write)."""
    wanted = (link.provider, link.remote_key, link.remote_url or item.tracker_url)
    if (item.tracker_provider, item.tracker_key, item.tracker_url) == wanted:
        return
    action_services.action_item_update(
        item=item,
        actor=None,
        tracker_provider=wanted[0],
        tracker_key=wanted[1],
        tracker_url=wanted[2],
        change_reason=f"{link.get_provider_display()} {link.remote_key} linked",
        via_tracker=True,
    )


def _record_failure(
    link_id: int, exc: Exception, *, transient: bool | None = None
) -> str:
    if transient is None:
        transient = getattr(exc, "transient", False)
    messages = getattr(exc, "messages", None) or [str(exc) or type(exc).__name__]
    with transaction.atomic():
        link = TrackerLink.objects.select_for_update().get(pk=link_id)
        link.attempts += 1
        link.last_error = "; ".join(messages)[:1000]
        link.sync_due = timezone.now() + backoff(link.attempts) if transient else None
        link.claimed_until = None
        link.save(update_fields=["attempts", "last_error", "sync_due", "claimed_until"])
    logger.warning("Tracker link %s failed (%s): %s", link_id, link.attempts, exc)
    return "retry later" if transient else "failed"


def tracker_webhook_apply(*, provider_name: str, event: WebhookEvent) -> str:
    """Apply a verified webhook; raises UnknownIssue when no item follows it."""
    issue = event.issue
    if issue is None:
        return "ping"
    match = Q(remote_key=issue.key)
    if issue.id:
        match |= Q(remote_id=issue.id)
    with transaction.atomic():
        link = (
            TrackerLink.objects.select_for_update()
            .filter(match, provider=provider_name)
            .first()
        )
        if link is None:
            raise UnknownIssue(issue.key)
        updated = issue.updated_at or event.occurred_at
        if updated and link.remote_updated_at and updated < link.remote_updated_at:
            # Deliveries may arrive out of order or be retried late, also after
            # the reconcile read a newer state through the API.
            return "stale"
        item = ActionItem.objects.select_related("team").get(pk=link.item_id)
        # A Linear issue moved to another team gets a new identifier.
        link.remote_key = issue.key
        link.remote_id = issue.id or link.remote_id
        link.remote_url = link.remote_url or issue.url
        return _apply(
            link,
            item,
            issue,
            actor_name=event.actor,
            when=event.occurred_at,
            via="webhook",
            also=REMOTE_KEY_FIELDS,
        )


# What _apply writes on the link; REMOTE_KEY_FIELDS name the issue itself.
APPLY_FIELDS = [
    "remote_state",
    "remote_status",
    "remote_changed_by",
    "remote_changed_at",
    "remote_updated_at",
    "last_synced_at",
    "last_error",
]
REMOTE_KEY_FIELDS = ["remote_key", "remote_id", "remote_url"]


def _apply(
    link: TrackerLink,
    item: ActionItem,
    issue: RemoteIssue,
    *,
    actor_name: str,
    when: dt.datetime | None,
    via: str,
    also: list[str],
) -> str:
    """Record the issue's state on the link and move the item if it must.

    Saves the fields it sets, and ``also`` those the caller set.
    """
    now = timezone.now()
    changed = (issue.status, issue.state) != (link.remote_status, link.remote_state)
    link.remote_state, link.remote_status = issue.state, issue.status
    if via == "webhook":
        # The tracker's own time: later deliveries are compared with it.
        link.remote_changed_by = actor_name
        link.remote_changed_at = when or now
    elif changed:
        # Read through the API, which does not say who changed it.
        link.remote_changed_by, link.remote_changed_at = "", issue.updated_at
    updated = issue.updated_at or (when if via == "webhook" else None)
    if updated and (not link.remote_updated_at or updated > link.remote_updated_at):
        link.remote_updated_at = updated
    link.last_synced_at = now
    target = sync.transition(item_status=item.status, remote_status=issue.status)
    outcome = "in step"
    if target is not None:
        label = link.get_provider_display()
        at = f"{timezone.localtime(when or now, dt.UTC):%Y-%m-%d %H:%M} UTC"
        state = issue.state or issue.status
        if actor_name:
            text = (
                f"Closed in {label}: {issue.key} set to {state} by {actor_name} "
                f"on {at}."
            )
            why = f"{label} {issue.key}: {state} by {actor_name}"
        else:
            text = (
                f"Closed in {label}: {issue.key} found {state} by Hindsight's "
                f"sync on {at}."
            )
            why = f"{label} {issue.key}: {state} (Hindsight's sync)"
        try:
            action_services.action_item_set_status(
                item=item,
                status=target,
                actor=None,
                reason=text if target == "wont_do" else "",
                verification_note=text if target == "done" else "",
                change_reason=why,
            )
        except ValidationError as exc:
            link.last_error = (
                f"The item could not follow the issue to {target}: "
                + "; ".join(exc.messages)
            )[:1000]
            outcome = "refused"
        else:
            link.last_error = ""
            outcome = f"moved to {target}"
    link.save(update_fields=[*APPLY_FIELDS, *also])
    return outcome


def tracker_links_pending() -> int:
    """How many links wait to create their issue or fetch its state."""
    return TrackerLink.objects.filter(sync_due__isnull=False).count()


def tracker_links_relay(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send the sync of every link still due; stops when the broker refuses."""
    now = now or timezone.now()
    ids = list(
        TrackerLink.objects.filter(sync_due__lte=now)
        .order_by("sync_due", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for link_id in ids:
        # Pushed on first, so a slow queue gets one copy per RESEND_AFTER.
        pushed = TrackerLink.objects.filter(pk=link_id, sync_due__lte=now).update(
            sync_due=now + RESEND_AFTER
        )
        if not pushed:
            continue
        if not _send(link_id):
            TrackerLink.objects.filter(pk=link_id).update(sync_due=now)
            break
        sent += 1
    return sent


def trackers_reconcile() -> dict[str, int]:
    """Re-read every linked issue and apply its state: what lost webhooks missed."""
    ids = list(
        TrackerLink.objects.exclude(remote_key="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    TrackerLink.objects.filter(pk__in=ids, sync_due__isnull=True).update(
        sync_due=timezone.now() + RESEND_AFTER
    )
    outcomes: dict[str, int] = {}
    for link_id in ids:
        outcome = tracker_link_sync(link_id=link_id)
        key = outcome.split(" to ")[0]
        outcomes[key] = outcomes.get(key, 0) + 1
    logger.info("Tracker reconcile: %s", outcomes)
    return outcomes


def _guess_url(provider, key: str) -> str:
    """The issue's web address before the tracker told us (Linear: unknown)."""
    if provider.name == "jira":
        return provider.browse_url(key)
    if provider.name == "github":
        repo, _, number = key.partition("#")
        host = (
            "https://github.com"
            if provider.api_url.rstrip("/") == "https://api.github.com"
            else provider.api_url.rsplit("/api/", 1)[0]
        )
        return f"{host}/{repo}/issues/{number}"
    return ""


def _description(item: ActionItem) -> str:
    from django.conf import settings

    url = settings.SITE_URL.rstrip("/") + item.get_absolute_url()
    parts = [item.description.strip(), f"Hindsight action item AI-{item.pk}: {url}"]
    return "\n\n".join(p for p in parts if p)


# Sent by the one relay (postmortems.outbox_relay, every minute, and
# ``manage.py relay_outbox``), as the core's outbox and findings' follow-ups are.
RELAY = extensions.Relay(
    sent_label="the sync of {count} tracker link(s)",
    pending_label="{count} tracker link(s) not yet in step",
    send=tracker_links_relay,
    pending=tracker_links_pending,
)
