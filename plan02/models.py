from django.db import models
from django.utils.translation import gettext_lazy as _


class Generation(models.Model):
    """A named number that changes whenever what some cached pages show changes (plan02.generations): the
    dashboards' rollups and snapshots, the viewers (who a session is, what it may see, its bell). It lives in
    the database, renewed inside the transaction of the change, not in the cache: a change made while Redis
    is unreachable could not renew a number kept there, and a Redis that comes back with its data would
    serve what it cached before the outage."""

    name = models.CharField(primary_key=True, max_length=40)
    value = models.BigIntegerField()

    class Meta:
        verbose_name = _("cache generation")
        verbose_name_plural = _("cache generations")

    def __str__(self):
        return f"{self.name}: {self.value}"


class ImportRecord(models.Model):
    """Audit row of an applied file import (the task catalogue, the contacts): who, when, which file, what
    changed. Each import's own model subclasses it."""

    imported_by = models.CharField(_("imported by"), max_length=150)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    filename = models.CharField(_("file"), max_length=300)
    checksum = models.CharField(_("checksum"), max_length=64)
    created = models.PositiveIntegerField(_("created"))
    updated = models.PositiveIntegerField(_("updated"))
    unchanged = models.PositiveIntegerField(_("unchanged"))

    class Meta:
        abstract = True
        ordering = ["-imported_at"]

    def __str__(self):
        return f"{self.filename} ({self.imported_at:%Y-%m-%d %H:%M})"
