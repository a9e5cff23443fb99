"""The builder: where app builders design apps by drag and drop, then publish them.

URLs (the checks are this blueprint's ``before_request``, so a new page cannot forget them):
everything under ``/build/<app>/`` needs ``permissions.may_build`` for that app (system
administrators; the holders of a role that says ``build_app`` when the app has one, else app
builders); creating, installing and importing apps need the platform role ``app_builder``; the
app manager shows the apps the user may build:

- ``/build/`` the app manager: create, install a template, import, export;
- ``/build/<app>/`` the app designer (entities, navigation, app name);
- ``/build/<app>/entities/<entity>`` the form designer, ``…/views`` the view designer;
- ``/build/<app>/publish`` the plan, the diff and the confirmation of destructive steps;
- ``/build/<app>/history`` versions, their changes and rollback;
- ``/build/<app>/_/…`` the JSON endpoints the designers call (CSRF-protected).

Every designer step is a change to the app's draft (``apps.draft``): the browser holds the
document, applies each step as a pure function, and saves it; the server validates every save
and answers with the errors and their JSON paths.  See ``docs/architecture.md`` (Builder).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, g, request
from flask.typing import ResponseReturnValue

from tessera.platform.identity.current import current_identity, login_required

STATIC_DIR = Path(__file__).resolve().parent / "static"

blueprint = Blueprint(
    "builder",
    __name__,
    url_prefix="/build",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@blueprint.before_request
@login_required
def _builders_only() -> ResponseReturnValue | None:
    """403 unless the user may build the app of the URL (or, for URLs of no app, is an app
    builder; the manager also admits whoever may build some app, and lists only those)."""
    from tessera.platform import permissions
    from tessera.platform.models import App
    from tessera.platform.runtime import current_platform

    identity = current_identity()
    if identity is None:
        abort(403)
    if request.endpoint == "builder.static":
        return None  # the designers' scripts and styles hold nothing of any app
    app_key = (request.view_args or {}).get("app")
    if app_key is None and request.endpoint != "builder.manager":
        allowed = identity.has_platform_role("app_builder")
    else:
        with current_platform().db.engine.connect() as conn:
            if app_key is not None:
                allowed = permissions.may_build(conn, str(app_key), identity)
                # read here, once, for the view (``pages._app_row``); an unknown app is a 404
                # for whoever could build one under that key, a 403 for everyone else
                g.builder_app = conn.execute(
                    sa.select(App.__table__).where(App.key == str(app_key))
                ).first()
                if allowed and g.builder_app is None:
                    abort(404)
            else:
                allowed = identity.has_platform_role("app_builder") or bool(
                    permissions.buildable_apps(conn, identity)
                )
    if not allowed:
        abort(403)
    return None


from tessera.builder_ui import api, pages  # noqa: E402, F401  (routes)

__all__ = ["blueprint"]
