"""The demo corpus's action items, loaded after the core's incidents and
postmortems (``postmortems.demo.loader``) by ``manage.py load_demo``.

Idempotent: items are keyed by (postmortem, title).
"""

import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from actions.models import ActionItem
from postmortems.demo.loader import (
    DEMO_DIR,
    DEMO_SOURCE,
    DemoCorpusError,
    corpus_shift,
    read_corpus,
)
from postmortems.models import Postmortem, Team


@transaction.atomic
def load_demo_action_items(
    *, directory: Path = DEMO_DIR, today: dt.date | None = None
) -> str:
    """Create or update the action items of every loaded demo postmortem."""
    org, incidents = read_corpus(directory)
    shift = corpus_shift(org, today)
    postmortems = {
        postmortem.incident.external_key: postmortem
        for postmortem in Postmortem.objects.select_related("incident").filter(
            incident__external_source=DEMO_SOURCE,
            incident__external_key__in=[data["key"] for data in incidents],
        )
    }
    teams = {team.slug: team for team in Team.objects.all()}
    people = {user.username: user for user in get_user_model().objects.all()}
    count = 0
    for data in incidents:
        postmortem = postmortems.get(data["key"])
        if postmortem is None:
            continue
        incident = postmortem.incident
        # The day after the incident ended, as the postmortem's story goes.
        created_at = (incident.resolved_at or incident.started_at) + dt.timedelta(
            days=1
        )
        for row in data.get("action_items", []):
            try:
                title, team = row["title"], teams[row["team"]]
                category, priority = row["category"], row["priority"]
                status = row["status"]
            except KeyError as exc:
                raise DemoCorpusError(
                    f"{data['key']}: unknown or missing {exc}"
                ) from exc
            ActionItem.objects.update_or_create(
                postmortem=postmortem,
                title=title,
                defaults={
                    "description": row.get("description", ""),
                    "category": category,
                    "priority": priority,
                    "owner": people.get(row.get("owner") or ""),
                    "team": team,
                    "due_date": shift.day(row.get("due_date")),
                    "status": status,
                    "status_reason": row.get("status_reason", ""),
                    "verification_note": row.get("verification_note", ""),
                    "completed_at": shift.at(row.get("completed_at")),
                    "created_at": created_at,
                    "created_by_id": postmortem.author_id,
                },
            )
            count += 1
    return f"Demo action items: {count} on {len(postmortems)} postmortems."
