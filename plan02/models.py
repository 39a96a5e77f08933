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
