"""Security headers and CSRF protection for every response and every cookie-authenticated write.

CSRF: Flask-WTF's :class:`CSRFProtect` checks every POST, PUT, PATCH and DELETE, except API
requests that authenticate with a Bearer token (a browser never adds that header on its own, so
a forged cross-site request cannot carry one).  A failed check answers 403 with a page that says
the form expired.

Headers: a Content-Security-Policy that allows scripts only from our own origin or with the
per-request nonce (no inline scripts, no ``eval``), no framing, no MIME sniffing, a strict
referrer policy, and HSTS when Tessera is served over HTTPS.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request
from flask_wtf.csrf import CSRFProtect

from tessera.platform.identity.current import bearer_token

csrf = CSRFProtect()

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def csp_nonce() -> str:
    """A fresh nonce per request, for the rare ``<script nonce=…>`` a page needs."""
    nonce: str | None = g.get("_csp_nonce")
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(16)
    return nonce


def _csrf_check() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    if bearer_token() is not None:
        return  # token-authenticated API call: no cookies involved
    csrf.protect()


def _content_security_policy() -> str:
    nonce = csp_nonce()
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            # the nonce lets a vetted library add its own default stylesheet (Trix does);
            # style attributes and other inline styles stay refused
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


#: the policy of a response that is not an HTML page (JSON, files, CSS): nothing in it may load
#: or run anything, should a browser ever render it as a document (an SVG opened directly)
_NOT_A_PAGE_POLICY = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

_FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)


def _headers(response: Response) -> Response:
    """Add each security header the view did not set itself (one pass over the headers: this
    runs on every response, API calls included)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    if "content-security-policy" not in present:
        page = response.mimetype == "text/html"
        headers.add(
            "Content-Security-Policy", _content_security_policy() if page else _NOT_A_PAGE_POLICY
        )
    for name, value in _FIXED_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if (request.is_secure or g.get("_tessera_https")) and (
        "strict-transport-security" not in present
    ):
        headers.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static" and "cache-control" not in present:
        # Pages show personal data: never keep them in shared or back-button caches.
        headers.add("Cache-Control", "no-store")
    return response


def init_app(app: Flask, https: bool) -> None:
    app.config.update(
        # We call protect() ourselves so Bearer API requests can be let through.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A token lives as long as the session it belongs to; sign-in starts a new one.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=True,
    )
    csrf.init_app(app)
    app.before_request(_csrf_check)

    if https:

        @app.before_request
        def _mark_https() -> None:
            g._tessera_https = True

    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
