from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from alerts import specs
from alerts.services.delivery import digests_send
from alerts.services.runs import AlertsRunError, alerts_run
from core.dates import DATE_MESSAGE, DateError, parse_date


class Command(BaseCommand):
    help = (
        "Evaluate the early-warning rules (DESIGN.md §8) once: raise new alerts, close ended ones, notify and "
        "send the e-mail digests. --as-of D evaluates as if today were D, against the state at the end of D "
        "reconstructed from history. Running it again raises and sends nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD, today or earlier (default: today)")
        parser.add_argument(
            "--rule", dest="rules", action="append", choices=specs.codes(), help="only this rule (repeatable)"
        )
        parser.add_argument("--no-email", action="store_true", help="notify in the portal, leave digests pending")

    def handle(self, *args, **options):
        # The command's own messages are English, like the option names (e-mail keeps each person's language).
        with translation.override("en"):
            self._handle(**options)

    def _handle(self, *, as_of, rules, no_email, **options):
        day = None
        if as_of is not None:
            try:
                day = parse_date(as_of)
            except DateError:
                raise CommandError(f"--as-of {as_of!r}: {DATE_MESSAGE}") from None
        try:
            result = alerts_run(as_of=day, rules=rules, trigger="manage.py alerts_run")
        except AlertsRunError as exc:
            raise CommandError(f"--as-of {as_of}: {exc}" if as_of else str(exc)) from None
        self.stdout.write(
            f"alerts as of {result.run.as_of}: {result.raised} raised, {result.reopened} reopened, "
            f"{result.closed} closed; {result.notifications} notifications, {result.digests} e-mail digests"
        )
        if no_email:
            return
        sent = digests_send()
        self.stdout.write(
            f"e-mail digests sent: {sent.sent}" + (f", failed (retried later): {sent.failed}" if sent.failed else "")
        )
