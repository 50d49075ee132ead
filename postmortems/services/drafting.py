"""Fill a new postmortem with the first draft written from its incident's record,
and accept drafted parts once a person has read them.

The rules that turn the record into sentences are in ``postmortems.drafting``
(pure); this module reads the record and writes the draft through the model, so
the version history shows that the text was drafted and by which rules.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from postmortems import drafting, extensions, permissions, selectors
from postmortems.metrics import incident_metrics
from postmortems.models import (
    ContributingFactor,
    Hypothesis,
    HypothesisStatus,
    Incident,
    Postmortem,
)
from postmortems.models.postmortem import text_digest

logger = logging.getLogger(__name__)

REASON_DRAFTED = "Drafted from the incident's record"
REASON_ACCEPTED = "Accepted drafted text"


def person(user) -> str:
    """How a draft names a person: full name, else username; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def incident_facts(*, incident: Incident) -> drafting.IncidentFacts:
    """Everything the draft may say about ``incident``, as plain data."""
    timeline = [
        drafting.TimelineFact(
            occurred_at=entry.occurred_at,
            kind=entry.kind,
            text=entry.text,
            source_label=entry.get_source_display(),
            author=person(entry.author),
        )
        for entry in incident.timeline.select_related("author").order_by(
            "occurred_at", "pk"
        )
    ]
    # Analyzer findings and the open work of similar past incidents come from
    # the apps that hold them (``extensions.draft_fact_providers``).
    extra: dict[str, list] = {}
    for provider in extensions.draft_fact_providers:
        for name, items in provider(incident=incident).items():
            extra.setdefault(name, []).extend(items)
    services = list(incident.services.select_related("team").order_by("name"))
    return drafting.IncidentFacts(
        reference=incident.reference,
        title=incident.title,
        severity_label=incident.get_severity_display(),
        team=incident.team.name,
        services=[service.name for service in services],
        other_teams=sorted(
            {service.team.name for service in services} - {incident.team.name}
        ),
        lifecycle=incident.lifecycle,
        metrics=incident_metrics(incident.lifecycle),
        timeline=timeline,
        findings=extra.get("findings", []),
        prior_work=extra.get("prior_work", []),
    )


@transaction.atomic
def postmortem_fill_draft(*, postmortem: Postmortem, actor) -> drafting.Draft:
    """Write the first draft into a postmortem nobody has written in yet."""
    current = (
        Postmortem.objects.select_for_update()
        .select_related("incident__team", "template")
        .get(pk=postmortem.pk)
    )
    if not permissions.can_edit_postmortem(actor, current):
        raise PermissionDenied("You cannot edit this postmortem.")
    if any((text or "").strip() for text in (current.sections or {}).values()) or (
        current.contributing_factors.exists() or current.hypotheses.exists()
    ):
        raise ValidationError(
            "This postmortem already has text; a draft only fills an empty one."
        )
    draft = drafting.draft_postmortem(
        incident_facts(incident=current.incident), current.template.section_keys
    )
    sections = dict(current.sections or {})
    sections.update(draft.sections)
    current.sections = sections
    current.drafted_sections = {
        key: text_digest(text) for key, text in draft.sections.items()
    }
    ContributingFactor.objects.bulk_create(
        ContributingFactor(
            postmortem=current,
            kind=factor.kind,
            description=factor.description,
            drafted_from=factor.drafted_from,
            position=position,
        )
        for position, factor in enumerate(draft.factors)
    )
    for hypothesis in draft.hypotheses:
        Hypothesis.objects.create(
            postmortem=current,
            text=hypothesis.text,
            status=HypothesisStatus.RULED_OUT,
            test=hypothesis.test,
            drafted_from=hypothesis.drafted_from,
        )
    current.version += 1
    current.list_parts = selectors.postmortem_list_parts(postmortem=current)
    current._history_user = actor
    current._change_reason = REASON_DRAFTED
    current.save()
    extensions.postmortem_text_changed(postmortem_id=current.pk)
    # The caller's object shows the draft.
    postmortem.version = current.version
    postmortem.sections = current.sections
    postmortem.drafted_sections = current.drafted_sections
    logger.info(
        "Postmortem %s drafted: %d sections, %d factors, %d hypotheses",
        current.pk,
        len(draft.sections),
        len(draft.factors),
        len(draft.hypotheses),
    )
    return draft


@transaction.atomic
def postmortem_accept_drafted(
    *,
    postmortem: Postmortem,
    actor,
    section: str | None = None,
    factor_id: int | None = None,
    hypothesis_id: int | None = None,
) -> None:
    """A person read a drafted part and keeps it as it is: it is no longer drafted."""
    current = Postmortem.objects.select_for_update().get(pk=postmortem.pk)
    if not permissions.can_edit_postmortem(actor, current):
        raise PermissionDenied("You cannot edit this postmortem.")
    if section is not None:
        if section not in current.drafted_keys:
            raise ValidationError({"section": "That section is not a draft."})
        drafted = dict(current.drafted_sections)
        drafted.pop(section)
        current.drafted_sections = drafted
        current.version += 1
        current._history_user = actor
        current._change_reason = REASON_ACCEPTED
        current.save()
        postmortem.version = current.version
        return
    rows = (
        current.contributing_factors.filter(pk=factor_id)
        if factor_id is not None
        else current.hypotheses.filter(pk=hypothesis_id)
        if hypothesis_id is not None
        else None
    )
    if rows is None:
        raise ValidationError("Say which drafted part you accept.")
    if rows.exclude(drafted_from="").update(drafted_from="") != 1:
        raise ValidationError("That row is not a draft.")
