"""`manage.py import_form FILE [--apply] [--effective-from DATE]`: a new version of a report form from an XLSX
workbook (sheets form, indicators, rules, rates; README "Report forms"). A dry run by default: what would change,
or every error by sheet, row and column; `--apply` writes the version in one transaction, or nothing."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from reports.formimport import StaleFormPlan, apply_form_import, plan_form_import


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--effective-from {text[:20]!r}: write a date YYYY-MM-DD / ghi ngày dạng YYYY-MM-DD"
        ) from None


class Command(BaseCommand):
    help = "Import a version of a report form from an XLSX workbook (dry run unless --apply)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--apply", action="store_true", help="write the version (default: dry run)")
        parser.add_argument("--effective-from", type=_day, help="the day it takes effect (else the form sheet's)")
        parser.add_argument("--user", default="manage.py", help="who imports (recorded)")

    def handle(self, *args, file, apply, effective_from, user, **options):
        plan = plan_form_import(file, effective_from=effective_from)
        if not plan.ok:
            for error in plan.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(plan.errors)} error(s); nothing was written.")
        spec = plan.spec
        assert spec is not None
        self.stdout.write(
            f"Form {spec.code}, version {spec.number} ({spec.status}), in force from {spec.effective_from.isoformat()}:"
            f" {len(spec.indicators)} indicators, {len(spec.rules)} rules, {len(spec.rates)} rates."
        )
        for line in plan.changes or ["no change from the version before"]:
            self.stdout.write(f"  {line}")
        if not apply:
            self.stdout.write("Dry run: nothing was written; add --apply to import.")
            return
        try:
            version = apply_form_import(plan, user=user, file=file)
        except StaleFormPlan as exc:
            raise CommandError(f"{exc}; nothing was written.") from None
        self.stdout.write(self.style.SUCCESS(f"Imported: form {spec.code} version {version.number}."))
