from django.core.management.base import BaseCommand
from django.utils import translation

from alerts.services.delivery import digests_send
from support.services import incidents_check


class Command(BaseCommand):
    help = (
        "The operations desk's check (DESIGN.md §12), as the beat runs it every 5 minutes: open an incident for "
        "each daily report asking for support, close resolved incidents nobody confirmed, tell who must be told "
        "and escalate the incidents past their time to the central support team. Running it again does nothing "
        "twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-email", action="store_true", help="notify in the portal, leave digests pending")

    def handle(self, *args, no_email=False, **options):
        with translation.override("en"):
            result = incidents_check(trigger="manage.py incidents_check")
            self.stdout.write(
                f"incidents: {result.opened} opened from reports, {result.closed} closed after confirmation time, "
                f"{result.raised} alerts raised, {result.escalated} escalated, {result.notifications} notifications"
            )
            if not no_email:
                sent = digests_send()
                self.stdout.write(f"e-mail digests sent: {sent.sent}")
