"""Hooks other apps fill in from their ``AppConfig.ready()``, so the core never
imports them (arrows point to the core, as with the signals in ``signals.py``).

Signals announce what happened, after commit; these registries are asked for
something the core needs now, inside its own transaction: an answer, a panel,
rows that must be written with the core's. A hook that raises fails the service
call, as the direct call it replaces did.

- ``approval_checks``: ``(*, postmortem) -> None`` before a postmortem is
  approved; raise ``ValidationError`` to refuse (actions: the coverage policy).
- ``edit_hooks``: ``(*, postmortem_id) -> None`` when what a postmortem says
  may have changed: an edit, its first text (written at the start or drafted
  from the incident), or a confirmed finding's root cause on its incident.
  Called through ``postmortem_text_changed``, inside the change's transaction
  (insights: record a reclassification run, queued on commit, so the run row
  commits or rolls back with the change; it queues nothing when the text it
  reads is unchanged).
- ``postmortem_page_contexts``: ``(*, user, postmortem) -> dict`` of context the
  postmortem page adds (actions: its action-item panel and the panel's template).
- ``import_checks``: ``(*, record) -> list[str]``: what an imported record names
  that the app does not know (actions: item statuses, priorities, categories).
- ``import_action_item_writers``: ``(*, record, postmortem, team, teams, people,
  actor) -> int``: write an imported record's action items (the file format has
  an action-items section) and return how many (actions).
- ``import_hooks``: ``(*, incident_ids) -> None`` once a file's postmortems
  are written, inside the import's transaction (insights: queue one full run,
  sent on commit, so imported postmortems reach the report without waiting
  for the nightly run).
- ``demo_loaders``: callables ``() -> str`` run by ``manage.py load_demo`` after
  the core corpus is loaded; each returns a line saying what it loaded.
- ``incident_panels``: ``Panel`` entries included on the incident page, in order,
  below the timeline (``main``) or in the side column (``aside``); each receives
  the page's context (``incident``, ``user``, ``request``) (findings: its
  investigation tree; insights: the incident's class and similar incidents).
- ``postmortem_panels``: ``Panel`` entries included in the postmortem page's side
  column (``aside``, the one column it offers), with ``postmortem`` in the
  context (insights: the class and similar incidents).
- ``draft_fact_providers``: ``(*, incident) -> dict`` adding to the facts a
  drafted postmortem is written from (``postmortems.drafting.IncidentFacts``):
  each key names a list field (``findings``, ``prior_work``) and its items are
  appended to it (findings).
- ``nav_items``: ``NavItem`` entries of the navigation bar on every page, shown
  by ``order`` (the core's own: 10, 20; actions: 30, 40; insights: 50; findings:
  60), each to the users its ``shown_to`` allows (everyone signed in when None).
- ``relays``: ``Relay`` entries for durable work an app keeps in its own rows;
  the one relay task (``postmortems.outbox_relay``) and ``manage.py
  relay_outbox`` call each ``send()`` after the outbox's tasks (findings: its
  follow-ups that are due).
"""

from collections.abc import Callable
from dataclasses import dataclass

approval_checks: list[Callable[..., None]] = []

edit_hooks: list[Callable[..., None]] = []

postmortem_page_contexts: list[Callable[..., dict]] = []

import_checks: list[Callable[..., list[str]]] = []

import_action_item_writers: list[Callable[..., int]] = []

import_hooks: list[Callable[..., None]] = []

demo_loaders: list[Callable[[], str]] = []


@dataclass(frozen=True)
class Panel:
    """A template another app adds to a core page, and the column it goes in."""

    template: str
    column: str = "main"  # or "aside"


def panels_in(registry: list[Panel], column: str) -> list[str]:
    """The templates of ``registry`` that go in ``column``, in order."""
    return [panel.template for panel in registry if panel.column == column]


incident_panels: list[Panel] = []

postmortem_panels: list[Panel] = []

draft_fact_providers: list[Callable[..., dict[str, list]]] = []


@dataclass(frozen=True)
class NavItem:
    """A section in the navigation bar: its label, URL name and place."""

    label: str
    url_name: str
    order: int
    # ``(user) -> bool``: whether the bar shows it to this user (None: everyone).
    shown_to: Callable[..., bool] | None = None


nav_items: list[NavItem] = []


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


def postmortem_text_changed(*, postmortem_id: int) -> None:
    """Tell the ``edit_hooks`` that what this postmortem says may have changed."""
    for hook in edit_hooks:
        hook(postmortem_id=postmortem_id)


def register(registry: list, hook) -> None:
    """Add ``hook`` to ``registry`` once (``ready()`` may run again in tests)."""
    if hook not in registry:
        registry.append(hook)
