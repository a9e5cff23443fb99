"""The form engine's records service: every write and read of app records goes through it.

    service = RecordService(conn, app_model, metadata, journal, Actor(user_id=7, via="api"))
    quote = service.create("quote", {"customer": 3, "lines": [{"product": 9, "qty": 2}]})
    service.update("quote", quote["id"], {"note": "rush"}, expected_version=quote["version"])
    page = service.list("quote", ListQuery(filter={"field": "total", "op": "gt", "value": 100},
                                           sort=[("total", "desc")], limit=50))

See ``docs/records.md`` for value shapes, errors, filters, pagination, search, computed fields,
audit and events.  This package imports no Flask, RQ, Redis or platform code.
"""

from __future__ import annotations

from tessera.engines.forms.context import (
    Actor,
    AllowAll,
    DenyAll,
    Journal,
    JournalEntry,
    JournalRecord,
    Scope,
    utc_now,
)
from tessera.engines.forms.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    RecordsError,
    ValidationFailed,
)
from tessera.engines.forms.filters import parse_sort
from tessera.engines.forms.reads import Change, ListQuery, Page, TimelineEntry
from tessera.engines.forms.search import ensure_search_index
from tessera.engines.forms.service import RecordService

__all__ = [
    "Actor",
    "AllowAll",
    "Change",
    "Conflict",
    "DenyAll",
    "FieldError",
    "Journal",
    "JournalEntry",
    "JournalRecord",
    "ListQuery",
    "NotFound",
    "Page",
    "PermissionDenied",
    "RecordService",
    "RecordsError",
    "Scope",
    "TimelineEntry",
    "ValidationFailed",
    "ensure_search_index",
    "parse_sort",
    "utc_now",
]
