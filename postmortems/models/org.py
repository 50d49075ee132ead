"""Teams, services and people's roles."""

from django.conf import settings
from django.db import models

# Defined in choices.py; also importable from the models, as migrations do.
from postmortems.choices import Role  # noqa: F401

# Each role can do everything the roles before it can.
ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.REVIEWER: 2, Role.ADMIN: 3}


class Team(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    allow_auto_incidents = models.BooleanField(
        default=True,
        help_text="Let alerts and analyzer findings with an unknown key open a new "
        "incident for this team.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="services")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """A person's role and teams. Every user has one (created on demand)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    timezone = models.CharField(
        max_length=64, blank=True, help_text="IANA time zone, e.g. Europe/Berlin."
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    def has_role(self, role: str) -> bool:
        """True when this person's role is ``role`` or a more powerful one."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]
