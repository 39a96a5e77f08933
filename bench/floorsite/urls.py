import json

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_floor_reports"


@csrf_exempt
def upsert(request):
    """Parse the JSON body and upsert its figures: one INSERT … ON CONFLICT, nothing else."""
    data = json.loads(request.body)
    columns = [k for k in data if k != "outage_systems"]
    values = [data[k] for k in columns]
    sql = (
        f"INSERT INTO {TABLE} ({', '.join(columns)}, outage_systems, province_id, receipt, payload_hash, "
        f"revision, late, received_at, updated_at) VALUES ({', '.join(['%s'] * len(columns))}, %s, %s, '', '', 1, "
        "false, now(), now()) ON CONFLICT (locality, date) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, json.dumps(data.get("outage_systems", [])), data["locality"][:2]])
    return JsonResponse({"status": "ok"}, status=201)


def hello(request):
    return HttpResponse("ok")


urlpatterns = [path("upsert/", upsert), path("hello/", hello)]
