"""Sending one webhook (DESIGN.md §14): the address checked against server-side request forgery, the
Standard Webhooks headers and signature, the HTTP request to the address that was checked.

Server-side request forgery: an endpoint's URL is chosen by a person, and the portal's servers send to it,
from inside the government network. So the address must be https (http only with DEBUG, for a laptop), must
not be the portal itself, and every address its host resolves to must be a public one — not private,
loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved or unspecified. It is checked
when the endpoint is registered and again at every delivery (DNS can change meanwhile), and the request is
sent to the very address that passed the check (the connection is pinned to it; TLS still verifies the
certificate against the host name), so a DNS answer that changes between the check and the connection
("DNS rebinding") cannot redirect it. Redirects are not followed.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

USER_AGENT = "plan02-webhooks/1"
RESPONSE_KEEP = 2000  # characters of an answer kept in the delivery log


class UrlRefused(ValueError):
    """The URL may not receive webhooks: `code` is stable, the message translated."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _portal_hosts() -> set[str]:
    hosts = {urlsplit(settings.ALERTS_PORTAL_URL).hostname or ""}
    hosts |= {host.lower().strip("[]") for host in settings.ALLOWED_HOSTS if host not in ("*",)}
    return {host for host in hosts if host}


def _is_portal(host: str) -> bool:
    for portal in _portal_hosts():
        if portal.startswith("."):  # ALLOWED_HOSTS' ".example.gov.vn": the domain and its subdomains
            if host == portal[1:] or host.endswith(portal):
                return True
        elif host == portal:
            return True
    return False


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (an address that passed the check) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_url(url: str) -> Target:
    """The URL's target, or UrlRefused saying why not. Resolves the host name (DNS)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("invalid", _("Not a valid URL.")) from None
    allow_http = settings.WEBHOOKS_ALLOW_HTTP
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise UrlRefused("https_required", _("The URL must start with https://."))
    host = (parts.hostname or "").lower()
    if not host:
        raise UrlRefused("invalid", _("Not a valid URL."))
    if parts.username or parts.password:
        raise UrlRefused("invalid", _("The URL must not carry a user name or password."))
    if _is_portal(host):
        raise UrlRefused("portal_itself", _("The URL points at this portal itself."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused("unresolvable", _("The host name %(host)s cannot be resolved.") % {"host": host}) from None
    addresses = sorted({str(info[4][0]) for info in found})
    if not addresses:
        raise UrlRefused("unresolvable", _("The host name %(host)s cannot be resolved.") % {"host": host})
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        private = [address for address in addresses if not _public(address)]
        if private:
            raise UrlRefused(
                "private_address",
                _("The URL leads to a private, loopback or link-local address (%(address)s): not allowed.")
                % {"address": private[0]},
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])


def sign(secret: str, *, webhook_id: str, timestamp: datetime.datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (the reference library makes the v1 signature)."""
    signature = Webhook(secret).sign(webhook_id, timestamp, body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(target: Target, *, headers: dict[str, str], body: str, timeout: float) -> Answer:
    """POST the body to the checked address. Never raises for a network error: the Answer says it."""
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    all_headers = {
        **headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": host_header,
    }
    timeouts = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            timeout=timeouts,
            retries=False,
            maxsize=1,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeouts, retries=False, maxsize=1)
    try:
        response = pool.request(
            "POST",
            target.path,
            body=body.encode(),
            headers=all_headers,
            redirect=False,
            preload_content=False,
        )
        try:
            text = response.read(RESPONSE_KEEP * 4, decode_content=True).decode("utf-8", "replace")[:RESPONSE_KEEP]
        finally:
            response.release_conn()
        return Answer(response.status, text)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Answer(None, "", f"{exc.__class__.__name__}: {exc}"[:500])
    finally:
        pool.close()
