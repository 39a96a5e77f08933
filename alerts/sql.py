"""A list of values as one query parameter, so that a query's text and its number of parameters stay the same
whatever the number of values (SQLite refuses more than 32,766 parameters; PostgreSQL's protocol 65,535).

`Model.objects.filter(pk__in=ids_in(ids))` renders `id IN (SELECT … FROM <the JSON array>)`.
"""

import json
from collections.abc import Iterable

from django.db import connection
from django.db.models.expressions import RawSQL


def ids_in(ids: Iterable[int]) -> RawSQL:
    values = json.dumps([int(i) for i in ids])
    if connection.vendor == "postgresql":
        return RawSQL("SELECT (jsonb_array_elements_text(%s::jsonb))::bigint", [values])
    return RawSQL("SELECT value FROM json_each(%s)", [values])


def texts_in(texts: Iterable[str]) -> RawSQL:
    values = json.dumps([str(t) for t in texts])
    if connection.vendor == "postgresql":
        return RawSQL("SELECT jsonb_array_elements_text(%s::jsonb)", [values])
    return RawSQL("SELECT value FROM json_each(%s)", [values])
