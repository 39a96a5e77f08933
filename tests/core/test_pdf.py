"""core.pdf: a template as an A4 PDF, Vietnamese set in an installed font, nothing fetched from the network."""

import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pypdf import PdfReader

from core.pdf import pdf_response, render_pdf

VIETNAMESE = "Kế hoạch số 02: chuyển đổi số, Phường Ba Đình, Thành phố Hồ Chí Minh, Bộ Công an — ệ ữ ặ ỗ"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def fonts_of(pdf: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def test_vietnamese_text_is_in_the_pdf_in_an_installed_font(settings, tmp_path):
    (tmp_path / "t.html").write_text(
        '{% extends "core/pdf.html" %}{% block content %}<h1>{{ title }}</h1><p>{{ text }}</p>{% endblock %}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    pdf = render_pdf("t.html", {"title": "Báo cáo tuần", "text": VIETNAMESE})
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Báo cáo tuần" in text
    assert VIETNAMESE in " ".join(text.split())
    # DejaVu (fonts-dejavu-core) carries every letter: no fallback font, no missing glyph box.
    assert fonts_of(pdf) and all("DejaVu" in name for name in fonts_of(pdf)), fonts_of(pdf)


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_no_resource_is_fetched_from_the_network(settings, tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        (tmp_path / "t.html").write_text(
            "{% extends 'core/pdf.html' %}{% block content %}"
            f"<style>@import url({base}/a.css); @font-face {{ font-family: X; src: url({base}/f.woff); }}</style>"
            f'<img src="{base}/i.png"><p style="font-family: X">Xin chào</p>'
            "{% endblock %}"
        )
        settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
        pdf = render_pdf("t.html", {})
    finally:
        server.shutdown()
        server.server_close()
    assert "Xin chào" in text_of(pdf)
    assert _Recorder.hits == []


def test_the_response_is_a_pdf_attachment(settings, tmp_path):
    (tmp_path / "t.html").write_text("{% extends 'core/pdf.html' %}{% block content %}<p>Hà Nội</p>{% endblock %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    response = pdf_response("pack.pdf", "t.html", {})
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="pack.pdf"'
    assert "Hà Nội" in text_of(response.content)


@pytest.mark.django_db
def test_a_meeting_and_the_phase_dashboard_export_as_pdf(client, steering):
    from dashboards.meetings import meeting_create
    from tasks.scoping import scope_for_user
    from tests.dashboards.test_dashboards import seed

    _start, end = seed(2)
    meeting = meeting_create(
        scope=scope_for_user(steering), actor=steering, title="Phiên họp tháng Mười", date=end.isoformat()
    )
    client.force_login(steering)
    response = client.get(f"/dashboard/meetings/{meeting.pk}/?export=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(text_of(response.content).split())
    assert "Phiên họp tháng Mười" in text
    assert "Xếp hạng các tỉnh, thành phố" in text
    assert "Hà Nội" in text  # the ranking lists every province
    response = client.get(f"/dashboard/phases/?date={end.isoformat()}&export=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(text_of(response.content).split())
    assert "Hạn giai đoạn" in text
