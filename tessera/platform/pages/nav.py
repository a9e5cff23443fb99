"""The frame around every runtime page: the app's navigation, read from its definition, and the
switch between an entity's list, board and calendar.  Also the app's front door (``/apps/<app>/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import has_request_context, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tessera.engines.definitions import EntityModel
from tessera.platform.identity.current import login_required
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import Runtime, open_app

PAGE_OF = {"list": "", "kanban": "kanban", "calendar": "calendar"}


def entity_url(app: str, entity: str, page: str = "", **params: Any) -> str:
    """``/apps/<app>/<entity>/<page>?…`` (pages: "", kanban, calendar, new, <id>, <id>/edit)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)
    return f"/apps/{app}/{entity}/{page}" + (f"?{query}" if query else "")


def _item_url(runtime: Runtime, item: Mapping[str, Any]) -> str | None:
    entity = item.get("entity")
    if not isinstance(entity, str) or not runtime.model.has_entity(entity):
        return None
    view_key = item.get("view")
    view = next((v for v in runtime.views(entity) if v.get("key") == view_key), None)
    page = PAGE_OF.get(str(view.get("type"))) if view else ""
    return entity_url(runtime.key, entity, page or "", view=view_key if view else None)


def navigation(runtime: Runtime, current: str | None = None) -> list[dict[str, Any]]:
    """Menu items ``{label, url, entity, active}`` or groups ``{label, children, active}``;
    without a ``navigation`` in the definition, every entity that is not a child table."""

    def build(item: Mapping[str, Any]) -> dict[str, Any] | None:
        if "items" in item:
            children = [c for c in (build(i) for i in item.get("items", ())) if c]
            if not children:
                return None
            return {"label": runtime.label(item.get("label"), ""), "children": children,
                    "active": any(c["active"] for c in children)}  # fmt: skip
        url = _item_url(runtime, item)
        if url is None:
            return None
        entity = runtime.model.entity(str(item["entity"]))
        label = runtime.label(item.get("label"), "") or runtime.entity_label(entity, plural=True)
        return {"label": label, "url": url, "entity": entity.key, "active": False}

    items = runtime.doc.get("navigation") or [
        {"entity": e.key} for e in runtime.model.entities if not e.child
    ]
    built = [b for b in (build(i) for i in items) if b]
    _mark_active(built, current)
    return built


def _mark_active(items: list[dict[str, Any]], current: str | None) -> None:
    """Exactly one item is current: the one whose address is this page's, else the first
    item of this page's entity."""
    if current is None:
        return
    leaves = [c for i in items for c in i.get("children", [i])]
    here = request.full_path.rstrip("?") if has_request_context() else ""
    path = request.path if has_request_context() else ""
    chosen = (
        next((i for i in leaves if i["url"] == here), None)
        or next((i for i in leaves if i["url"] == path), None)
        or next((i for i in leaves if i.get("entity") == current), None)
    )
    if chosen is None:
        return
    chosen["active"] = True
    for item in items:
        if "children" in item:
            item["active"] = any(c["active"] for c in item["children"])


def first_url(runtime: Runtime) -> str | None:
    for item in navigation(runtime):
        if "children" in item:
            return str(item["children"][0]["url"])
        return str(item["url"])
    return None


def switcher(runtime: Runtime, entity: EntityModel, active: str) -> list[dict[str, Any]]:
    """The list / board / calendar tabs an entity offers (board: it has a select field;
    calendar: a date field)."""
    types = {f.type for f in entity.fields}
    tabs = [{"key": "list", "label": _("List"), "icon": "list",
             "url": entity_url(runtime.key, entity.key)}]  # fmt: skip
    if "select" in types:
        tabs.append({"key": "kanban", "label": _("Board"), "icon": "board",
                     "url": entity_url(runtime.key, entity.key, "kanban")})  # fmt: skip
    if types & {"date", "datetime"}:
        tabs.append({"key": "calendar", "label": _("Calendar"), "icon": "calendar",
                     "url": entity_url(runtime.key, entity.key, "calendar")})  # fmt: skip
    for tab in tabs:
        tab["active"] = tab["key"] == active
    return tabs


def frame(runtime: Runtime, entity: EntityModel | None, active: str = "") -> dict[str, Any]:
    """Template variables every runtime page uses."""
    return {
        "app_key": runtime.key,
        "app_label": runtime.app_label(),
        "nav": navigation(runtime, entity.key if entity else None),
        "entity": entity,
        "entity_label": runtime.entity_label(entity) if entity else "",
        "entity_plural": runtime.entity_label(entity, plural=True) if entity else "",
        "switcher": switcher(runtime, entity, active) if entity and active else [],
        "locale": runtime.locale,
        "time_zone": runtime.identity.time_zone,
    }


@blueprint.get("/<app_key>/")
@login_required
def app_home(app_key: str) -> ResponseReturnValue:
    """An app's front door: its first navigation item."""
    from flask import abort

    with open_app(app_key) as runtime:
        url = first_url(runtime)
    if url is None:
        abort(404)
    return redirect(url)
