from postmortems.models.audit import (
    AppendOnlyError,
    SecurityEvent,
    SecurityEventKind,
)
from postmortems.models.incident import (
    LIFECYCLE_FIELDS,
    SEVERITY_DEFINITIONS,
    Incident,
    IncidentStatus,
    Severity,
    TimelineEntry,
    TimelineKind,
    TimelineSource,
)
from postmortems.models.org import ROLE_RANK, Profile, Role, Service, Team
from postmortems.models.outbox import OutboxTask
from postmortems.models.postmortem import (
    Comment,
    ContributingFactor,
    ContributingFactorKind,
    Hypothesis,
    HypothesisStatus,
    HypothesisTrack,
    Postmortem,
    PostmortemStatus,
    PostmortemTemplate,
    WorkflowEvent,
)

__all__ = [
    "AppendOnlyError",
    "SecurityEvent",
    "SecurityEventKind",
    "LIFECYCLE_FIELDS",
    "ROLE_RANK",
    "SEVERITY_DEFINITIONS",
    "Comment",
    "ContributingFactor",
    "ContributingFactorKind",
    "Hypothesis",
    "HypothesisStatus",
    "HypothesisTrack",
    "Incident",
    "IncidentStatus",
    "OutboxTask",
    "Postmortem",
    "PostmortemStatus",
    "PostmortemTemplate",
    "Profile",
    "Role",
    "Service",
    "Severity",
    "Team",
    "TimelineEntry",
    "TimelineKind",
    "TimelineSource",
    "WorkflowEvent",
]
