"""PDF of a Django template (DESIGN.md §14: the steering pack, the phase dashboard, inspection reports).

WeasyPrint lays the HTML out with Pango, so Vietnamese (stacked diacritics: ệ, ữ, ặ) is shaped by HarfBuzz
and set in the fonts of an installed package (fonts-dejavu-core: `static/css/pdf.css` asks for DejaVu Sans
first). The portal's own stylesheet is read from the static files and handed over as a string, so the PDF
looks like the browser's print of the page. Nothing is fetched while rendering: the URL fetcher refuses every
address but inline `data:` ones, so a template (or a text someone typed into it) that names a remote font or
image cannot make the server call out, and a PDF never depends on the network.

A foundation module: it imports no app. `render_pdf()` returns bytes; `pdf_response()` an attachment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger(__name__)

PDF = "application/pdf"
# The portal's stylesheet (its @media print rules apply: WeasyPrint renders for print), then the page set-up
# and fonts of the PDF.
STYLESHEETS = ("css/plan02.css", "css/pdf.css")


class RemoteResourceRefused(ValueError):
    """A template named a resource outside the document: rendering goes on without it."""


@cache
def _stylesheet(path: str) -> str:
    found = finders.find(path)
    if not found:
        raise FileNotFoundError(f"static file {path} not found")
    with open(found, encoding="utf-8") as handle:
        return handle.read()


def _fetcher() -> Any:
    # Imported here, not at module level: WeasyPrint pulls in Pango through cffi, which every web process and
    # test process would otherwise load at start-up for a page few people ask for.
    from weasyprint.urls import URLFetcher

    class NoNetwork(URLFetcher):
        """Only `data:` URLs (an inline image); any other address is refused and left out of the PDF."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            logger.warning("PDF: refused to fetch %s", url[:200])
            raise RemoteResourceRefused(url[:200])

    return NoNetwork(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def render_pdf(
    template_name: str,
    context: Mapping[str, Any],
    *,
    request: HttpRequest | None = None,
    stylesheets: Sequence[str] = STYLESHEETS,
) -> bytes:
    """The template rendered to HTML with `context` (and the request's context processors), laid out as an A4
    PDF. Links stay links; relative ones are dropped (there is no base URL to resolve them against)."""
    from weasyprint import CSS, HTML

    html = render_to_string(template_name, {"generated_at": timezone.now(), **context}, request=request)
    fetcher = _fetcher()
    css = [CSS(string=_stylesheet(path), url_fetcher=fetcher) for path in stylesheets]
    return HTML(string=html, url_fetcher=fetcher, media_type="print").write_pdf(stylesheets=css)


def pdf_response(
    filename: str, template_name: str, context: Mapping[str, Any], *, request: HttpRequest | None = None
) -> HttpResponse:
    """The PDF as a download named `filename`."""
    response = HttpResponse(render_pdf(template_name, context, request=request), content_type=PDF)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
