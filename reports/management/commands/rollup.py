import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from reports.rollups import rollup_rebuild_range
from reports.snapshots import snapshot_build_range


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Rebuild province/day and nation/day rollups (and task snapshots) for a period, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: today)")
        parser.add_argument("--snapshots", action="store_true", help="also rebuild the task snapshots of each day")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, start, end, snapshots, no_progress, **options):
        start = _date(start)
        end = _date(end) if end else timezone.localdate()
        if start > end:
            raise CommandError("--from is after --to")
        days = (end - start).days + 1
        with tqdm(total=days, desc="rollups", unit="day", disable=no_progress) as bar:
            rollup_rebuild_range(start=start, end=end, progress=bar.update)
        if snapshots:
            with tqdm(total=days, desc="snapshots", unit="day", disable=no_progress) as bar:
                snapshot_build_range(start=start, end=end, progress=bar.update)
        self.stdout.write(f"rebuilt {days} day(s) from {start} to {end}")
