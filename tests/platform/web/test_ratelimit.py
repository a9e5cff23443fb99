"""Rate limits: the extension's hooks run only for the blueprints whose views carry limits."""

from __future__ import annotations

from flask import Flask
from flask_limiter.util import get_qualified_name

from tessera.platform.web.ratelimit import LIMITED_BLUEPRINTS, limiter


def test_every_view_with_a_limit_is_in_a_limited_blueprint(app: Flask) -> None:
    """A limit on a view outside LIMITED_BLUEPRINTS would never have ``deduct_when`` applied."""
    with app.app_context():
        limited = [
            endpoint
            for endpoint, view in app.view_functions.items()
            if limiter.limit_manager.decorated_limits(get_qualified_name(view))
        ]
    assert "auth.sign_in" in limited  # the check sees limits at all
    assert all(endpoint.split(".")[0] in LIMITED_BLUEPRINTS for endpoint in limited), limited


def test_the_hooks_run_for_limited_blueprints_only(app: Flask) -> None:
    def names(hooks: dict[str | None, list[object]], key: str | None) -> list[object]:
        return [h for h in hooks.get(key, []) if "limiter" in repr(h).lower()]

    assert names(app.after_request_funcs, None) == []
    assert names(app.teardown_request_funcs, None) == []
    for blueprint in LIMITED_BLUEPRINTS:
        assert len(names(app.after_request_funcs, blueprint)) == 1
        assert len(names(app.teardown_request_funcs, blueprint)) == 1
