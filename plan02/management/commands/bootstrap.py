"""Set up a database for `make run`: reference data, the demo catalogue, demo users and demo history.

Idempotent: a second run keeps the data and the users as they are. With DEBUG off it refuses unless demo data
is allowed explicitly (--allow-demo-data or PLAN02_ALLOW_DEMO_DATA=true): see tasks.demo.demo_data_check."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from alerts.demo import demo_alerts_ensure
from inspections.demo import demo_inspection_ensure
from integrations.demo import demo_integrations_ensure
from support.demo import demo_support_ensure
from tasks.demo import (
    demo_actors_ensure,
    demo_data_allowed,
    demo_data_check,
    demo_plan_ensure,
    demo_users_ensure,
)
from tasks.models import Task

DEMO_CATALOGUE = settings.BASE_DIR / "fixtures" / "demo_tasks.csv"


class Command(BaseCommand):
    help = "Load reference data, the demo task catalogue, demo users, DEMO_DAYS days of demo history and demo alerts."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.DEMO_DAYS, help="days of demo history (DEMO_DAYS)")
        parser.add_argument(
            "--allow-demo-data",
            action="store_true",
            help="load the demo users and history even with DJANGO_DEBUG off (a demo or benchmark database)",
        )

    def handle(self, *args, days, allow_demo_data, **options):
        demo_data_check(allow=allow_demo_data)
        with demo_data_allowed():
            self._bootstrap(days)

    def _bootstrap(self, days):
        call_command("load_reference", stdout=self.stdout)
        if not Task.objects.exists():
            call_command("import_tasks", str(DEMO_CATALOGUE), apply=True, user="bootstrap", stdout=self.stdout)
        else:
            self.stdout.write("task catalogue already loaded — kept as it is")
        created, password = demo_users_ensure(password=settings.DEMO_PASSWORD)
        if created:
            self.stdout.write(f"demo users created: {', '.join(created)}")
            if not settings.DEMO_PASSWORD:
                self.stdout.write(self.style.WARNING(f"generated demo password (shown once): {password}"))
        else:
            self.stdout.write("demo users already exist — kept as they are")
        self._seed(days)

    def _seed(self, days):
        if days <= 0:
            self.stdout.write("DEMO_DAYS=0: no demo history")
            return
        call_command("seed_demo", days=days, if_empty=True, stdout=self.stdout)
        # Working groups with members, an all_ministries task, blockers that are a province and a system (§13),
        # before the first run of the rules so that it tells the blocking province and the support team.
        demo_actors_ensure(write=self.stdout.write)
        # A local plan of Hà Nội with sub-tasks for its communes, and an inspection with findings (§13), also
        # before that run: their overdue sub-tasks and follow-up items are in the bell from the start.
        demo_plan_ensure(write=self.stdout.write)
        demo_inspection_ensure(write=self.stdout.write)
        # Demo contacts and a first run of the early-warning rules, so the bell has alerts (once).
        demo_alerts_ensure(write=self.stdout.write)
        demo_integrations_ensure(write=self.stdout.write)
        demo_support_ensure(write=self.stdout.write)
