import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from dashboards.demo import seed_meetings, seed_target_values
from dashboards.rollups import rollup_rebuild_range
from dashboards.snapshots import snapshot_build
from reports.demo import seed_quality, seed_reports
from reports.models import DailyReport
from tasks.demo import demo_data_allowed, demo_data_check, demo_history_actor, seed_task_history

FIRST_DAY = datetime.date(2025, 7, 1)


class Command(BaseCommand):
    help = (
        "Generate demo daily reports for every commune and province over the last N days up to yesterday, "
        "task histories, and their rollups. Refuses to write over existing reports in the period."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, required=True, help="number of days up to yesterday")
        parser.add_argument("--seed", type=int, default=2025, help="random seed (same seed, same data)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any report exists")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--allow-demo-data",
            action="store_true",
            help="seed even with DJANGO_DEBUG off (a demo or benchmark database; see tasks.demo.demo_data_check)",
        )

    def handle(self, *args, days, seed, if_empty, no_progress, allow_demo_data, **options):
        demo_data_check(allow=allow_demo_data)
        with demo_data_allowed():
            self._seed(days=days, seed=seed, if_empty=if_empty, no_progress=no_progress)

    def _seed(self, *, days, seed, if_empty, no_progress):
        if days < 0:
            raise CommandError("--days must be 0 or more")
        if days == 0:
            return
        if if_empty and DailyReport.objects.exists():
            self.stdout.write("demo reports already present — kept as they are")
            return
        end = timezone.localdate() - datetime.timedelta(days=1)
        start = max(FIRST_DAY, end - datetime.timedelta(days=days - 1))
        if start > end:
            raise CommandError("no day to seed: the reporting period starts on 2025-07-01")
        if DailyReport.objects.filter(date__range=(start, end)).exists():
            raise CommandError(f"reports already exist between {start} and {end}; nothing was written")
        n_days = (end - start).days + 1
        with tqdm(total=n_days, desc="reports", unit="day", disable=no_progress) as bar:
            count = seed_reports(start=start, end=end, seed=seed, progress=bar.update)
        self.stdout.write(f"demo reports: {count:,} for {n_days} days ({start} – {end})")
        history = seed_task_history(end=end, seed=seed)
        self.stdout.write(f"task history: {history:,} updates" if history else "task history already present")
        warnings, approvals = seed_quality(end=end, seed=seed)
        self.stdout.write(f"data quality: {warnings:,} warnings, {approvals:,} approved reports")
        with tqdm(total=n_days, desc="rollups", unit="day", disable=no_progress) as bar:
            rollup_rebuild_range(start=start, end=end, progress=bar.update)
        # Task snapshots: every day of the last five weeks (the forecast's window), weekly before that.
        today = timezone.localdate()
        days = [today - datetime.timedelta(days=i) for i in range(min(n_days + 1, 36))]
        days += [d for d in (end - datetime.timedelta(days=i) for i in range(35, n_days, 7)) if d >= start]
        for day in tqdm(sorted(days), desc="snapshots", unit="day", disable=no_progress):
            snapshot_build(day)
        values = seed_target_values(end=end, actor=demo_history_actor(), seed=seed)
        self.stdout.write(f"target values: {values}" if values else "target values already present")
        meetings = seed_meetings(end=end) if n_days >= 29 else []
        self.stdout.write(
            f"demo meetings: {', '.join(str(m) for m in meetings)}" if meetings else "demo meetings: none added"
        )
