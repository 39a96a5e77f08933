"""Load every app's reference data from fixtures/, lowest app first (idempotent).

It lives in the project package, above the apps, because it calls each app's own loader: the localities
(provinces, communes), the tasks app's groups, phases and agencies, the dashboards' public targets and the
operations desk's incident categories."""

from django.core.management.base import BaseCommand, CommandError

from dashboards.targets import targets_load
from localities.services import LocalityDataError, localities_load
from support.categories import categories_load
from tasks.reference import reference_load


class Command(BaseCommand):
    help = (
        "Load the official provinces and communes, task groups, phases, agencies, the plan's public targets "
        "and the incident categories from fixtures/ and the apps (idempotent)."
    )

    def handle(self, *args, **options):
        try:
            result = localities_load()
        except LocalityDataError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"localities {result.version}: created {result.created}, updated {result.updated}"
            + (f", kept though not in file {result.not_in_file}" if any(result.not_in_file.values()) else "")
            + ("" if result.changed else " — nothing changed")
        )
        created = reference_load()
        self.stdout.write(f"reference data: created {created}")
        self.stdout.write(f"targets: created {targets_load()}")
        self.stdout.write(f"incident categories: created {categories_load()}")
