"""The UI shell: base layout, home page, language switch, designed error pages.

Templates live in ``web/templates`` (shared by every blueprint of the platform); static files in
``tessera/platform/static`` (the Flask app's static folder), our own CSS and ES modules beside
the vendored libraries that ``make vendor`` copies in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from tessera.platform import i18n
from tessera.platform.identity.current import (
    current_identity,
    is_api_request,
    safe_next,
)
from tessera.platform.models import User
from tessera.platform.runtime import current_platform
from tessera.platform.web import ratelimit, security
from tessera.platform.web.fingerprints import fingerprint

blueprint = Blueprint("web", __name__, template_folder="templates")
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def no_users_yet() -> bool:
    """True until the first account exists: the first-run page is open only then."""
    with current_platform().db.session() as db:
        return db.scalar(sa.select(User.id).limit(1)) is None


@blueprint.get("/")
def home() -> ResponseReturnValue:
    if current_identity() is None:
        if no_users_yet():
            return redirect(url_for("auth.setup"))
        return redirect(url_for("auth.sign_in"))
    from tessera.platform.pages.context import published_apps

    with current_platform().db.engine.connect() as conn:
        apps: list[Any] = published_apps(conn, current_identity())  # type: ignore[arg-type]
    return render_template("home.html", apps=apps)


@blueprint.post("/language")
def switch_language() -> ResponseReturnValue:
    """The language switch: saved on the profile when signed in, else in the session."""
    chosen = i18n.normalise_locale(request.form.get("locale"))
    back = safe_next(request.form.get("next")) or url_for("web.home")
    if chosen is None:
        return redirect(back)
    session[i18n.SESSION_KEY] = chosen
    identity = current_identity()
    if identity is not None and identity.user_id is not None:
        with current_platform().db.session() as db:
            user = db.get(User, identity.user_id)
            if user is not None:
                user.locale = chosen
    return redirect(back)


def static_url(filename: str) -> str:
    """A static URL with a content fingerprint, so a new release is never served stale."""
    return url_for("static", filename=filename, v=fingerprint(STATIC_DIR, filename))


ERROR_TEXT = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please check what you sent."),
    ),
    401: (_l("Please sign in"), _l("You need to sign in to see this page.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page or do this.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has been moved.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    429: (
        _l("Too many requests"),
        _l("You have tried too often. Please wait a while and try again."),
    ),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. It has been logged.")),
}


def _error_page(code: int, detail: str | None = None) -> ResponseReturnValue:
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[500])
    if is_api_request():
        error = HTTP_STATUS_CODES.get(code, "error").lower().replace(" ", "_")
        return jsonify({"error": error, "message": detail or HTTP_STATUS_CODES.get(code)}), code
    return (
        render_template("errors/error.html", code=code, title=str(title), text=detail or str(text)),
        code,
    )


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    if code not in ERROR_TEXT:
        return exc
    return _error_page(code)


def _csrf_error(_exc: CSRFError) -> ResponseReturnValue:
    return _error_page(
        403,
        gettext(
            "This form has expired or was sent from another site. "
            "Go back, reload the page and try again."
        ),
    )


def _server_error(_exc: InternalServerError) -> ResponseReturnValue:
    return _error_page(500)


def initials(name: str | None) -> str:
    """Avatar letters: the last two characters of a Chinese name (as DingTalk and Feishu show
    张伟 as 张伟, 欧阳娜娜 as 娜娜), else the first letters of the first and last word."""
    name = (name or "").strip()
    if not name:
        return "?"
    if any("\u3400" <= ch <= "\u9fff" for ch in name):
        compact = name.replace(" ", "")
        return compact[-2:]
    words = ["".join(c for c in w if c.isalnum()) for w in name.replace("-", " ").split()]
    words = [w for w in words if w]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def _context() -> dict[str, Any]:
    return {"identity": current_identity(), "shell_apps": shell_apps}


def shell_apps() -> list[dict[str, Any]]:
    """The apps the signed-in user may open, for the top bar's app switcher."""
    found: list[dict[str, Any]] = g.get("_shell_apps") or []
    return found


def _load_shell_apps() -> None:
    """Read the switcher's apps before the view runs: a view may hold SQLite's one write lock
    while its template renders, so a second connection then would wait for it.  Only for
    pages (a script's JSON request or a static file draws no top bar)."""
    if request.endpoint in (None, "static") or is_api_request():
        return  # the API authenticates inside its own transaction (api.records.transaction)
    accepted = request.accept_mimetypes
    if accepted and accepted.best_match(["text/html", "application/json"]) != "text/html":
        return
    identity = current_identity()
    if identity is None:
        return
    from tessera.platform.pages.context import published_apps

    with current_platform().db.engine.connect() as conn:
        g._shell_apps = published_apps(conn, identity)


def init_app(app: Flask, *, https: bool, redis_url: str) -> None:
    security.init_app(app, https=https)
    ratelimit.init_app(app, redis_url)
    app.register_blueprint(blueprint)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.context_processor(_context)
    app.before_request(_load_shell_apps)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["initials"] = initials
    app.jinja_env.globals.update(static_url=static_url)
