"""File imports (the task catalogue, the contacts): the plan an import works out before writing anything — its
rows, each with an `action` (create, update, unchanged), and its errors, each named by row and column — and
the command that shows it: dry run by default, every error by row and column, `--apply` writes all or nothing.
The file itself is read by core.spreadsheets.read_table."""

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from django.core.management.base import BaseCommand, CommandError

from core.text import MESSAGE_MAX, echo


@dataclass
class RowError:
    """One error of an import file: the spreadsheet's row (the header is 1), the column, what is wrong."""

    row: int
    column: str
    message: str

    def __post_init__(self) -> None:
        # Both may quote the file (a header, a cell): no longer than an answer may echo (core.text).
        self.column = echo(self.column)
        self.message = echo(self.message, MESSAGE_MAX)

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class PlannedRow(Protocol):
    action: str  # create | update | unchanged


RowT = TypeVar("RowT", bound=PlannedRow)


@dataclass
class ImportPlan(Generic[RowT]):
    """What applying a file would do (`rows`), or why it may not be applied (`errors`), and the file's
    checksum. A plan with any error is never applied."""

    rows: list[RowT] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    checksum: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


class ImportCommand(BaseCommand):
    file_errors: tuple[type[Exception], ...] = ()  # a file that cannot be read at all
    imported = "Imported"

    def plan(self, file: str) -> Any:
        raise NotImplementedError

    def apply(self, plan: Any, *, user: str, file: str) -> None:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--apply", action="store_true", help="write the changes (default: dry run)")
        parser.add_argument("--user", default="manage.py", help="who imports (recorded)")

    def handle(self, *args, file, apply, user, **options):
        try:
            plan = self.plan(file)
        except (*self.file_errors, OSError) as exc:
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
        self.apply(plan, user=user, file=file)
        self.stdout.write(self.style.SUCCESS(f"{self.imported}: {summary}."))
