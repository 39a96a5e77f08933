from core.imports import ImportCommand
from core.spreadsheets import SpreadsheetError
from tasks.catalogue import COLUMNS, apply_import, plan_import


class Command(ImportCommand):
    help = (
        "Import the task catalogue from a CSV or XLSX file. Dry run by default: prints what would change and "
        "every error by row and column. --apply writes everything in one transaction, or nothing. "
        f"Columns: {', '.join(COLUMNS)} (see tasks/catalogue.py)."
    )
    file_errors = (SpreadsheetError,)

    def plan(self, file):
        return plan_import(file)

    def apply(self, plan, *, user, file):
        apply_import(plan, actor_name=user, filename=file)
