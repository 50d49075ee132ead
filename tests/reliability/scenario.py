"""Data and product actions the fault tests run in a Django subprocess.

Each function returns Django code for ``procs.shell()``: it prints one JSON line.
The follow-on work comes from the product's own paths: saving a postmortem through
``postmortem_update`` queues its insights classification (outbox, on commit).
"""

import json

EDITOR = ("editor", "editor-password-1")


def seed_postmortems(count: int) -> str:
    """A team (analyzers may open incidents), an editor who signs in with
    ``EDITOR``, ``count`` draft postmortems and an API key with findings:write.
    Prints {"ids": [...], "key": "..."}."""
    return f"""
import json
from findings.services import api_key_create
from postmortems.models import Role
from tests import factories
team = factories.TeamFactory(slug="payments", name="Payments",
                             allow_auto_incidents=True)
editor = factories.UserFactory(username="{EDITOR[0]}", role=Role.EDITOR, teams=[team])
editor.set_password("{EDITOR[1]}")
editor.save()
ids = [
    factories.PostmortemFactory(incident__team=team, author=editor).pk
    for _ in range({count})
]
_, key = api_key_create(name="analyzer", team=team, scopes=["findings:write"])
print(json.dumps({{"ids": ids, "key": key}}))
"""


# Root causes of a few recurring kinds, so classification has something to do.
CAUSES = [
    "The TLS certificate on the load balancer expired; renewal was manual.",
    "The search indexer redelivered batches after a shard rebalance.",
    "The disk filled up because log rotation had stopped.",
    "A leap second made NTP drift and kernel timers misbehave.",
]


def edit_postmortems(ids: list[int], *, label: str = "edit") -> str:
    """Save each postmortem through the editor's service (one save each); the
    save queues one insights classification per postmortem."""
    return f"""
import json
from postmortems.models import Postmortem
from postmortems.services.postmortems import PostmortemContent, postmortem_update
causes = {json.dumps(CAUSES)}
saved = []
for n, pk in enumerate({json.dumps(ids)}):
    pm = Postmortem.objects.select_related("author").get(pk=pk)
    content = PostmortemContent(sections={{
        **pm.sections,
        "root_cause": f"{{causes[n % len(causes)]}} ({label} {{n}})",
    }})
    postmortem_update(postmortem=pm, actor=pm.author, base_version=pm.version,
                      content=content)
    saved.append(pk)
print(json.dumps(saved))
"""


RUNS_SQL = (
    "SELECT postmortem_id, status, attempts FROM insights_insightrun "
    "WHERE kind = 'single' ORDER BY postmortem_id, id"
)
