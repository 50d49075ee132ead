"""``manage.py create_api_key NAME --team T --scope findings:write``.

Prints what was created, and the key itself on the last line (it is stored hashed
and cannot be shown again), so scripts can take ``| tail -n 1``.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from findings.models import ApiKeyScope
from findings.services import api_key_create
from postmortems.models import Team


class Command(BaseCommand):
    help = "Create an API key for a machine (an analyzer or an alerting tool)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="What uses the key, e.g. 'alertmanager-prod'.")
        parser.add_argument("--team", required=True, help="The owning team's slug.")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=ApiKeyScope.values,
            dest="scopes",
            help="Repeat for several scopes.",
        )
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Expire the key after this many days (default: never).",
        )

    def handle(self, *args, name, team, scopes, expires_in_days, **options):
        try:
            owner = Team.objects.get(slug=team)
        except Team.DoesNotExist:
            known = ", ".join(Team.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No team {team!r} (teams: {known}).") from None
        if len(name) > 50:
            raise CommandError("The name is at most 50 characters.")
        expires_at = None
        if expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            expires_at = timezone.now() + dt.timedelta(days=expires_in_days)
        api_key, secret = api_key_create(
            name=name,
            team=owner,
            scopes=scopes,
            expires_at=expires_at,
            via="manage.py create_api_key",
        )
        expiry = f"{expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "never"
        self.stdout.write(
            f"Created API key {api_key.prefix} '{name}' for team {owner.name} "
            f"(scopes: {', '.join(api_key.scopes)}; expires: {expiry}).\n"
            "Store the key now: it is not shown again."
        )
        self.stdout.write(secret)
