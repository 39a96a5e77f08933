"""The changes feed row of the benchmark (DESIGN.md §7): 100,000 events read page by page with the cursor,
as a national key reads them (integrations.feed.changes: the horizon and purge mark query, the keyset over
(txid, id) with each event's document written by PostgreSQL, the answer's body and the signed cursor), against
the floor: a bare keyset query over the same rows of the same table, page after page, fetching the same columns.

The events are written first, in transactions of 1,000 (as many writers would: their txids differ), and
removed afterwards; the benchmark database is its own."""

import time

PAGE = 1000
TYPE = "bench.feed"


def _write(count: int) -> None:
    from django.db import connection, transaction

    for start in range(0, count, PAGE):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_event (type, occurred_at, subject, subject_id, payload, province, commune, agency, "
                "actor) SELECT %s, now(), 'daily_report', g::text, jsonb_build_object('locality', '00004', "
                "'date', '2025-09-01', 'receipt', 'R-' || g, 'revision', 1, 'late', false), '01', '00004', '', "
                "'bench' FROM generate_series(%s, %s) AS g",
                [TYPE, start, min(start + PAGE, count) - 1],
            )


def _ours(start) -> tuple[float, int]:
    from integrations import feed
    from tasks.roles import Role, Scope

    scope, position, read = Scope(role=Role.STEERING, client_id=1), start, 0
    began = time.perf_counter()
    while True:
        page = feed.changes(scope=scope, position=position, limit=PAGE)
        body = page.body()  # the answer's bytes, as the API sends them
        read += len(page.documents)
        position = feed.Position.decode(page.cursor.encode())
        assert body
        if not page.has_more:
            return time.perf_counter() - began, read


def _floor(start) -> tuple[float, int]:
    from django.db import connection

    position, read = (start.txid, start.id), 0
    began = time.perf_counter()
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT id, txid, type, occurred_at, subject, subject_id, province, commune, agency, payload "
                "FROM core_event WHERE (txid, id) > (%s, %s) ORDER BY txid, id LIMIT %s",
                [*position, PAGE],
            )
            rows = cursor.fetchall()
            read += len(rows)
            if len(rows) < PAGE:
                return time.perf_counter() - began, read
            position = (rows[-1][1], rows[-1][0])


def changes_rows(row, *, count: int = 100_000) -> None:
    from core.models import Event
    from integrations import feed

    last = Event.objects.order_by("-txid", "-id").values_list("txid", "id").first()
    start = feed.Position(last[0] or 0, last[1]) if last else feed.START
    _write(count)
    try:
        ours = min((_ours(start) for _ in range(3)), key=lambda r: r[0])
        floor = min((_floor(start) for _ in range(3)), key=lambda r: r[0])
    finally:
        Event.objects.filter(type=TYPE).delete()
    ok = ours[1] == floor[1] == count
    row(
        f"changes feed: {count:,} events page by page ({PAGE} a page), best of 3",
        ours[0],
        floor[0],
        "≤ 2×, every event once",
        ok and ours[0] <= 2 * floor[0],
        "s",
        f"{ours[1]:,} events read (floor {floor[1]:,})",
    )
