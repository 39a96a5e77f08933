"""The command of a file import (`import_tasks`, `import_contacts`): dry run by default, every error by row
and column, `--apply` writes all or nothing. Each import gives its plan and its apply; the plan has `ok`,
`errors`, `rows` (with `action`) and `count(action)`."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError


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
