from django.core.management.base import BaseCommand, CommandError

from reports.auth import hash_key
from reports.models import ApiClient
from reports.services import api_client_revoke


class Command(BaseCommand):
    help = "Revoke an API key, named by its client id, its prefix (first 12 characters) or the key itself."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--id", type=int, help="API client id.")
        group.add_argument("--prefix", help="The key's first 12 characters, as listed in the admin.")
        group.add_argument("--key", help="The whole key.")

    def handle(self, *args, id=None, prefix=None, key=None, **options):
        if id is not None:
            clients = ApiClient.objects.filter(pk=id)
        elif prefix is not None:
            clients = ApiClient.objects.filter(key_prefix=prefix)
        else:
            clients = ApiClient.objects.filter(key_hash=hash_key(key))
        clients = list(clients[:2])
        if not clients:
            raise CommandError("No such key.")
        if len(clients) > 1:
            raise CommandError("Several keys have this prefix; revoke by --id.")
        client = clients[0]
        if api_client_revoke(client=client):
            self.stdout.write(f"Revoked the key of API client {client.pk}: {client.name} ({client.locality_code}).")
        else:
            self.stdout.write(f"The key of API client {client.pk} was already revoked.")
