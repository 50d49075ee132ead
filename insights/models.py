"""Failure classes, postmortem classifications, cause statements, vectors, runs."""

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

# Defined in choices.py; also importable from the models, as migrations do.
from insights.choices import (  # noqa: F401
    ClassAxis,
    ClassificationSource,
    ClassOrigin,
    ClassStatus,
    RunKind,
    RunStatus,
    StatementKind,
)
from postmortems.models import ContributingFactor, Postmortem

# A class's examples are embedded and trained on in every run: bounded.
MAX_EXAMPLES = 50
MAX_EXAMPLE_CHARS = 2000


def clean_examples(lines, *, truncate: bool = False) -> list[str]:
    """Example statements as stored: stripped, blank and repeated ones dropped,
    at most ``MAX_EXAMPLES`` of at most ``MAX_EXAMPLE_CHARS`` characters each.
    Beyond that a ValidationError, or with ``truncate`` the first ones kept."""
    kept = list(dict.fromkeys(t for t in (str(line).strip() for line in lines) if t))
    if len(kept) > MAX_EXAMPLES and not truncate:
        raise ValidationError(
            f"A class keeps at most {MAX_EXAMPLES} examples; {len(kept)} were given."
        )
    longest = max((len(t) for t in kept), default=0)
    if longest > MAX_EXAMPLE_CHARS:
        raise ValidationError(
            f"An example is at most {MAX_EXAMPLE_CHARS} characters; one has {longest}."
        )
    return kept[:MAX_EXAMPLES]


def validate_examples(value) -> None:
    """A class's examples: a list of texts, one cause statement each (no line
    breaks: the class page edits them one per line), within the limits."""
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise ValidationError(
            "Examples are a list of texts, one cause statement each, such as "
            '["The certificate expired.", "Renewal was manual."].'
        )
    if any("\n" in e or "\r" in e for e in value):
        raise ValidationError("Each example is one line: no line breaks within one.")
    clean_examples(value)


class FailureClass(models.Model):
    """A class of failure: from the starter taxonomy, a person, or clustering.

    The slug never changes once created, so links and history stay valid when a
    class is renamed; a merged class points at the class that absorbed it.
    """

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(
        blank=True,
        help_text="Two to four sentences describing the failure; the classifier "
        "compares postmortems with it.",
    )
    examples = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_examples],
        help_text="Typical cause statements of this class, one per item, as "
        "postmortems word them; the classifier learns from them beside the "
        "description, before anyone has confirmed a postmortem in the class.",
    )
    status = models.CharField(
        max_length=10, choices=ClassStatus.choices, default=ClassStatus.ACCEPTED
    )
    origin = models.CharField(
        max_length=10, choices=ClassOrigin.choices, default=ClassOrigin.PERSON
    )
    # A class of change is read from postmortems' triggers (a confirmation of
    # one labels the trigger); a mechanism from their root causes.
    axis = models.CharField(
        max_length=10, choices=ClassAxis.choices, default=ClassAxis.MECHANISM
    )
    # Distinctive terms (c-TF-IDF) of a proposed class, and its centroid in the
    # pipeline's profiled space (float32 bytes), so later runs keep its identity.
    terms = models.JSONField(default=list, blank=True)
    centroid = models.BinaryField(null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "failure classes"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("insights:class_detail", args=[self.slug])

    @property
    def is_proposed(self) -> bool:
        return self.status == ClassStatus.PROPOSED

    @property
    def centroid_vector(self) -> np.ndarray | None:
        if not self.centroid:
            return None
        return np.frombuffer(bytes(self.centroid), dtype=np.float32)


class PostmortemClassification(models.Model):
    """A postmortem's failure class and the text it was computed from."""

    postmortem = models.OneToOneField(
        Postmortem, on_delete=models.CASCADE, related_name="classification"
    )
    failure_class = models.ForeignKey(
        FailureClass,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="classifications",
    )
    source = models.CharField(
        max_length=10,
        choices=ClassificationSource.choices,
        default=ClassificationSource.NONE,
    )
    confidence = models.FloatField(default=0.0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    text_hash = models.CharField(max_length=64, blank=True)
    # The cached vector of the text above: similar-incident queries read every
    # postmortem's vector through this link in one query.
    embedding = models.ForeignKey(
        "EmbeddingCache",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["postmortem_id"]
        indexes = [models.Index(fields=["failure_class", "source"])]

    def __str__(self) -> str:
        return f"{self.postmortem_id}: {self.failure_class_id} ({self.source})"

    @property
    def is_confirmed(self) -> bool:
        """A person's class that still stands (deleting a class in the admin
        leaves its confirmations with none: runs then classify them again)."""
        return (
            self.source == ClassificationSource.CONFIRMED
            and self.failure_class_id is not None
        )


class EmbeddingCache(models.Model):
    """One text's vector under one model and text preparation version: an
    unchanged text is embedded once."""

    model_name = models.CharField(max_length=200)
    # insights.embeddings.TEXT_PREPARATION_VERSION when the vector was computed.
    version = models.PositiveSmallIntegerField(default=1)
    text_hash = models.CharField(max_length=64)
    dimension = models.PositiveSmallIntegerField()
    vector = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_name", "version", "text_hash"],
                name="embedding_unique_version_text",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_name}:{self.text_hash[:12]}"

    def as_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.vector), dtype=np.float32)


class SimilarPostmortem(models.Model):
    """One of a postmortem's most similar earlier postmortems, with its score."""

    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="similar_links"
    )
    similar = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["postmortem_id", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "similar"], name="similar_unique_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.postmortem_id} ~ {self.similar_id} ({self.score:.2f})"


class InsightRun(models.Model):
    """One run of the insights pipeline: inputs, parameters, outcome."""

    kind = models.CharField(max_length=8, choices=RunKind.choices, default=RunKind.FULL)
    status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    postmortem = models.ForeignKey(
        Postmortem, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fingerprint = models.CharField(max_length=64, blank=True)
    # What the results this run wrote come from (model and texts), stored in
    # the transaction that writes them (blank: it wrote none). The last run to
    # finish with one wrote the stored results; the next full run with the
    # same digest keeps their similar incidents (a confirmation retrains the
    # classifier but moves no neighbour).
    similar_digest = models.CharField(max_length=64, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # The confidence from which an inferred class counts: the classifier's
    # abstention threshold, chosen by cross-validating people's confirmations
    # in this run (insights.classifier.choose_threshold); null when too few
    # were confirmed to validate one. ``validation`` keeps the thresholds the
    # run classified with (``postmortem_threshold``, ``statement_threshold``),
    # which single runs reuse.
    abstain_threshold = models.FloatField(null=True, blank=True)
    validation = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "status", "-finished_at"])]

    def __str__(self) -> str:
        return f"Insights run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED)


class CauseStatement(models.Model):
    """One cause statement of a postmortem and the class it was put in.

    A postmortem's root cause, its trigger and each contributing factor are
    classified on their own; the postmortem belongs to every class one of them
    is in, with that statement as the evidence. ``key`` identifies the statement
    within its postmortem (``root_cause``, ``trigger``, ``factor:<id>``), so a
    person's confirmation survives edits elsewhere in the postmortem.
    """

    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="cause_statements"
    )
    key = models.CharField(max_length=40)
    kind = models.CharField(max_length=12, choices=StatementKind.choices)
    factor = models.ForeignKey(
        ContributingFactor,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    text = models.TextField()
    text_hash = models.CharField(max_length=64)
    failure_class = models.ForeignKey(
        FailureClass,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="statements",
    )
    # Probability of ``failure_class`` (or of the best guess when abstained).
    confidence = models.FloatField(default=0.0)
    source = models.CharField(
        max_length=10,
        choices=ClassificationSource.choices,
        default=ClassificationSource.NONE,
    )
    # The classifier was not sure enough (below the run's validated threshold);
    # ``failure_class`` is then whatever the zero-shot stage found, or null.
    abstained = models.BooleanField(default=False)
    # Best guess and runner-up even when abstained: "confirm these next" asks
    # people to choose between them.
    best_guess = models.ForeignKey(
        FailureClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    runner_up = models.ForeignKey(
        FailureClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    margin = models.FloatField(default=0.0)
    teach_score = models.FloatField(default=0.0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # A confirmed label put here by each run from the postmortem's confirmed
    # class (its trigger for a change, its root cause otherwise), not by a
    # person confirming this statement: runs derive it afresh rather than read
    # it back, so re-confirming the postmortem replaces it.
    from_postmortem = models.BooleanField(default=False)
    run = models.ForeignKey(
        "InsightRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["postmortem_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "key"], name="statement_unique_key"
            )
        ]
        indexes = [
            models.Index(fields=["failure_class", "source"]),
            models.Index(fields=["-teach_score"]),
        ]

    def __str__(self) -> str:
        return f"{self.postmortem_id}/{self.key}: {self.failure_class_id}"

    @property
    def is_confirmed(self) -> bool:
        """A person's class that still stands (deleting a class in the admin
        leaves its confirmations with none: runs then classify them again)."""
        return (
            self.source == ClassificationSource.CONFIRMED
            and self.failure_class_id is not None
        )


class ConfirmationEffect(models.Model):
    """What one confirmation changed: how many statements' classes moved in the
    run that retrained the classifier after it.

    ``changed`` stays null until that run has finished; confirmations made
    while one run was queued share its count (the run retrained on all of them).
    """

    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="+"
    )
    statement_key = models.CharField(max_length=40)
    failure_class = models.ForeignKey(
        FailureClass, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    run = models.ForeignKey(
        InsightRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed = models.PositiveIntegerField(null=True, blank=True)
    changed_postmortems = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Confirmation of {self.postmortem_id}/{self.statement_key}"
