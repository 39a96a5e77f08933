"""The audit trail (DESIGN.md §10: every write records who and when, readable by inspectors).

Each write path keeps its own record, written by its service in the same transaction (status updates,
report revisions, catalogue imports, API keys, lock exceptions, meetings, target values); record changes
made in the admin or elsewhere are kept field by field by django-auditlog (`registry`). `trail` reads all
of them as one list, newest first; `views` and `api` show and export it to inspectors and the admin.

An app on top (DESIGN.md §1): it may import every app below it, and no app imports it.
"""
