from django.core.management.base import BaseCommand, CommandError

from alerts.contacts import COLUMNS, ContactsFileError, plan_contacts
from alerts.services import contacts_import


class Command(BaseCommand):
    help = (
        "Import the contacts (accountable heads and focal points) of agencies, provinces and communes from a CSV "
        "or XLSX file. Dry run by default: prints what would change and every error by row and column. --apply "
        f"writes everything in one transaction, or nothing. Columns: {', '.join(COLUMNS)} (see alerts/contacts.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--apply", action="store_true", help="write the changes (default: dry run)")
        parser.add_argument("--user", default="manage.py", help="who imports (recorded)")

    def handle(self, *args, file, apply, user, **options):
        try:
            plan = plan_contacts(file)
        except (ContactsFileError, OSError) as exc:
            raise CommandError(str(exc)) from None
        if not plan.ok:
            for error in plan.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(plan.errors)} error(s); nothing was written.")
        verbose = options["verbosity"] > 1
        for row in plan.rows:
            if verbose or row.action != "unchanged":
                self.stdout.write(str(row))
        summary = (
            f"{plan.count('create')} to create, {plan.count('update')} to update, {plan.count('unchanged')} unchanged"
        )
        if not apply:
            self.stdout.write(f"Dry run: {summary}. Nothing was written; add --apply to import.")
            return
        contacts_import(plan=plan, imported_by=user, filename=file)
        self.stdout.write(self.style.SUCCESS(f"Imported contacts: {summary}."))
