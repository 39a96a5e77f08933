"""The audit trail's sources, declared by the apps that own them (declare, then register).

An app says next to its models which of its rows are events of the trail — a `TrailSource`: its rows, the
field that dates them, who acted, how its object is found, the common columns (`columns(...)`) and, through
its `Kind`s, how one of its rows reads (`describe`) — and which of its models django-auditlog keeps field by
field (`KeptModel`). It registers both from its AppConfig.ready(). The audit app gathers every registered
source into one list (audit.trail) and every kept model into auditlog (audit.registry), importing no app:
a new app's history appears in the trail without editing the audit app.

A source is one queryset shaped to `COLUMNS` with `.values()`; the trail is their UNION ALL ordered by time
(two queries a page, whatever the size of the history). A row is described from the row alone (no query).
"""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import F, Q, QuerySet, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, JSONObject
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise

# The columns every source gives, in this order (prefixed: annotations may not share a model field's name).
COLUMNS = (
    "e_at",
    "e_kind",
    "e_src",
    "e_user",
    "e_client_prefix",
    "e_client_name",
    "e_object_id",
    "e_object_code",
    "e_object_label",
    "e_model",
    "e_action",
    "e_data",
)


class TrailError(TypeError):
    """A source or a kept model is declared wrong or twice (raised at start-up)."""


@dataclass(frozen=True)
class Row:
    """One row of the trail as a describer reads it. `details` is the source's own JSON (`data(...)`) decoded;
    `data` the column as decoded (a dict, a list, or text), `raw` as stored."""

    kind: str
    object_id: str | None
    code: str
    label: str
    model: str | None
    action: str | None
    data: Any
    raw: str | None

    @property
    def details(self) -> dict[str, Any]:
        return self.data if isinstance(self.data, dict) else {}

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Row":
        raw = row["e_data"]
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw
        return cls(
            kind=row["e_kind"],
            object_id=row["e_object_id"],
            code=row["e_object_code"] or "",
            label=row["e_object_label"] or "",
            model=row["e_model"],
            action=row["e_action"],
            data=data,
            raw=raw,
        )


@dataclass
class Description:
    """What people read of one event: the object's type, its label (the row's unless said) and page, a short
    summary, the note given with it, and the changes field by field ({"field", "old", "new"})."""

    object_type: str
    summary: str = ""
    label: str | None = None
    note: str = ""
    url: str | None = None
    changes: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Kind:
    """A kind of event: its code (the API's `kind`), its label, and how one of its rows reads."""

    code: str
    label: str | Promise
    describe: Callable[[Row], Description]


@dataclass(frozen=True, eq=False)
class TrailSource:
    """One source: `queryset` (its rows), `time` (the field that dates them), `actors` (the fields that name who
    acted: a username, a key prefix), `codes` and `words` (the fields its object is found by: exact codes, text
    found inside), `columns` (from `columns(...)`), and `only` (the rows of one kind, where a source gives two:
    a report's first revision is its submission, the later ones corrections)."""

    kinds: tuple[Kind, ...]
    queryset: QuerySet
    time: str
    actors: tuple[str, ...]
    columns: dict[str, Any]
    codes: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    only: Mapping[str, Q] | None = None


@dataclass(frozen=True)
class KeptModel:
    """A model whose record changes django-auditlog keeps field by field. `exclude` are fields never kept
    (secrets, and fields that change without anyone editing them); `m2m` its many-to-many fields to follow;
    `created_by_own_event` when its creation is already an event of a source (a key issued), so the trail
    does not show it twice."""

    model: type[models.Model]
    exclude: tuple[str, ...] = ()
    m2m: frozenset[str] = frozenset()
    created_by_own_event: bool = False


# --- the columns -------------------------------------------------------------------------------------------------


def text(expression: Any = None) -> Combinable:
    """A text column; NULL typed as text, so the union's column types agree on PostgreSQL."""
    if expression is None:
        return Cast(Value(None), output_field=models.TextField())
    if isinstance(expression, str):
        expression = F(expression)
    return Cast(expression, output_field=models.TextField())


def literal(value: str) -> Combinable:
    return Cast(Value(value), output_field=models.TextField())


def data(**fields: Any) -> Combinable:
    """The source's own details as JSON text (a describer reads them as `row.details`)."""
    values = {name: F(path) if isinstance(path, str) else path for name, path in fields.items()}
    return Cast(JSONObject(**values), output_field=models.TextField())


def columns(
    *,
    at: str,
    kind: "Kind | Combinable",
    user: Any,
    object_code: Any,
    data: Combinable,
    object_id: Any = None,
    object_label: Any = None,
    client_prefix: Any = None,
    client_name: Any = None,
    model: Any = None,
    action: Any = None,
) -> dict[str, Any]:
    """A source's columns, in the order of COLUMNS. Field paths are given as text; `kind` is the source's one
    Kind, or an expression choosing between its kinds."""
    return {
        "e_at": F(at),
        "e_kind": literal(kind.code) if isinstance(kind, Kind) else kind,
        "e_src": F("pk"),
        "e_user": text(user),
        "e_client_prefix": text(client_prefix),
        "e_client_name": text(client_name),
        "e_object_id": text(object_id),
        "e_object_code": text(object_code),
        "e_object_label": text(object_label),
        "e_model": text(model),
        "e_action": action if action is not None else text(),
        "e_data": data,
    }


def link(name: str, *args: Any) -> str | None:
    """The page of an event's object; None when it cannot be made (a malformed code): the row is kept."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- the registry ------------------------------------------------------------------------------------------------

_sources: list[TrailSource] = []
_kinds: dict[str, Kind] = {}
_kept: dict[str, KeptModel] = {}
_pages: dict[str, str] = {}


def register(*sources: TrailSource) -> None:
    """Register an app's sources (from its AppConfig.ready()). A kind may be given by two sources (the same
    Kind object); a source is registered once however often ready() runs."""
    for source in sources:
        if tuple(source.columns) != COLUMNS:
            raise TrailError(f"a source of {source.queryset.model._meta.label} gives {tuple(source.columns)}")
        if not source.kinds:
            raise TrailError(f"a source of {source.queryset.model._meta.label} has no kind")
        for kind in source.kinds:
            if _kinds.get(kind.code, kind) is not kind:
                raise TrailError(f"the trail's kind {kind.code!r} is declared twice")
        if source.only and not set(source.only) <= {kind.code for kind in source.kinds}:
            raise TrailError(f"`only` of a source of {source.queryset.model._meta.label} names another kind")
    for source in sources:
        if not any(known is source for known in _sources):
            _sources.append(source)
        for kind in source.kinds:
            _kinds.setdefault(kind.code, kind)


def keep_changes(*kept: KeptModel) -> None:
    """Declare models whose record changes are kept field by field (from the owning app's ready())."""
    for entry in kept:
        label = entry.model._meta.label_lower
        if _kept.get(label, entry) != entry:
            raise TrailError(f"{label} is kept twice, differently")
        _kept[label] = entry


def show_records(model: type[models.Model], url_name: str) -> None:
    """The page that shows a kept model's record (one argument: its primary key), linked from its changes.
    Declared by the app that has the page, which may sit above the model's."""
    _pages[model._meta.label_lower] = url_name


def record_page(label: str) -> str | None:
    """The url name of the page of a kept model's record (`app_label.model`), if an app declared one."""
    return _pages.get(label)


def sources() -> list[TrailSource]:
    return list(_sources)


def kinds() -> list[Kind]:
    return list(_kinds.values())


def kind(code: str) -> Kind | None:
    return _kinds.get(code)


def kind_choices() -> list[tuple[str, str | Promise]]:
    return [(code, entry.label) for code, entry in _kinds.items()]


def kept_models() -> Sequence[KeptModel]:
    return list(_kept.values())
