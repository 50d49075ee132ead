"""Insights reads, one module per thing read: report rows, classes, memberships,
similar incidents, confirmations and runs."""

from insights.selectors.classes import (
    failure_class_detail,
    failure_class_list,
    postmortems_for_page,
)
from insights.selectors.confirmations import (
    STATEMENT_LABELS,
    ConfirmCandidate,
    EffectRow,
    confirm_next,
    confirmation_effects,
    confirmation_history,
    statement_label,
)
from insights.selectors.memberships import (
    CALIBRATED_SOURCES,
    Membership,
    class_memberships,
    classification_of,
    memberships_of,
    postmortem_class_memberships,
    validated_statement_kinds,
)
from insights.selectors.report import (
    report_data,
    report_memberships,
)
from insights.selectors.runs import (
    FALLBACK_CONFIDENCE_THRESHOLD,
    UNREAD,
    abstain_threshold,
    confidence_threshold,
    last_successful_run,
    latest_runs,
)
from insights.selectors.similar import (
    PastVectors,
    past_vectors_with_open_items,
    postmortem_vectors_exist,
    similar_incidents,
)

__all__ = [
    "CALIBRATED_SOURCES",
    "ConfirmCandidate",
    "EffectRow",
    "FALLBACK_CONFIDENCE_THRESHOLD",
    "Membership",
    "PastVectors",
    "STATEMENT_LABELS",
    "UNREAD",
    "abstain_threshold",
    "class_memberships",
    "classification_of",
    "confidence_threshold",
    "confirm_next",
    "confirmation_effects",
    "confirmation_history",
    "failure_class_detail",
    "failure_class_list",
    "last_successful_run",
    "latest_runs",
    "memberships_of",
    "past_vectors_with_open_items",
    "postmortem_class_memberships",
    "postmortem_vectors_exist",
    "postmortems_for_page",
    "report_data",
    "report_memberships",
    "similar_incidents",
    "statement_label",
    "validated_statement_kinds",
]
