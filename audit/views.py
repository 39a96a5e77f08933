"""The audit trail page (/audit/) and its CSV and XLSX exports: for inspectors and the national admin.

Other roles get 403, as on the portal's other pages made for one role (a province officer's /reports/province/,
/tasks/communes/): the page is no secret — navigation lists it for the roles that read it — but reading it
is an action they may not take. 404 stays for the objects of units one may not see.
"""

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.forms import TrailFilterForm
from audit.trail import TrailFilter, audit_trail, describe, describe_all, may_read_audit
from core.exports import Sheet, csv_response, xlsx_response
from tasks.scoping import scope_for_user

PAGE_SIZE = 50
# An XLSX is built in memory; past this many rows the CSV (streamed) is the export to use.
XLSX_MAX_ROWS = 100_000


def _export_header() -> list[str]:
    return [
        _("time"),
        _("kind"),
        _("who"),
        _("API key"),
        _("object type"),
        _("object"),
        _("detail"),
        _("summary"),
        _("note"),
        _("link"),
    ]


def _export_rows(trail_filter: TrailFilter, *, limit: int | None = None) -> Iterator[list[Any]]:
    rows = audit_trail(trail_filter)
    if limit is not None:
        rows = rows[:limit]
    for event in describe_all(rows.iterator(chunk_size=2000)):
        client = event["api_client"]
        yield [
            event["at"],
            event["kind_label"],
            event["actor"] or "",
            f"{client['key_prefix']} {client['name']}" if client else "",
            event["object"]["type"],
            event["object"]["code"],
            event["object"]["label"],
            event["summary"],
            event["note"],
            event["object"]["url"] or "",
        ]


def _export(fmt: str, trail_filter: TrailFilter) -> HttpResponse | StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        note = _("At most %(limit)s rows, newest first; the CSV export has every row.") % {
            "limit": f"{XLSX_MAX_ROWS:,}"
        }
        sheet = Sheet(
            title=_("Audit trail"),
            header=_export_header(),
            rows=_export_rows(trail_filter, limit=XLSX_MAX_ROWS),
            notes=[note],
            notes_above=False,
        )
        return xlsx_response(f"audit-trail-{stamp}.xlsx", [sheet])
    return csv_response(f"audit-trail-{stamp}.csv", _export_header(), _export_rows(trail_filter), streaming=True)


@require_GET
def trail_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every recorded write, newest first: filters, 50 a page, export of the filtered trail."""
    if not may_read_audit(scope_for_user(request.user)):
        raise PermissionDenied(_("The audit trail is read by inspectors and the national admin."))
    form = TrailFilterForm(request.GET)
    if not form.is_valid():
        context = {"filter": {"form": form}, "page": None, "events": [], "export_query": ""}
        return render(request, "audit/trail.html", context, status=400)
    trail_filter = form.trail_filter()
    fmt = request.GET.get("export")
    if fmt in ("csv", "xlsx"):
        return _export(fmt, trail_filter)
    page = Paginator(audit_trail(trail_filter), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    context = {
        "filter": {"form": form},
        "page": page,
        "events": [describe(row) for row in page],
        "export_query": query.urlencode(),
    }
    return render(request, "audit/trail.html", context)
