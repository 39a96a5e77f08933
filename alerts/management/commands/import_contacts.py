from alerts.contacts import COLUMNS, plan_contacts
from alerts.services.contacts import contacts_import
from core.imports import ImportCommand
from core.spreadsheets import SpreadsheetError


class Command(ImportCommand):
    help = (
        "Import the contacts (accountable heads and focal points) of agencies, provinces, communes and vendors, "
        "and the owners or vendors of systems (role vendor, with a system), from a CSV "
        "or XLSX file. Dry run by default: prints what would change and every error by row and column. --apply "
        f"writes everything in one transaction, or nothing. Columns: {', '.join(COLUMNS)} (see alerts/contacts.py)."
    )
    file_errors = (SpreadsheetError,)
    imported = "Imported contacts"

    def plan(self, file):
        return plan_contacts(file)

    def apply(self, plan, *, user, file):
        contacts_import(plan=plan, imported_by=user, filename=file)
