"""Hooks other apps fill in from their ``AppConfig.ready()``, so ``insights``
never imports the apps built on it (findings depends on insights for its
embedder, so insights reading findings would be an arrow back).

- ``text_sources``: ``(*, postmortem_ids) -> iterable of (postmortem id, text)``,
  more text insights reads for each postmortem after its contributing factors,
  in order (findings: the root causes of the incident's confirmed findings).
  ``postmortem_ids`` is None for every postmortem.

Register with ``postmortems.extensions.register(text_sources, source)``.
"""

from collections.abc import Callable, Iterable

text_sources: list[Callable[..., Iterable[tuple[int, str]]]] = []
