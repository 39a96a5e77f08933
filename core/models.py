from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Generation(models.Model):
    """A named number that changes whenever what some cached pages show changes (core.generations): the
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


# --- records that are never changed or deleted ----------------------------------------------------------------


class AppendOnlyError(Exception):
    """A write refused on a row the portal keeps as a record: history is never changed, records are never
    deleted (DESIGN.md §10). On PostgreSQL a trigger of the owning app refuses the same for any SQL client."""


class UndeletableQuerySet(models.QuerySet):
    """Refuses delete() of many rows, as the model refuses one."""

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} cannot be deleted")

    delete.queryset_only = True  # type: ignore[attr-defined]


class AppendOnlyQuerySet(UndeletableQuerySet):
    """Refuses changing many rows too (update, bulk_update)."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only: they cannot be changed")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only: they cannot be changed")


class UndeletableModel(models.Model):
    """A record that may be corrected but never deleted (a daily report). Pair it with UndeletableQuerySet."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name_plural} cannot be deleted")


class AppendOnlyModel(UndeletableModel):
    """A row written once and never changed: a correction is a new row (status updates, target values,
    meetings). Pair it with AppendOnlyQuerySet."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name_plural} are append-only: they cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)


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


class TransactionId(models.Func):
    """The writing transaction's id, as the column's database default: PostgreSQL's `txid_current()`. SQLite
    serialises writers, so its rows commit in the order of their ids and need none (NULL)."""

    function = "txid_current"
    template = "%(function)s()"
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return "NULL", []


class Event(models.Model):
    """One change other systems care about (DESIGN.md §14), written by the app that makes the change in the
    change's own transaction (core.events.emit): the outbox the changes feed and the webhooks read.

    `txid` is the writing transaction's id. Ids are handed out when a row is inserted, not when its
    transaction commits, so a reader that followed ids alone could pass over a row whose transaction was
    still open; the feed orders by (txid, id) and reads only transactions older than every one still open
    (core.events)."""

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(_("type"), max_length=60)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    txid = models.BigIntegerField(null=True, db_default=TransactionId(), editable=False)
    # Whose the change is, for scoping: the province (2 digits), the commune (5) and the agency it concerns.
    province = models.CharField(_("province"), max_length=2, blank=True, default="")
    commune = models.CharField(_("commune"), max_length=5, blank=True, default="")
    agency = models.CharField(_("agency"), max_length=20, blank=True, default="")
    # The changed object: its kind and id (e.g. "daily_report", 812), and a small payload of what changed.
    subject = models.CharField(_("subject"), max_length=40)
    subject_id = models.CharField(_("subject id"), max_length=40)
    actor = models.CharField(_("actor"), max_length=150, blank=True, default="")
    payload = models.JSONField(_("payload"), default=dict)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["txid", "id"]
        indexes = [
            # The changes feed's keyset: WHERE (txid, id) > (cursor) ORDER BY txid, id.
            models.Index(fields=["txid", "id"], name="core_event_feed_idx"),
            # The retention purge: WHERE occurred_at < now - 90 days.
            models.Index(fields=["occurred_at"], name="core_event_occurred_idx"),
        ]

    def __str__(self):
        return f"{self.type} {self.subject}:{self.subject_id} ({self.occurred_at:%Y-%m-%d %H:%M})"
