"""The REST API of published apps, under ``/api/v1`` (see ``docs/api.md``).

``/api/v1/apps/<app>/openapi.json`` describes one app; the record routes are generic over apps
and entities and are described per app by that document.
"""

from __future__ import annotations

from flask import Blueprint

from tessera.platform.api import openapi, problems, records

blueprint = Blueprint("api_records", __name__, url_prefix="/api/v1")
problems.register(blueprint)

_BASE = "/apps/<app>/<entity>"
blueprint.add_url_rule("/apps/<app>/openapi.json", "openapi", openapi.openapi_view, methods=["GET"])
blueprint.add_url_rule(_BASE, "list", records.list_records, methods=["GET"])
blueprint.add_url_rule(_BASE, "create", records.create_record, methods=["POST"])
blueprint.add_url_rule(f"{_BASE}/bulk", "bulk", records.bulk, methods=["POST"])
blueprint.add_url_rule(f"{_BASE}/<record>", "record", records.get_record, methods=["GET"])
blueprint.add_url_rule(f"{_BASE}/<record>", "update", records.update_record, methods=["PATCH"])
blueprint.add_url_rule(f"{_BASE}/<record>", "delete", records.delete_record, methods=["DELETE"])
blueprint.add_url_rule(
    f"{_BASE}/<record>/restore", "restore", records.restore_record, methods=["POST"]
)
blueprint.add_url_rule(
    f"{_BASE}/<record>/history", "history", records.record_history, methods=["GET"]
)

__all__ = ["blueprint"]
