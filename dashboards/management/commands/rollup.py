from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from core.dates import DateError, parse_date
from dashboards.rollups import rollup_catch_up, rollup_rebuild_range
from dashboards.snapshots import snapshot_build_range, snapshot_catch_up


def _date(value, option):
    try:
        return parse_date(value)
    except DateError:
        raise CommandError(f"{option} {value!r}: {DateError()}") from None


class Command(BaseCommand):
    help = (
        "Rebuild province/day and nation/day rollups (and task snapshots) for a period, with a progress bar; "
        "or, with --pending, rebuild at once every rollup and snapshot still waiting for its job."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: today)")
        parser.add_argument("--snapshots", action="store_true", help="also rebuild the task snapshots of each day")
        parser.add_argument(
            "--pending",
            action="store_true",
            help="the catch-up, now: rebuild every pending rollup and task snapshot, whatever their age "
            "(after a broker or worker outage)",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, start, end, snapshots, pending, no_progress, **options):
        if pending:
            if start or end:
                raise CommandError("--pending rebuilds what is waiting; it takes no --from/--to")
            rollups = rollup_catch_up(older_than=None, limit=None)
            done = snapshot_catch_up(older_than=None)
            self.stdout.write(f"rebuilt {rollups} pending rollup(s) and {done} pending task snapshot day(s)")
            return
        if not start:
            raise CommandError("give --from (and optionally --to), or --pending")
        start = _date(start, "--from")
        end = _date(end, "--to") if end else timezone.localdate()
        if start > end:
            raise CommandError("--from is after --to")
        days = (end - start).days + 1
        with tqdm(total=days, desc="rollups", unit="day", disable=no_progress) as bar:
            rollup_rebuild_range(start=start, end=end, progress=bar.update)
        if snapshots:
            with tqdm(total=days, desc="snapshots", unit="day", disable=no_progress) as bar:
                snapshot_build_range(start=start, end=end, progress=bar.update)
        self.stdout.write(f"rebuilt {days} day(s) from {start} to {end}")
