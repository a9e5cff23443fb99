"""The runtime pages' blueprint: every page and JSON helper of a running app is under /apps."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("pages", __name__, url_prefix="/apps", template_folder="templates")
