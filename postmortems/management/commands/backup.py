from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from postmortems.backup import BackupError, backup_database, database_fingerprint


class Command(BaseCommand):
    help = "Back up the database (pg_dump on PostgreSQL, a file copy on SQLite)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default=str(Path(settings.BASE_DIR) / "var" / "backups"),
            help="Folder for the backup file (default: var/backups).",
        )

    def handle(self, *args, **options):
        try:
            path = backup_database(destination_dir=Path(options["dir"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(count for count, _ in database_fingerprint().values())
        self.stdout.write(f"Backed up {rows} rows.")
        # The path comes last so scripts can take it from the final line.
        self.stdout.write(str(path))
