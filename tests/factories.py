"""Deterministic factory_boy factories shared by every test."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from actions.models import ActionItem, Category, Priority
from findings.models import Finding, FindingSource
from postmortems.models import (
    Comment,
    ContributingFactor,
    ContributingFactorKind,
    Hypothesis,
    HypothesisTrack,
    Incident,
    Postmortem,
    PostmortemTemplate,
    Profile,
    Role,
    Service,
    Severity,
    Team,
    TimelineEntry,
    TimelineKind,
)

BASE_TIME = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.Sequence(lambda n: f"Team {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    team = factory.SubFactory(TeamFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Tester"
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if not create:
            return
        self.save()
        profile, _ = Profile.objects.get_or_create(user=self)
        profile.role = extracted or Role.EDITOR
        profile.save()

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.profile.teams.set(extracted)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Checkout errors {n}")
    severity = Severity.SEV2
    team = factory.SubFactory(TeamFactory)
    started_at = BASE_TIME
    detected_at = factory.LazyAttribute(
        lambda o: o.started_at + dt.timedelta(minutes=5)
    )
    acknowledged_at = factory.LazyAttribute(
        lambda o: o.started_at + dt.timedelta(minutes=9)
    )
    mitigated_at = factory.LazyAttribute(
        lambda o: o.started_at + dt.timedelta(minutes=40)
    )
    resolved_at = factory.LazyAttribute(lambda o: o.started_at + dt.timedelta(hours=2))

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class TimelineEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEntry

    incident = factory.SubFactory(IncidentFactory)
    occurred_at = factory.LazyAttribute(lambda o: o.incident.started_at)
    kind = TimelineKind.ALERT
    text = "HighErrorRate fired for checkout"


def google_sre_template() -> PostmortemTemplate:
    return PostmortemTemplate.objects.get(slug="google-sre")


class PostmortemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Postmortem
        skip_postgeneration_save = True

    incident = factory.SubFactory(IncidentFactory)
    template = factory.LazyFunction(google_sre_template)
    author = factory.SubFactory(UserFactory)
    sections = factory.LazyFunction(
        lambda: {
            "summary": "Checkout returned errors for 40 minutes.",
            "root_cause": "A connection pool limit was lower than peak concurrency.",
            "trigger": "A marketing campaign doubled traffic.",
        }
    )

    @factory.post_generation
    def reviewers(self, create, extracted, **kwargs):
        if create and extracted:
            self.reviewers.set(extracted)


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    title = factory.Sequence(lambda n: f"Add alerting on pool saturation {n}")
    category = Category.DETECTION
    priority = Priority.P1
    team = factory.SubFactory(TeamFactory)
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(
        lambda: timezone.localdate() + dt.timedelta(days=30)
    )


class ContributingFactorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContributingFactor

    postmortem = factory.SubFactory(PostmortemFactory)
    kind = ContributingFactorKind.TECHNICAL
    description = factory.Sequence(lambda n: f"Pool size not load-tested {n}")
    position = factory.Sequence(lambda n: n)


class HypothesisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hypothesis

    postmortem = factory.SubFactory(PostmortemFactory)
    track = HypothesisTrack.DIAGNOSIS
    text = factory.Sequence(lambda n: f"The release leaks connections {n}")


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    postmortem = factory.SubFactory(PostmortemFactory)
    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"Could we add the pool graph here? {n}")


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    incident = factory.SubFactory(IncidentFactory)
    team = factory.LazyAttribute(lambda o: o.incident.team)
    source = FindingSource.API
    analyzer = "api-tracer"
    analyzer_version = "2.1.0"
    fingerprint = factory.Sequence(lambda n: f"fp-{n}")
    dedupe_key = factory.LazyAttribute(lambda o: f"{o.analyzer}:{o.fingerprint}")
    severity = "high"
    title = factory.Sequence(lambda n: f"Checkout p99 latency above SLO {n}")
    summary = "p99 latency rose from 300 ms to 4 s after the 10:02 deploy."
    root_cause = "Connection pool exhausted on payments-api."
    first_seen_at = factory.LazyAttribute(
        lambda o: o.incident.detected_at or o.incident.started_at
    )
    last_seen_at = factory.LazyAttribute(lambda o: o.first_seen_at)
