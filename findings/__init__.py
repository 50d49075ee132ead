"""Analyzer findings, API keys and alert ingestion: the investigation loop.

An app of its own that depends on the core (``postmortems``) and never the reverse:
what the core shows or asks of findings goes through ``postmortems.extensions``,
filled in ``apps.FindingsConfig.ready()``.

Pure modules (no ORM): ``records``, ``validation``, ``scorecards`` and each
integration's ``parser``. ORM work lives in ``services`` (writes), ``selectors``
(reads) and ``follow_up`` (the follow-up task's whole path). One folder per alert
integration: ``integrations/<name>/``.
"""
