from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reports.models import ApiClient
from reports.services import api_client_issue


class Command(BaseCommand):
    help = (
        "Issue an API key for one commune or province, or a national key (reads everything, sends nothing). The "
        "key is printed once, on the last line."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--locality", help="Commune (5 digits) or province (2 digits) code.")
        which.add_argument(
            "--national", action="store_true", help="A key of kind national: the national monitoring system."
        )
        parser.add_argument("--name", required=True, help="The system or clerk that will use the key.")

    def handle(self, *args, locality, national, name, **options):
        kind = ApiClient.Kind.NATIONAL if national else ApiClient.Kind.LOCALITY
        try:
            client, key = api_client_issue(name=name, locality=locality or "", kind=kind)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            f"API client {client.pk}: {client.name} ({client.locality_code or client.kind}), "
            f"key prefix {client.key_prefix}"
        )
        self.stdout.write("The key is shown only now; store it safely. Use it as 'Authorization: Token <key>'.")
        self.stdout.write(key)
