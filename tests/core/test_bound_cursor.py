"""core.db.bound_cursor: statements bound on the server are prepared by psycopg after a few runs on a
connection (Django turns that off for every connection); Django's own cursors are never prepared."""

import pytest
from django.db import connection

from core.db import PREPARE_AFTER, bound_cursor

pytestmark = pytest.mark.django_db


def _prepared(text: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{text}%"])
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_a_statement_run_again_and_again_is_prepared_once_and_answers_the_same():
    answers = []
    for n in range(PREPARE_AFTER + 3):
        with bound_cursor() as cursor:
            cursor.execute("SELECT %s::bigint + 1 /* bound-cursor-probe */", [n])
            answers.append(cursor.fetchone()[0])
    assert answers == [n + 1 for n in range(PREPARE_AFTER + 3)]
    assert _prepared("bound-cursor-probe") == 1
    for _ in range(PREPARE_AFTER + 3):  # Django's cursors bind on the client: never prepared
        with connection.cursor() as cursor:
            cursor.execute("SELECT 2 /* django-cursor-probe */")
    assert _prepared("django-cursor-probe") == 0
