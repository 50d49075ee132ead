"""Every write to action items that has rules: create, update, status, coverage,
reminders and leadership decisions.

Changes go through model saves so django-simple-history records each one with who
made it (``_history_user``) and when.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from actions import extensions, permissions, selectors, signals
from actions.models import (
    OPEN_STATUSES,
    REASON_REQUIRED,
    ActionItem,
    Category,
    Decision,
    DuePolicy,
    LeadershipReview,
    Priority,
    ReminderLog,
    ReviewDecision,
    Status,
)
from postmortems.signals import send_on_commit

logger = logging.getLogger(__name__)

# Fields a plain edit may change; status goes through action_item_set_status.
EDITABLE_FIELDS = (
    "title",
    "description",
    "category",
    "priority",
    "team",
    "owner",
    "due_date",
    "postmortem",
    "tracker_provider",
    "tracker_key",
    "tracker_url",
)
# How many days ahead an owner is reminded of an item coming due.
REMIND_DAYS_AHEAD = 3


def due_date_for_priority(*, priority: str, start: dt.date | None = None) -> dt.date:
    """The default due date for ``priority`` under the admin-edited DuePolicy."""
    start = start or timezone.localdate()
    policy = DuePolicy.objects.filter(priority=priority).first()
    if policy is None:
        # No row for this priority: fall back to the shipped defaults.
        days = {"P0": 7, "P1": 30, "P2": 90, "P3": 180}.get(priority, 90)
    else:
        days = policy.days
    return start + dt.timedelta(days=days)


def _save(item: ActionItem, *, actor, reason: str = "") -> None:
    """Save with history, then announce a new owner or status after commit."""
    before = (
        ActionItem.objects.filter(pk=item.pk).values("owner_id", "status").first()
        if item.pk
        else None
    ) or {"owner_id": None, "status": None}
    item._history_user = actor
    if reason:
        item._change_reason = reason[:100]
    item.full_clean()
    item.save()
    actor_id = getattr(actor, "pk", None)
    if item.owner_id and item.owner_id != before["owner_id"]:
        send_on_commit(
            signals.action_item_assigned,
            sender=ActionItem,
            item_id=item.pk,
            owner_id=item.owner_id,
            actor_id=actor_id,
        )
    if before["status"] is not None and item.status != before["status"]:
        send_on_commit(
            signals.action_item_status_changed,
            sender=ActionItem,
            item_id=item.pk,
            from_status=before["status"],
            to_status=item.status,
            actor_id=actor_id,
        )


def _apply_status(
    item: ActionItem, *, status: str, reason: str, verification_note: str
) -> None:
    """Set status and the fields that go with it, enforcing the rules."""
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    reason = (reason or "").strip()
    verification_note = (verification_note or "").strip()
    if status in REASON_REQUIRED and not reason:
        label = "is blocked" if status == Status.BLOCKED else "won't be done"
        raise ValidationError({"status_reason": f"Say why this item {label}."})
    if status == Status.DONE and not verification_note:
        raise ValidationError(
            {
                "verification_note": "Say how we know it worked (a test, an alert "
                "that fired, a drill)."
            }
        )
    previous = item.status
    item.status = status
    item.status_reason = reason if status in REASON_REQUIRED else ""
    if status == Status.DONE:
        item.verification_note = verification_note
        if previous != Status.DONE or item.completed_at is None:
            item.completed_at = timezone.now()
    else:
        item.completed_at = None
        if verification_note:
            item.verification_note = verification_note


def _check_targets(item: ActionItem, *, actor, before: dict) -> None:
    """Where a person may put an item: one of their teams, and a postmortem whose
    team they edit for. Without an actor the write is the system's own."""
    if actor is None:
        return
    if item.team_id != before.get("team_id") and not (
        permissions.editable_teams(actor).filter(pk=item.team_id).exists()
    ):
        raise ValidationError({"team": "You can only assign items to your own teams."})
    if (
        item.postmortem_id is not None
        and item.postmortem_id != before.get("postmortem_id")
        and not permissions.can_add_items_to(actor, item.postmortem)
    ):
        raise PermissionDenied(
            "Only editors of the postmortem's team add action items to it."
        )


def _check_can_edit(item: ActionItem, actor) -> None:
    if actor is not None and not permissions.can_edit_item(actor, item):
        raise PermissionDenied("Only editors of the item's team change it.")


def action_item_create(
    *,
    title: str,
    description: str = "",
    category: str,
    priority: str = Priority.P2,
    team,
    owner=None,
    postmortem=None,
    due_date: dt.date | None = None,
    created_by=None,
    tracker_provider: str = "",
    tracker_key: str = "",
    tracker_url: str = "",
    status: str = Status.OPEN,
    status_reason: str = "",
    verification_note: str = "",
) -> ActionItem:
    """Create an item; without a due date, its priority's DuePolicy sets one."""
    item = ActionItem(
        title=title,
        description=description or "",
        category=category,
        priority=priority,
        team=team,
        owner=owner,
        postmortem=postmortem,
        due_date=due_date or due_date_for_priority(priority=priority),
        created_by=created_by,
        tracker_provider=tracker_provider or "",
        tracker_key=tracker_key or "",
        tracker_url=tracker_url or "",
    )
    _check_targets(item, actor=created_by, before={})
    _apply_status(
        item,
        status=status,
        reason=status_reason,
        verification_note=verification_note,
    )
    _save(item, actor=created_by)
    return item


def action_item_update(
    *,
    item: ActionItem,
    actor,
    change_reason: str = "",
    via_tracker: bool = False,
    **changes,
) -> ActionItem:
    """Change an item's fields; a status change follows action_item_set_status.

    The tracker reference is locked while an integration follows it (see
    actions.extensions); only that integration's own writes (``via_tracker``)
    change it then. Its sync writes as the system (``actor=None``).
    """
    status = changes.pop("status", None)
    reason = changes.pop("status_reason", None)
    note = changes.pop("verification_note", None)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    # Compared with the stored row: a ModelForm has already changed ``item``.
    stored = ActionItem.objects.select_related("postmortem__incident").get(pk=item.pk)
    _check_can_edit(stored, actor)
    if not via_tracker:
        _check_reference_unlocked(stored, changes)
    before = {"team_id": stored.team_id, "postmortem_id": stored.postmortem_id}
    for name, value in changes.items():
        setattr(item, name, value)
    if "due_date" in changes and changes["due_date"] is None:
        item.due_date = due_date_for_priority(priority=item.priority)
    if status is not None or reason is not None or note is not None:
        _apply_status(
            item,
            status=status or item.status,
            reason=item.status_reason if reason is None else reason,
            verification_note=item.verification_note if note is None else note,
        )
    _check_targets(item, actor=actor, before=before)
    _save(item, actor=actor, reason=change_reason)
    return item


def _check_reference_unlocked(stored: ActionItem, changes: dict) -> None:
    changed = [
        name
        for name in extensions.TRACKER_REFERENCE_FIELDS
        if name in changes and (changes[name] or "") != getattr(stored, name)
    ]
    if not changed:
        return
    reason = extensions.reference_lock_reason(stored)
    if reason:
        raise ValidationError(
            {name: reason for name in changed}, code="tracker_reference_locked"
        )


def action_item_set_status(
    *,
    item: ActionItem,
    status: str,
    actor,
    reason: str = "",
    verification_note: str = "",
    change_reason: str = "",
) -> ActionItem:
    """Move an item to ``status``.

    Blocked and won't do need a reason; done needs a verification note and stamps
    the completion time; reopening clears it. ``change_reason`` goes into the
    item's history (an issue tracker names who moved the issue there).
    """
    _check_can_edit(item, actor)
    _apply_status(
        item,
        status=status,
        reason=reason,
        verification_note=verification_note or item.verification_note,
    )
    _save(item, actor=actor, reason=change_reason)
    return item


def coverage_check(*, postmortem) -> None:
    """Refuse approval while the coverage policy's categories lack an item."""
    coverage = selectors.coverage_for_postmortem(postmortem)
    if coverage["missing"]:
        labels = dict(Category.choices)
        missing = ", ".join(labels[c].lower() for c in coverage["missing"])
        severity = postmortem.incident.severity
        raise ValidationError(
            f"A {severity} postmortem needs at least one action item in each of: "
            f"{', '.join(labels[c].lower() for c in coverage['required'])}. "
            f"Missing: {missing}. Add the items before approving.",
            code="coverage_missing",
        )


# Reminders -----------------------------------------------------------------------


def reminders_due_items(*, today: dt.date):
    """Open items with an owner due within REMIND_DAYS_AHEAD days or overdue."""
    horizon = today + dt.timedelta(days=REMIND_DAYS_AHEAD)
    return (
        ActionItem.objects.filter(
            status__in=OPEN_STATUSES,
            owner__isnull=False,
            due_date__lte=horizon,
        )
        .exclude(owner__email="")
        .exclude(reminders__date=today)
        .select_related("owner", "team")
        .order_by("owner_id", "due_date", "pk")
    )


def _claim(item: ActionItem, today: dt.date) -> bool:
    """Claim today's reminder for ``item``; False if another run already did."""
    try:
        with transaction.atomic():
            ReminderLog.objects.create(item=item, date=today)
    except IntegrityError:
        return False
    return True


def action_items_announce_overdue(*, today: dt.date) -> int:
    """Announce every open overdue item, owned or not (chat posts once per item
    and due date); independent of the emails, which need an owner with an email."""
    overdue = ActionItem.objects.filter(
        status__in=OPEN_STATUSES, due_date__lt=today
    ).values_list("pk", "due_date")
    items = [
        {"item_id": item_id, "due_date": due_date.isoformat()}
        for item_id, due_date in overdue.order_by("pk")
    ]
    if items:
        send_on_commit(signals.action_items_overdue, sender=ActionItem, items=items)
    return len(items)


def reminders_send(*, today: dt.date | None = None) -> int:
    """Email each owner their items due soon or overdue; at most once a day each.

    Each item is claimed with a unique (item, date) row before any mail goes out,
    so a second run the same day (or a concurrent one) sends nothing twice. If
    sending fails the claims are released so a retry can send them.
    """
    today = today or timezone.localdate()
    action_items_announce_overdue(today=today)
    by_owner: dict[int, list[ActionItem]] = {}
    owners = {}
    for item in reminders_due_items(today=today):
        if _claim(item, today):
            by_owner.setdefault(item.owner_id, []).append(item)
            owners[item.owner_id] = item.owner
    sent = 0
    for owner_id, items in by_owner.items():
        owner = owners[owner_id]
        overdue = [i for i in items if i.due_date < today]
        upcoming = [i for i in items if i.due_date >= today]
        context = {
            "owner": owner,
            "overdue": overdue,
            "upcoming": upcoming,
            "today": today,
            "site_url": settings.SITE_URL.rstrip("/"),
        }
        subject = f"Hindsight: {len(overdue)} overdue, {len(upcoming)} due soon"
        body = render_to_string("actions/email/reminder.txt", context)
        try:
            send_mail(subject, body, None, [owner.email])
        except Exception:
            ReminderLog.objects.filter(item__in=items, date=today).delete()
            raise
        sent += len(items)
    logger.info("Sent %s action-item reminders to %s owners", sent, len(by_owner))
    return sent


# Leadership reviews ----------------------------------------------------------------


def leadership_review_create(
    *, date: dt.date, recorded_by, attendees=(), notes: str = ""
) -> LeadershipReview:
    """Record that a leadership review took place."""
    review = LeadershipReview.objects.create(
        date=date, recorded_by=recorded_by, notes=notes or ""
    )
    review.attendees.set(attendees)
    return review


ESCALATION = {Priority.P3: Priority.P2, Priority.P2: Priority.P1, Priority.P1: "P0"}


@transaction.atomic
def review_decision_record(
    *,
    review: LeadershipReview,
    item: ActionItem,
    decision: str,
    actor,
    note: str = "",
    new_due_date: dt.date | None = None,
) -> ReviewDecision:
    """Record a decision in the ledger and apply it to the item.

    Re-date moves the due date; escalate raises the priority one step (P0 stays
    P0); close as won't do closes the item with the note as its reason; accepting
    the risk leaves the item as it is, on the record.
    """
    record = ReviewDecision(
        review=review,
        item=item,
        decision=decision,
        note=(note or "").strip(),
        new_due_date=new_due_date if decision == Decision.REDATE else None,
        previous_due_date=item.due_date,
        previous_priority=item.priority,
        previous_status=item.status,
        recorded_by=actor,
    )
    record.full_clean()
    why = f"Leadership review {review.date:%Y-%m-%d}: {record.get_decision_display()}"
    if decision == Decision.REDATE:
        item.due_date = new_due_date
        _save(item, actor=actor, reason=why)
    elif decision == Decision.ESCALATE:
        item.priority = ESCALATION.get(item.priority, item.priority)
        _save(item, actor=actor, reason=why)
    elif decision == Decision.WONT_DO:
        _apply_status(
            item, status=Status.WONT_DO, reason=record.note, verification_note=""
        )
        _save(item, actor=actor, reason=why)
    record.save()
    return record
