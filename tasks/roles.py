"""Roles and the caller's scope (DESIGN.md §3): who the caller is and which unit they act for.

This module imports no model, so every app — reports, dashboards, alerts — can take a `Scope` in its own
queryset methods (`visible_to(scope)`, `updatable_by(scope)`) without importing the apps above it. A
Scope is built once per request by tasks.scoping from the user's membership, or by the API key's client.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("national admin")
    STEERING = "steering", _("steering committee")
    INSPECTOR = "inspector", _("inspector")
    AGENCY_OFFICER = "agency_officer", _("agency officer")
    PROVINCE_OFFICER = "province_officer", _("province officer")
    COMMUNE_CLERK = "commune_clerk", _("commune clerk")
    # The central support team (DESIGN.md §3, §12): reads everything, acts on incidents only.
    SUPPORT = "support", _("central support team")


READ_ALL_ROLES = frozenset({Role.ADMIN, Role.STEERING, Role.INSPECTOR, Role.SUPPORT})
UNIT_ROLES = frozenset({Role.AGENCY_OFFICER, Role.PROVINCE_OFFICER, Role.COMMUNE_CLERK})


@dataclass(frozen=True)
class Scope:
    role: str | None = None
    agency_id: int | None = None
    province_id: str | None = None
    commune_id: str | None = None
    # The commune's province, for a commune clerk or a commune API key.
    commune_province_id: str | None = None
    user_id: int | None = None
    client_id: int | None = None
    # A steering member's working group (its number): the view the member lands on; it reads everything still.
    working_group: int | None = None

    @property
    def reads_all(self) -> bool:
        return self.role in READ_ALL_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_api_client(self) -> bool:
        return self.client_id is not None

    @property
    def has_unit(self) -> bool:
        return self.role in UNIT_ROLES

    @property
    def is_agency(self) -> bool:
        return self.role == Role.AGENCY_OFFICER

    @property
    def is_province(self) -> bool:
        return self.role == Role.PROVINCE_OFFICER

    @property
    def is_commune(self) -> bool:
        return self.role == Role.COMMUNE_CLERK

    @property
    def is_support(self) -> bool:
        return self.role == Role.SUPPORT

    def locality_code(self) -> str | None:
        return self.commune_id or self.province_id

    def may_act_for_locality(self, *, province_id: str, commune_id: str | None = None) -> bool:
        """May the scope submit or correct a report of this locality (a province itself, or a commune)?"""
        if self.is_commune:
            return commune_id is not None and commune_id == self.commune_id
        if self.is_province:
            return province_id == self.province_id
        return False


NO_SCOPE = Scope()
