"""Analyzer findings and alert ingestion: the investigation loop (issue 4).

Pure modules (no ORM): ``records``, ``validation``, ``scorecards`` and the parsers in
``integrations``. ORM work lives in ``services`` (writes) and ``selectors`` (reads).
"""
