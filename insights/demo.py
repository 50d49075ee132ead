"""The classes people confirmed in the demo story (``class_confirmed`` in the
corpus), recorded by ``manage.py load_demo`` once the core has loaded it."""

from pathlib import Path

from insights.services import demo_classes_confirm
from postmortems.demo.loader import (
    DEMO_DIR,
    DEMO_SOURCE,
    LoadedIncident,
    read_corpus,
)
from postmortems.models import Postmortem


def load_demo_classes(*, directory: Path = DEMO_DIR) -> str:
    """Confirm the corpus's confirmed classes on the loaded demo postmortems."""
    _, incidents = read_corpus(directory)
    ids = {
        key: (incident_id, postmortem_id)
        for key, incident_id, postmortem_id in Postmortem.objects.filter(
            incident__external_source=DEMO_SOURCE,
            incident__external_key__in=[data["key"] for data in incidents],
        ).values_list("incident__external_key", "incident_id", "pk")
    }
    loaded = [
        LoadedIncident(
            key=data["key"],
            incident_id=ids[data["key"]][0],
            postmortem_id=ids[data["key"]][1],
            failure_class=data.get("failure_class", ""),
            class_confirmed=bool(data.get("class_confirmed")),
        )
        for data in incidents
        if data["key"] in ids
    ]
    confirmed = demo_classes_confirm(loaded=loaded)
    return f"Demo classes confirmed: {confirmed}."
