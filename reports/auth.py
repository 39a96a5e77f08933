"""API-key authentication: `Authorization: Token <key>`.

Keys are random and long, so one SHA-256 of the key is enough to store and look them up (no slow password
hash on the hot path of every report). The request's user is a stand-in for the client; `request.auth` is
the ApiClient, from which tasks.scoping.scope_for_request builds the scope.
"""

import datetime
import hashlib

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

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


class ApiKeyAuthentication(authentication.BaseAuthentication):
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
        client = (
            ApiClient.objects.select_related("commune", "province")
            .filter(key_hash=hash_key(key), revoked_at__isnull=True)
            .first()
        )
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return ApiClientUser(client), client

    def authenticate_header(self, request):
        return KEYWORD
