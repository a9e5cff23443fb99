"""The pages people use to run apps: lists, kanban boards, calendars, record pages and forms.

Server-rendered with Jinja2 (templates in ``templates/pages``) and progressively enhanced by
our own ES modules in ``static/js/runtime``.  Every read and write goes through the records
service of :mod:`tessera.platform.records`; see ``docs/architecture.md`` ("Runtime pages").
"""

from __future__ import annotations

from typing import Any

import nh3
from flask import Flask
from markupsafe import Markup

from tessera.platform import files
from tessera.platform.pages import (
    board,
    calendar,
    detail,
    forms,
    helpers,
    icons,
    lists,
    nav,
    saved,
    shares,
    trash,
)
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.widgets import (
    display_html,
    display_of,
    input_of,
    input_value,
    label_of,
    option_tone,
    options,
    table_rows,
    text,
)

__all__ = ["blueprint", "init_app"]
# importing the modules registers their routes
_MODULES = (board, calendar, detail, forms, helpers, lists, nav, saved, shares, trash)


def safe_html(value: str | None) -> Markup:
    """Rich text for display: cleaned again with nh3 (it was cleaned on the way in too)."""
    return Markup(nh3.clean(value or ""))  # noqa: S704 - nh3 is the sanitiser


def _flabel(f: Any) -> str:
    from tessera.platform import i18n

    return label_of(f, i18n.current_locale())


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.register_blueprint(files.blueprint)
    app.jinja_env.globals.update(
        field_input=input_of, field_display=display_of, field_text=text,
        field_input_value=input_value, field_options=options, option_tone=option_tone,
        safe_html=safe_html, flabel=_flabel, display_html=display_html,
        rt_icon=icons.svg, table_rows=table_rows,
    )  # fmt: skip
