"""API-key authentication: `Authorization: Token <key>`.

Keys are random and long, so one SHA-256 of the key is enough to store and look them up (no slow password
hash on the hot path of every report). The request's user is a stand-in for the client; `request.auth` is
the ApiClient, from which tasks.scoping.scope_for_request builds the scope.
"""

import datetime
import hashlib

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from rest_framework import authentication, exceptions

from core import generations
from localities.models import Commune
from reports.models import ApiClient

KEYWORD = "Token"
# last_used_at is written at most this often per key, so a busy client costs no write per request.
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)


def hash_key(key):
    return hashlib.sha256(key.encode()).hexdigest()


class ApiClientUser:
    """What request.user is for a request authenticated by an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, client):
        self.client = client
        self.username = f"api-client:{client.pk}"

    def __str__(self):
        return str(self.client)

    def has_perm(self, perm, obj=None):
        return False


_CLIENT_COLUMNS = (
    "c.id, c.name, c.province_id, c.commune_id, m.province_id, m.slot, c.last_used_at, c.kind, c.key_prefix"
)


def _client_from(key_hash, row):
    pk, name, province_id, commune_id, commune_province, slot, last_used_at, kind, prefix = row
    if pk is None:
        return None
    client = ApiClient(id=pk, name=name, province_id=province_id, key_hash=key_hash, kind=kind, key_prefix=prefix)
    if commune_id:
        client.commune = Commune(code=commune_id, province_id=commune_province, slot=slot)
    if isinstance(last_used_at, str):  # SQLite returns text from a raw cursor
        last_used_at = parse_datetime(last_used_at)
    if last_used_at is not None and not timezone.is_aware(last_used_at):  # stored as UTC
        last_used_at = timezone.make_aware(last_used_at, datetime.UTC)
    client.last_used_at = last_used_at
    return client


def lookup_client(key_hash):
    """(the active ApiClient with this key hash, its commune attached, or None; the keys' generation), in one
    statement.

    Plain SQL: it runs on every API request that brings a key this process does not know, and compiling the
    equivalent ORM query (three joins) cost more than the query itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.value, {_CLIENT_COLUMNS} FROM (SELECT 1) AS one "  # noqa: S608 - constant columns
            "LEFT JOIN core_generation g ON g.name = %s "
            "LEFT JOIN reports_apiclient c ON c.key_hash = %s AND c.revoked_at IS NULL "
            "LEFT JOIN localities_commune m ON m.code = c.commune_id",
            [GENERATION, key_hash],
        )
        generation, *row = cursor.fetchone()
    return _client_from(key_hash, row), generation or 0


# --- the keys a process has looked up -----------------------------------------------------------------------
# Both paths (ApiKeyAuthentication and reports.fastpath) authenticate with authenticate_key(): a process keeps
# the keys it has looked up while the keys' generation (core.generations, in the database, as the page cache
# keeps its own) is the one it read with them. The generation is renewed inside the transaction of every
# change of a key: a revocation (the command, the admin's action, the province's page: api_client_revoke), a
# save or a delete anywhere (the receivers below: the admin's delete, a queryset's delete). So a revoked or
# deleted key is refused on its very next request, whichever process changed it, with or without Redis.
# A known key costs one primary-key read (the generation); an unknown one, the generation and the key in one
# statement. Unknown keys are not kept: a wrong key costs a query each time, as it should.
GENERATION = "api-keys"
KEY_CACHE_SIZE = 5000
_known: dict[str, tuple[int, ApiClient]] = {}


def authenticate_key(key_hash: str) -> ApiClient | None:
    """The active ApiClient of the key with this hash, or None: the one authentication of an API key."""
    known = _known.get(key_hash)
    if known is not None and generations.read([GENERATION])[GENERATION] == known[0]:
        return known[1]
    client, generation = lookup_client(key_hash)
    if client is None:
        _known.pop(key_hash, None)
        return None
    if len(_known) >= KEY_CACHE_SIZE:
        _known.clear()
    _known[key_hash] = (generation, client)
    return client


def keys_changed() -> None:
    """Renew the keys' generation: call inside the transaction that changes a key."""
    generations.renew(GENERATION)


@receiver(post_save, sender=ApiClient, dispatch_uid="reports.auth.saved")
@receiver(post_delete, sender=ApiClient, dispatch_uid="reports.auth.deleted")
def _key_changed(**kwargs):
    keys_changed()


def keys_forget() -> None:
    _known.clear()


def touch(client: ApiClient) -> None:
    """Record the key's last use, at most once per LAST_USED_RESOLUTION, so a busy client costs no write per
    request."""
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


class ApiKeyAuthentication(authentication.BaseAuthentication):
    # An error raised during the lookup (the database down) must not put the key in an error report.
    @method_decorator(sensitive_variables("header", "key"))
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header: use 'Token <key>'."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        client = authenticate_key(hash_key(key))
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        touch(client)
        return ApiClientUser(client), client

    def authenticate_header(self, request):
        return KEYWORD
