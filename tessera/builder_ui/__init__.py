"""The builder: where app builders design apps by drag and drop, then publish them.

URLs (all for platform roles ``app_builder`` and ``system_admin``; the check is this
blueprint's ``before_request``, so a new page cannot forget it):

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

from flask import Blueprint, abort
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
    identity = current_identity()
    if identity is None or not identity.has_platform_role("app_builder"):
        abort(403)
    return None


from tessera.builder_ui import api, pages  # noqa: E402, F401  (routes)

__all__ = ["blueprint"]
