"""What an answer may echo of what a request sent: at most ECHO_MAX characters of it, cut with an ellipsis.

Every error that repeats a value, a field name or a path it was sent (an upload's row, an unknown field, a
conflict's diff, an import's cell, a parameter) takes it through `echo`, so that a 200 MB cell (an XLSX whose
entities expanded, a JSON key of 30 MB) never comes back as a 200 MB page, and a message stays readable.
`bounded` applies the same bound to a whole error body whose messages may quote their input (the API's
exception handler, a form's errors): what the portal writes itself is far shorter than MESSAGE_MAX.

A foundation module: it imports no app.
"""

from typing import Any

ECHO_MAX = 200
MESSAGE_MAX = 500
ELLIPSIS = "…"


def echo(value: Any, limit: int = ECHO_MAX) -> str:
    """`value` as text, cut to `limit` characters (the ellipsis included) when longer."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def bounded(data: Any, limit: int = MESSAGE_MAX) -> Any:
    """A copy of a JSON-like error body whose every string and key is at most `limit` characters."""
    if isinstance(data, str):
        return echo(data, limit) if len(data) > limit else data
    if isinstance(data, dict):
        return {bounded(key, limit): bounded(value, limit) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [bounded(item, limit) for item in data]
    return data
