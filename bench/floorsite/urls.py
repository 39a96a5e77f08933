import hashlib
import json

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

# Copies of the reports' tables at the same size (bench/run.py: floor_tables), with their indexes and foreign keys.
REPORTS, REVISIONS, ROLLUPS = "bench_floor_reports", "bench_floor_revisions", "bench_floor_rollup_requests"


@csrf_exempt
def report(request):
    """The same durable writes as an accepted report, bare: parse the JSON, then in one transaction the report
    (INSERT … ON CONFLICT DO NOTHING RETURNING), its first revision (the payload, its hash and a receipt) and its
    rollup request (INSERT … ON CONFLICT DO UPDATE, as reports.outbox). No auth, no validation, no middleware."""
    body = request.body
    data = json.loads(body)
    columns = [k for k in data if k != "outage_systems"]
    digest = hashlib.sha256(body).hexdigest()
    province = data["locality"][:2]
    commune = data["locality"] if len(data["locality"]) == 5 else None
    receipt = (digest[:40], digest)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {REPORTS} ({', '.join(columns)}, outage_systems, province_id, commune_id, receipt, "
            f"payload_hash, revision, late, received_at, updated_at) VALUES ({', '.join(['%s'] * len(columns))}, "
            "%s, %s, %s, %s, %s, 1, false, now(), now()) ON CONFLICT (locality, date) DO NOTHING RETURNING id",
            [*(data[k] for k in columns), json.dumps(data.get("outage_systems", [])), province, commune, *receipt],
        )
        row = cursor.fetchone()
        if row is not None:
            cursor.execute(
                f"INSERT INTO {REVISIONS} (report_id, number, payload, payload_hash, receipt, reason, created_at) "
                "VALUES (%s, 1, %s, %s, %s, '', now())",
                [row[0], body.decode(), digest, digest[:40]],
            )
            cursor.execute(
                f"INSERT INTO {ROLLUPS} AS r (province_id, date, requested_at) VALUES (%s, %s, now()) "
                "ON CONFLICT (province_id, date) DO UPDATE SET requested_at = r.requested_at",
                [province, data["date"]],
            )
    return JsonResponse({"status": "ok"}, status=201 if row is not None else 200)


def hello(request):
    return HttpResponse("ok")


def page(request):
    """The weak-connection floor (bench/weak.py): a bare HTML page of `?bytes=` bytes, no stylesheet, no script,
    no middleware: what a page of the same HTML size costs on the same connection, and nothing more."""
    size = max(int(request.GET.get("bytes", "1000")), 64)
    head = "<!doctype html><html><head><meta charset=utf-8><title>floor</title></head><body><p>"
    tail = "</p></body></html>"
    return HttpResponse(head + "x" * (size - len(head) - len(tail)) + tail, content_type="text/html; charset=utf-8")


urlpatterns = [path("report/", report), path("hello/", hello), path("page/", page)]
