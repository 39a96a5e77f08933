"""E-mail backends for the delivery tests (settings.EMAIL_BACKEND = "tests.alerts.mailers.…")."""

import smtplib

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend


class FlakyBackend(BaseEmailBackend):
    """Refuses the next `failures` messages (as an SMTP server that went away), then delivers to mail.outbox."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        mail.outbox.extend(messages)
        return len(messages)


class UnreachableBackend(BaseEmailBackend):
    """A server that cannot be reached at all."""

    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, messages):
        raise AssertionError("never reached")
