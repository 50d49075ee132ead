"""Insights writes: runs of the pipeline, classifications, class curation.

The ML lives in the pure modules (``embeddings``, ``clustering``, ``report``);
these modules move rows in and out of them. Heavy libraries are imported only
inside the functions that embed or cluster.
"""

from insights.services.curation import (
    classes_changed,
    demo_classes_confirm,
    failure_class_accept,
    failure_class_create,
    failure_class_merge,
    failure_class_rename,
    failure_class_split,
    postmortem_class_confirm,
)
from insights.services.inputs import (
    _embedders,
    cached_vectors,
    class_inputs,
    class_reading,
    current_params,
    fingerprint,
    get_embedder,
    postmortem_text,
    postmortem_texts,
)
from insights.services.runs import (
    SIMILAR_LIMIT,
    RunNotClaimed,
    insight_run_claim,
    insight_run_execute,
    insight_run_request,
    postmortem_changed,
    top_similar,
    waiting_runs_count,
    waiting_runs_send,
)
from insights.services.statements import (
    cause_statement_confirm,
    statement_inputs,
)

__all__ = [
    "SIMILAR_LIMIT",
    "RunNotClaimed",
    "_embedders",
    "cached_vectors",
    "cause_statement_confirm",
    "statement_inputs",
    "class_inputs",
    "current_params",
    "demo_classes_confirm",
    "class_reading",
    "classes_changed",
    "failure_class_accept",
    "failure_class_create",
    "failure_class_merge",
    "failure_class_rename",
    "failure_class_split",
    "fingerprint",
    "get_embedder",
    "insight_run_claim",
    "insight_run_execute",
    "insight_run_request",
    "postmortem_changed",
    "postmortem_class_confirm",
    "postmortem_text",
    "postmortem_texts",
    "top_similar",
    "waiting_runs_count",
    "waiting_runs_send",
]
