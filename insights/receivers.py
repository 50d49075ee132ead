"""What insights does when the core announces or asks something (postmortems.signals).

Connected in ``InsightsConfig.ready()``; the core never imports insights.
"""

import logging

from django.contrib.auth import get_user_model

from insights import selectors
from insights.models import FailureClass
from insights.services import insight_run_request, postmortem_class_confirm
from postmortems.models import Postmortem

logger = logging.getLogger(__name__)


def root_cause_class(sender, *, postmortem_id: int, **kwargs) -> str | None:
    """The postmortem's failure-class slug, for the Markdown export, when a person
    confirmed it: importing the file back records the class as a person's choice,
    so an inferred class must not leave in it."""
    classification = selectors.classification_of(postmortem_id=postmortem_id)
    if classification is None or classification.failure_class is None:
        return None
    if not classification.is_confirmed:
        return None
    return classification.failure_class.slug


def postmortem_imported(
    sender, *, postmortem_id: int, failure_class: str, actor_id: int | None, **kwargs
) -> None:
    """An imported file named the postmortem's class: record it as confirmed by
    the person who imported it (a class the file names was chosen by a person)."""
    if not failure_class:
        return
    chosen = FailureClass.objects.filter(slug=failure_class).first()
    if chosen is None:
        logger.warning(
            "Imported postmortem %s names an unknown failure class %r; left "
            "unclassified",
            postmortem_id,
            failure_class,
        )
        return
    postmortem = Postmortem.objects.filter(pk=postmortem_id).first()
    if postmortem is None:
        return
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    # An import records classes people chose elsewhere, in bulk: no retraining
    # run per file (the next run learns from them), and no effect to measure.
    postmortem_class_confirm(
        postmortem=postmortem, failure_class=chosen, user=actor, retrain=False
    )


def postmortems_imported(*, incident_ids: list[int]) -> None:
    """A file's postmortems were imported: one full run reads them all, sent
    once the import commits (the classes the file names are recorded first)."""
    insight_run_request()
