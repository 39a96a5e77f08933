"""`manage.py form_template OUT.xlsx [--date DATE]`: the form in force on a day (default today) as the workbook
`import_form` reads, to edit into a new version."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.exports import xlsx_bytes
from reports import formspec
from reports.formimport import form_template_sheets


class Command(BaseCommand):
    help = "Write the report form in force on a day as an XLSX workbook that import_form reads."

    def add_arguments(self, parser):
        parser.add_argument("out")
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, out, date, **options):
        try:
            day = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError(f"--date {date[:20]!r}: write a date YYYY-MM-DD") from None
        if not out.lower().endswith(".xlsx"):
            raise CommandError("the file name ends in .xlsx")
        spec = formspec.spec_for_day(day)
        Path(out).write_bytes(xlsx_bytes(form_template_sheets(spec)))
        self.stdout.write(f"Wrote {out}: form {spec.code} version {spec.number}, in force on {day.isoformat()}.")
