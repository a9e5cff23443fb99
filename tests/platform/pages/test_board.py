"""Kanban moves are updates through the records service: validated, locked, audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tessera.platform.runtime import Platform
from tests.conftest import Web

from . import factories
from .factories import csrf_from

MOVE = "/apps/fieldtest/deal/_/move"


@pytest.fixture
def board(fieldtest: Platform, signed_in: Web) -> tuple[Web, str]:
    token = csrf_from(signed_in.client.get("/apps/fieldtest/deal/kanban").get_data(as_text=True))
    return signed_in, token


def move(board: tuple[Web, str], body: Any, token: str | None = None) -> Any:
    web, csrf = board
    return web.client.post(
        MOVE, json=body, headers={"X-CSRFToken": token if token is not None else csrf}
    )


def test_the_board_shows_a_column_per_option(fieldtest: Platform, page: Callable[..., Any]) -> None:
    factories.create(fieldtest, "deal", {"name": "On the board", "stage": "qualified"})
    status, html = page("/apps/fieldtest/deal/kanban")
    assert status == 200
    for column in (
        'data-column="new"',
        'data-column="qualified"',
        'data-column="won"',
        'data-column="lost"',
    ):
        assert column in html
    assert "On the board" in html


def test_a_move_is_saved_and_audited(fieldtest: Platform, board: tuple[Web, str]) -> None:
    deal = factories.create(fieldtest, "deal", {"name": "Mover", "amount": "10"})
    response = move(board, {"id": deal["id"], "field": "stage", "to": "won", "version": 1})
    assert response.status_code == 200 and response.json == {
        "id": deal["id"],
        "version": 2,
        "value": "won",
    }
    html = board[0].client.get(f"/apps/fieldtest/deal/{deal['id']}").get_data(as_text=True)
    assert "Stage" in html and "Won" in html


def test_a_refused_move_says_why_and_changes_nothing(
    fieldtest: Platform, board: tuple[Web, str]
) -> None:
    deal = factories.create(fieldtest, "deal", {"name": "No amount"})
    response = move(board, {"id": deal["id"], "field": "stage", "to": "won", "version": 1})
    assert response.status_code == 422 and response.json["error"] == "A won deal needs an amount"
    assert factories.get(fieldtest, "deal", deal["id"])["stage"] == "new"
    stale = move(board, {"id": deal["id"], "field": "stage", "to": "lost", "version": 0})
    assert stale.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"id": "1", "field": "stage", "to": "won", "version": 1},
        {"id": 1, "field": "name", "to": "x", "version": 1},
        {"id": 1, "field": "stage", "to": "nonsense", "version": 1},
        {"id": 999, "field": "stage", "to": "won", "version": 1},
        {"id": 1, "field": "stage'--", "to": "won", "version": 1},
    ],
)
def test_malformed_moves_are_refused(
    fieldtest: Platform, board: tuple[Web, str], body: Any
) -> None:
    factories.create(fieldtest, "deal", {"name": "Target"})
    response = move(board, body)
    assert response.status_code in (400, 404, 422)
    assert factories.get(fieldtest, "deal", 1)["version"] == 1


def test_a_move_without_the_csrf_token_is_refused(
    fieldtest: Platform, board: tuple[Web, str]
) -> None:
    factories.create(fieldtest, "deal", {"name": "Target", "amount": "1"})
    response = move(board, {"id": 1, "field": "stage", "to": "won", "version": 1}, token="")
    assert response.status_code in (400, 403)
    assert factories.get(fieldtest, "deal", 1)["stage"] == "new"
