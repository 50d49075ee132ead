"""Validation of Hindsight's native finding format (pure: plain data in and out).

Hand-written rather than a DRF serializer: a batch of 1,000 findings validates in a
few milliseconds here, against well over 100 ms through nested DRF serializers, and
the batch endpoint has a throughput target (bench/findings_bench.py). The DRF
serializers in ``serializers.py`` describe the same shape for the OpenAPI schema;
``tests/findings/test_api.py`` checks the two list the same fields.

Errors are reported per item and per field:
``[{"index": 3, "errors": {"severity": ["..."], "evidence": {"0": {"url": [...]}}}}]``.
"""

import math
import re
from collections.abc import Callable
from typing import Any

from findings.choices import (
    EvidenceKind,
    FindingSource,
    SuggestionCategory,
    SuggestionKind,
)
from findings.records import SEVERITIES, FindingRecord, parse_timestamp

MAX_BATCH = 1000
MAX_EVIDENCE = 50
MAX_ACTIONS = 20
# The choices as plain strings (findings.choices defines them once).
EVIDENCE_KINDS = tuple(EvidenceKind.values)
ACTION_KINDS = tuple(SuggestionKind.values)
ACTION_CATEGORIES = tuple(SuggestionCategory.values)
# Reverting or rolling back stops the bleeding; a bug or other work prevents a repeat.
DEFAULT_ACTION_CATEGORY = {
    "revert_change": "mitigation",
    "rollback_config": "mitigation",
    "file_bug": "prevention",
    "other": "prevention",
}
INCIDENT_SOURCES = tuple(FindingSource.values)

# The fields of one finding, with what each holds (used by the OpenAPI serializer
# test to keep the documentation honest).
FIELDS = (
    "analyzer",
    "analyzer_version",
    "fingerprint",
    "incident_id",
    "incident_key",
    "incident_source",
    "service",
    "severity",
    "title",
    "summary",
    "root_cause",
    "evidence",
    "started_at",
    "ended_at",
    "parent_id",
    "parent_dedupe_key",
    "suggested_actions",
)

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")

# Rules between fields that no JSON Schema states: breaking only these is a 422.
ENDED_BEFORE_STARTED = "Must not be before started_at."
RULE_FIELDS = {"ended_at"}
RULE_MESSAGES = {ENDED_BEFORE_STARTED}


class BatchInvalid(ValueError):
    """Some items are invalid; ``items`` lists ``{"index", "errors"}`` for each.

    ``rules_only``: every item has the documented shape and breaks only a rule the
    schema cannot state (timestamps out of order): the API answers 422, not 400.
    """

    def __init__(self, items: list[dict], total: int, *, rules_only: bool = False):
        self.items = items
        self.total = total
        self.rules_only = rules_only
        noun = "finding is" if total == 1 else "findings are"
        super().__init__(
            f"{len(items)} of {total} {noun} invalid; nothing was written."
        )


class BatchTooLarge(ValueError):
    pass


def unpack(data: Any) -> tuple[list, bool]:
    """The items of a body: one finding, a list, or ``{"findings": [...]}``.

    Returns ``(items, is_batch)``; raises ValueError for any other shape.
    """
    if isinstance(data, list):
        items, is_batch = data, True
    elif isinstance(data, dict) and "findings" in data and "analyzer" not in data:
        items, is_batch = data["findings"], True
        if not isinstance(items, list):
            raise ValueError('"findings" must be a list of finding objects.')
    elif isinstance(data, dict):
        items, is_batch = [data], False
    else:
        raise ValueError(
            "Expected a finding object, a list of findings, or "
            '{"findings": [...]}, not a JSON ' + _json_type(data) + "."
        )
    if not items:
        raise ValueError("The batch is empty.")
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(
            f"A batch holds at most {MAX_BATCH} findings; this one has {len(items)}."
        )
    return items, is_batch


def validate_findings(items: list) -> list[FindingRecord]:
    """Validate every item; all valid gives records, else BatchInvalid."""
    records = []
    failed = []
    for index, item in enumerate(items):
        record, errors = validate_finding(item, index=index)
        if errors:
            failed.append({"index": index, "errors": errors})
        else:
            records.append(record)
    if failed:
        rules_only = all(
            set(item["errors"]) <= RULE_FIELDS
            and all(
                message in RULE_MESSAGES
                for messages in item["errors"].values()
                for message in messages
            )
            for item in failed
        )
        raise BatchInvalid(failed, total=len(items), rules_only=rules_only)
    return records


def validate_finding(item: Any, *, index: int = 0) -> tuple[FindingRecord | None, dict]:
    """One finding: ``(record, {})`` when valid, ``(None, errors)`` otherwise."""
    if not isinstance(item, dict):
        return None, {
            "non_field_errors": [f"Expected a finding object, not {_json_type(item)}."]
        }
    errors: dict = {}
    analyzer = _text(item, "analyzer", errors, max_length=100, required=True)
    version = _text(item, "analyzer_version", errors, max_length=50)
    fingerprint = _text(item, "fingerprint", errors, max_length=200, required=True)
    title = _text(item, "title", errors, max_length=300, required=True)
    summary = _text(item, "summary", errors, max_length=20000)
    severity = item.get("severity", "medium")
    if severity not in SEVERITIES:
        errors["severity"] = [f"Must be one of {', '.join(SEVERITIES)}."]

    incident_id = _integer(item, "incident_id", errors)
    incident_key = _text(item, "incident_key", errors, max_length=500)
    incident_source = item.get("incident_source", "api")
    if incident_source not in INCIDENT_SOURCES:
        errors["incident_source"] = [f"Must be one of {', '.join(INCIDENT_SOURCES)}."]
    if incident_id is None and not incident_key and "incident_id" not in errors:
        errors.setdefault("incident_key", []).append(
            "Give the incident: incident_id, or incident_key (e.g. an alert group "
            "key) to find or open one."
        )
    elif incident_id is not None and incident_key:
        errors["incident_id"] = ["Give incident_id or incident_key, not both."]

    service = _text(item, "service", errors, max_length=50)
    if service and not _SLUG.match(service):
        errors["service"] = ["Must be a service slug (letters, digits, - and _)."]

    root_cause, root_cause_class, confidence = _root_cause(item, errors)
    evidence = _evidence(item, errors)
    actions = _actions(item, errors)

    started_at = _timestamp(item, "started_at", errors)
    ended_at = _timestamp(item, "ended_at", errors)
    if started_at and ended_at and ended_at < started_at:
        errors["ended_at"] = [ENDED_BEFORE_STARTED]

    parent_id = _integer(item, "parent_id", errors)
    parent_key = _text(item, "parent_dedupe_key", errors, max_length=340)
    if parent_id is not None and parent_key:
        errors["parent_id"] = ["Give parent_id or parent_dedupe_key, not both."]
    if errors:
        return None, errors
    record = FindingRecord(
        analyzer=analyzer,
        analyzer_version=version,
        fingerprint=fingerprint,
        title=title,
        summary=summary,
        severity=severity,
        incident_id=incident_id,
        incident_key=incident_key,
        incident_source=incident_source,
        service=service,
        root_cause=root_cause,
        root_cause_class=root_cause_class,
        root_cause_confidence=confidence,
        evidence=evidence,
        suggested_actions=actions,
        started_at=started_at,
        ended_at=ended_at,
        parent_id=parent_id,
        parent_dedupe_key=parent_key,
        raw=item,
        index=index,
    )
    if parent_key and parent_key == record.dedupe_key:
        return None, {"parent_dedupe_key": ["A finding cannot be its own parent."]}
    return record, {}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _text(
    data: dict,
    name: str,
    errors: dict,
    *,
    max_length: int,
    required: bool = False,
) -> str:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = ["This field is required."]
        return ""
    if not isinstance(value, str):
        errors[name] = [f"Expected a string, not {_json_type(value)}."]
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = ["This field may not be blank."]
    elif len(value) > max_length:
        errors[name] = [f"At most {max_length} characters (got {len(value)})."]
    return value


def _integer(data: dict, name: str, errors: dict) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors[name] = ["Expected a positive integer id."]
        return None
    return value


def _timestamp(data: dict, name: str, errors: dict):
    try:
        return parse_timestamp(data.get(name))
    except ValueError as exc:
        errors[name] = [str(exc)]
        return None


def _url(value: Any) -> str | None:
    """The URL if it is an http(s) URL, else None (javascript: and friends)."""
    if not isinstance(value, str) or len(value) > 2000:
        return None
    lowered = value.strip().lower()
    if lowered.startswith(("https://", "http://")) and len(lowered) > 8:
        return value.strip()
    return None


def _root_cause(item: dict, errors: dict) -> tuple[str, str, float | None]:
    value = item.get("root_cause")
    if value is None:
        return "", "", None
    if not isinstance(value, dict):
        errors["root_cause"] = [
            'Expected {"text": ..., "failure_class": ..., "confidence": 0-1}.'
        ]
        return "", "", None
    nested: dict = {}
    text = _text(value, "text", nested, max_length=20000, required=True)
    failure_class = _text(value, "failure_class", nested, max_length=64)
    if failure_class and not _SLUG.match(failure_class):
        nested["failure_class"] = ["Must be a failure class slug."]
    confidence = value.get("confidence")
    if confidence is not None:
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or math.isnan(confidence)
            or not 0 <= confidence <= 1
        ):
            nested["confidence"] = ["Expected a number from 0 to 1."]
            confidence = None
        else:
            confidence = float(confidence)
    if nested:
        errors["root_cause"] = nested
    return text, failure_class, confidence


def _list_of_objects(
    item: dict,
    field: str,
    errors: dict,
    *,
    limit: int,
    too_many: str,
    clean: Callable[[dict, dict], dict],
) -> list[dict]:
    """The list of objects at ``item[field]``, each cleaned by ``clean(entry,
    nested_errors)``; errors go under ``field``, per position."""
    value = item.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        errors[field] = [f"Expected a list, not {_json_type(value)}."]
        return []
    if len(value) > limit:
        errors[field] = [too_many]
        return []
    cleaned = []
    problems = {}
    for position, entry in enumerate(value):
        if not isinstance(entry, dict):
            problems[str(position)] = {"non_field_errors": ["Expected an object."]}
            continue
        nested: dict = {}
        result = clean(entry, nested)
        if nested:
            problems[str(position)] = nested
        else:
            cleaned.append(result)
    if problems:
        errors[field] = problems
    return cleaned


def _evidence_entry(entry: dict, nested: dict) -> dict:
    kind = entry.get("kind")
    if kind not in EVIDENCE_KINDS:
        nested["kind"] = [f"Must be one of {', '.join(EVIDENCE_KINDS)}."]
    url = entry.get("url")
    if url is not None and url != "":
        url = _url(url)
        if url is None:
            nested["url"] = ["Must be an http or https URL (at most 2000 chars)."]
    title = _text(entry, "title", nested, max_length=200)
    excerpt = _text(entry, "excerpt", nested, max_length=10000)
    if not url and not excerpt and "data" not in entry:
        nested.setdefault("non_field_errors", []).append(
            "Give at least a url, an excerpt or data."
        )
    return {
        "kind": kind,
        "title": title,
        "url": url or "",
        "excerpt": excerpt,
        "data": entry.get("data"),
    }


def _action_entry(entry: dict, nested: dict) -> dict:
    kind = entry.get("kind")
    if kind not in ACTION_KINDS:
        nested["kind"] = [f"Must be one of {', '.join(ACTION_KINDS)}."]
    title = _text(entry, "title", nested, max_length=200, required=True)
    target = _text(entry, "target", nested, max_length=500)
    category = entry.get("category")
    if category is None:
        category = DEFAULT_ACTION_CATEGORY.get(kind, "prevention")
    elif category not in ACTION_CATEGORIES:
        nested["category"] = [f"Must be one of {', '.join(ACTION_CATEGORIES)}."]
    return {"kind": kind, "title": title, "target": target, "category": category}


def _evidence(item: dict, errors: dict) -> list[dict]:
    return _list_of_objects(
        item,
        "evidence",
        errors,
        limit=MAX_EVIDENCE,
        too_many=f"At most {MAX_EVIDENCE} evidence items.",
        clean=_evidence_entry,
    )


def _actions(item: dict, errors: dict) -> list[dict]:
    return _list_of_objects(
        item,
        "suggested_actions",
        errors,
        limit=MAX_ACTIONS,
        too_many=f"At most {MAX_ACTIONS} suggested actions.",
        clean=_action_entry,
    )
