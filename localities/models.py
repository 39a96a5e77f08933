"""Provinces and communes of the two-level local government (in force since 2025-07-01).

Codes are the General Statistics Office's, kept as zero-padded strings: 2 digits for a province ("01"),
5 digits for a commune ("00004"). The lengths never overlap, so a report's `locality` code names exactly one
unit, and the code is the primary key: reports and assignments carry it without a lookup.

This is the lowest app: it imports none of the others. Querysets that take a caller's scope read it as a
plain value (its `reads_all`, `province_id`, `commune_id`), so they need not import the tasks app's roles.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

PROVINCE_CODE_LENGTH = 2
COMMUNE_CODE_LENGTH = 5
# Each commune has a stable slot within its province; rollups record which communes reported as a bitmap of
# slots (dashboards.rollups), in words of BITS_PER_WORD bits (62: the sums stay clear of signed 64-bit overflow).
# 28 words, 1,736 slots: ten times the largest province (Hồ Chí Minh City, 168 communes), so the portal carries 10× the
# reporting units (DESIGN.md §7, one desk per reporting unit) without a new column; a rebuild computes only the
# words the slots in use reach (dashboards.rollups._words_in_use), so unused words cost nothing per report.
BITS_PER_WORD = 62
SLOT_WORDS = 28
MAX_SLOTS = BITS_PER_WORD * SLOT_WORDS


class DivisionType(models.TextChoices):
    MUNICIPALITY = "thành phố trung ương", _("centrally-run city")
    PROVINCE = "tỉnh", _("province")
    WARD = "phường", _("ward")
    COMMUNE = "xã", _("commune")
    SPECIAL_ZONE = "đặc khu", _("special zone")


class ProvinceQuerySet(models.QuerySet):
    def followed_by(self, scope) -> "ProvinceQuerySet":
        """The provinces whose communes' figures and lists a scope (tasks.roles.Scope) follows: every one for
        read-all roles, its own for a province officer, none otherwise. Reference data (names, codes) is
        open to everyone; this is for the pages that show a province's detail."""
        if scope.reads_all:
            return self
        if scope.province_id:
            return self.filter(code=scope.province_id)
        return self.none()


class CommuneQuerySet(models.QuerySet):
    def followed_by(self, scope) -> "CommuneQuerySet":
        """The communes whose history a scope follows: every one for read-all roles, a province officer's
        communes, a clerk's own commune."""
        if scope.reads_all:
            return self
        if scope.province_id:
            return self.filter(province_id=scope.province_id)
        if scope.commune_id:
            return self.filter(code=scope.commune_id)
        return self.none()


class Province(models.Model):
    """One of the 34 provincial-level units."""

    code = models.CharField(_("code"), max_length=PROVINCE_CODE_LENGTH, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    codename = models.SlugField(_("codename"), max_length=100, unique=True)
    division_type = models.CharField(_("division type"), max_length=30, choices=DivisionType.choices)
    phone_code = models.CharField(_("phone code"), max_length=5, blank=True)
    data_version = models.CharField(_("data version"), max_length=50)

    objects = ProvinceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self):
        return self.name


class Commune(models.Model):
    """One of the 3,321 commune-level units (communes, wards, special zones)."""

    code = models.CharField(_("code"), max_length=COMMUNE_CODE_LENGTH, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    codename = models.CharField(_("codename"), max_length=100)
    division_type = models.CharField(_("division type"), max_length=30, choices=DivisionType.choices)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="communes", verbose_name=_("province")
    )
    # Position within the province, assigned once by the loader and never reused (see BITS_PER_WORD).
    slot = models.PositiveSmallIntegerField(_("slot"))
    data_version = models.CharField(_("data version"), max_length=50)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        constraints = [
            models.UniqueConstraint(fields=["province", "slot"], name="commune_province_slot_uniq"),
            models.CheckConstraint(condition=models.Q(slot__lt=MAX_SLOTS), name="commune_slot_in_range"),
        ]

    def __str__(self):
        return self.name


class DataVersion(models.Model):
    """Which edition of the official unit list was loaded, and when (one row per load that changed data)."""

    dataset = models.CharField(_("dataset"), max_length=50)
    version = models.CharField(_("version"), max_length=50)
    checksum = models.CharField(_("checksum"), max_length=64)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    summary = models.CharField(_("summary"), max_length=200, blank=True)

    class Meta:
        ordering = ["-loaded_at"]
        get_latest_by = "loaded_at"
        verbose_name = _("data version")
        verbose_name_plural = _("data versions")

    def __str__(self):
        return f"{self.dataset} {self.version}"


def locality_kind(code):
    """'province', 'commune' or None for a locality code string."""
    if isinstance(code, str) and code.isdigit():
        if len(code) == PROVINCE_CODE_LENGTH:
            return "province"
        if len(code) == COMMUNE_CODE_LENGTH:
            return "commune"
    return None
