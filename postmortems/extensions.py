"""Hooks other apps fill in from their ``AppConfig.ready()``, so the core never
imports them (arrows point to the core, as with the signals in ``signals.py``).

Signals announce what happened; these registries are asked for something the core
needs now: a panel to show, facts for a draft, durable work to resend.

- ``incident_panels``: template names included on the incident page, in order,
  below the timeline. Each receives the page's context (``incident``, ``user``,
  ``request``).
- ``draft_fact_providers``: callables ``(incident) -> dict`` adding to the facts a
  drafted postmortem is written from (``postmortems.drafting.IncidentFacts``):
  each key names a list field (``findings``, ``prior_work``) and its items are
  appended to it.
- ``relays``: durable work an app keeps in its own rows. The one relay task
  (``postmortems.outbox_relay``) and ``manage.py relay_outbox`` call each
  ``send()`` after sending the outbox's tasks.
- ``demo_loaders``: callables ``() -> str`` run by ``manage.py load_demo`` after
  the core corpus is loaded; each returns a line saying what it loaded.
"""

from collections.abc import Callable
from dataclasses import dataclass

incident_panels: list[str] = []

draft_fact_providers: list[Callable[..., dict[str, list]]] = []

demo_loaders: list[Callable[[], str]] = []


@dataclass(frozen=True)
class Relay:
    """Work an app resends from its own rows while the broker was unreachable."""

    # What was sent and what is still waiting, with ``{count}``: "the follow-up of
    # {count} finding(s)", "{count} finding follow-up(s) not yet run".
    sent_label: str
    pending_label: str
    send: Callable[[], int]
    pending: Callable[[], int]


relays: list[Relay] = []


def register_relay(relay: Relay) -> None:
    """Add ``relay`` once (``ready()`` may run again in tests)."""
    if relay not in relays:
        relays.append(relay)


def register_incident_panel(template_name: str) -> None:
    if template_name not in incident_panels:
        incident_panels.append(template_name)


def register_draft_facts(provider: Callable[..., dict[str, list]]) -> None:
    if provider not in draft_fact_providers:
        draft_fact_providers.append(provider)


def register_demo_loader(loader: Callable[[], str]) -> None:
    if loader not in demo_loaders:
        demo_loaders.append(loader)
