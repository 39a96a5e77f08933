"""Payload hashes and receipts. A receipt is stable for the same content: the same locality, date and
figures always give the same receipt, so an identical replay is recognised and answered with it."""

import hashlib
import json


def canonical_payload(payload):
    """The report's fields as a canonical JSON string (sorted keys, no whitespace, outage systems sorted)."""
    data = dict(payload)
    if isinstance(data.get("outage_systems"), list):
        data["outage_systems"] = sorted(data["outage_systems"])
    if data.get("date") is not None:
        data["date"] = str(data["date"])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(payload):
    return hashlib.sha256(canonical_payload(payload).encode()).hexdigest()


def receipt_for(digest):
    """A short, readable receipt derived from the payload hash (which covers locality and date)."""
    return f"R-{digest[:20].upper()}"
