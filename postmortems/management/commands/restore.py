from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from postmortems.backup import BackupError, database_fingerprint, restore_database


class Command(BaseCommand):
    help = "Replace the database's contents with a backup made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file (.pgdump or .sqlite3).")
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation."
        )

    def handle(self, *args, **options):
        source = Path(options["path"])
        if not options["yes"]:
            answer = input(f"Replace ALL data with {source.name}? Type 'yes': ")
            if answer.strip() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")
        try:
            restore_database(source=source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(count for count, _ in database_fingerprint().values())
        self.stdout.write(f"Restored {rows} rows from {source}.")
