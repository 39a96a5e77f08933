from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reports.services import api_client_issue


class Command(BaseCommand):
    help = "Issue an API key for one commune or province. The key is printed once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--locality", required=True, help="Commune (5 digits) or province (2 digits) code.")
        parser.add_argument("--name", required=True, help="The system or clerk that will use the key.")

    def handle(self, *args, locality, name, **options):
        try:
            client, key = api_client_issue(name=name, locality=locality)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            f"API client {client.pk}: {client.name} ({client.locality_code}), key prefix {client.key_prefix}"
        )
        self.stdout.write("The key is shown only now; store it safely. Use it as 'Authorization: Token <key>'.")
        self.stdout.write(key)
