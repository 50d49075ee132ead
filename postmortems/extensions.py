"""Hooks other apps fill in from their ``AppConfig.ready()``, so the core never
imports them (arrows point to the core, as with the signals in ``signals.py``).

Signals announce what happened, after commit; these registries are asked for
something the core needs now, inside its own transaction: an answer, a panel,
rows that must be written with the core's. A hook that raises fails the service
call, as the direct call it replaces did.

- ``approval_checks``: ``(*, postmortem) -> None`` before a postmortem is
  approved; raise ``ValidationError`` to refuse (actions: the coverage policy).
- ``edit_hooks``: ``(*, postmortem_id) -> None`` when a saved edit changed a
  postmortem, inside its transaction (insights: record a reclassification run,
  queued on commit, so the run row commits or rolls back with the edit).
- ``postmortem_page_contexts``: ``(*, user, postmortem) -> dict`` of context the
  postmortem page adds (actions: its action-item panel and the panel's template).
- ``import_checks``: ``(*, record) -> list[str]``: what an imported record names
  that the app does not know (actions: item statuses, priorities, categories).
- ``import_action_item_writers``: ``(*, record, postmortem, team, teams, people,
  actor) -> int``: write an imported record's action items (the file format has
  an action-items section) and return how many (actions).
- ``demo_loaders``: callables ``() -> str`` run by ``manage.py load_demo`` after
  the core corpus is loaded; each returns a line saying what it loaded.
"""

from collections.abc import Callable

approval_checks: list[Callable[..., None]] = []

edit_hooks: list[Callable[..., None]] = []

postmortem_page_contexts: list[Callable[..., dict]] = []

import_checks: list[Callable[..., list[str]]] = []

import_action_item_writers: list[Callable[..., int]] = []

demo_loaders: list[Callable[[], str]] = []


def register(registry: list, hook: Callable) -> None:
    """Add ``hook`` to ``registry`` once (``ready()`` may run again in tests)."""
    if hook not in registry:
        registry.append(hook)


def register_demo_loader(loader: Callable[[], str]) -> None:
    register(demo_loaders, loader)
