"""Request rate limits (Flask-Limiter), counted in Redis so every web process shares them.

The per-IP sign-in limit counts failed attempts only (``deduct_when``), so an office behind one
NAT address is not locked out by colleagues who type their passwords right.  When Redis cannot
be reached the limiter falls back to process memory rather than refusing every request.

One :class:`Limiter` serves the process; :func:`init_app` points it at the app's Redis.
"""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app
from flask_limiter import Limiter

from tessera.platform.audit import client_ip

limiter = Limiter(key_func=lambda: client_ip() or "unknown", key_prefix="tessera-limits")

#: the blueprints whose views carry limits (``@limiter.limit``): only their requests run the
#: extension's after-request and teardown hooks (tested: a limit elsewhere fails a test)
LIMITED_BLUEPRINTS = ("auth",)

DEFAULTS = {
    # failed sign-ins from one address, across all accounts
    "TESSERA_SIGN_IN_IP_LIMIT": "30 per 15 minutes",
    # password-reset requests from one address
    "TESSERA_RESET_IP_LIMIT": "10 per hour",
}


def sign_in_ip_limit() -> str:
    return str(current_app.config["TESSERA_SIGN_IN_IP_LIMIT"])


def reset_ip_limit() -> str:
    return str(current_app.config["TESSERA_RESET_IP_LIMIT"])


def storage_uri(redis_url: str) -> str:
    """Flask-Limiter (the ``limits`` package) spells a Unix socket ``redis+unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def init_app(app: Flask, redis_url: str) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.update(
        RATELIMIT_STORAGE_URI=storage_uri(redis_url),
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 2, "socket_timeout": 2},
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_HEADERS_ENABLED=False,
    )
    limiter.init_app(app)
    # Tessera sets no default, application-wide or meta limits: every limit sits on the view it
    # guards (sign-in, password reset), and those views' decorators check it when they run.  The
    # extension's before_request pass would only look, on every request, for limits that do not
    # exist (a tenth of a millisecond of each API call), so it is taken out again.  Its
    # after-request hook (``deduct_when``, headers) and teardown run only for the blueprints
    # that have limits.  A global limit, if one is ever wanted, is a decorator on the blueprint
    # or these lines removed.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    after = [h for h in app.after_request_funcs[None] if _is_limiter_hook(h)]
    teardown = [h for h in app.teardown_request_funcs[None] if _is_limiter_hook(h)]
    assert len(after) == 1 and len(teardown) == 1, "Flask-Limiter registers one of each"
    app.after_request_funcs[None].remove(after[0])
    app.teardown_request_funcs[None].remove(teardown[0])
    for name in LIMITED_BLUEPRINTS:
        app.after_request_funcs.setdefault(name, []).append(after[0])
        app.teardown_request_funcs.setdefault(name, []).append(teardown[0])


def _is_limiter_hook(hook: object) -> bool:
    """The extension's hooks: a partial over the limiter, or a bound method of it."""
    if isinstance(hook, partial):
        return bool(hook.args) and hook.args[0] is limiter
    return getattr(hook, "__self__", None) is limiter
