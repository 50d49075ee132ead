"""Tell the core that postmortems may say something new because of findings.

A confirmed finding's root cause is part of what its incident's postmortem says
(insights reads it), so confirming one, clearing its verdict, re-sending it with
another root cause, moving it to another incident or deleting it changes that
text.
"""

from collections.abc import Iterable

from postmortems import extensions
from postmortems.models import Postmortem


def incident_postmortems_reread(*, incident_ids: Iterable[int]) -> int:
    """Tell the core's hooks that the postmortems of these incidents may say
    something new; returns how many (each is re-read only if its text
    changed)."""
    ids = list(
        Postmortem.objects.filter(incident_id__in=set(incident_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for postmortem_id in ids:
        extensions.postmortem_text_changed(postmortem_id=postmortem_id)
    return len(ids)
