"""Dragging with real mouse movements, for the pages that take drag and drop (the builder's
palette and canvas, the board's columns, the calendar's days).

Playwright's ``drag_to`` moves the pointer in one jump; on a busy machine SortableJS's
animation, or the browser's drag start, can still be settling when the pointer arrives, and
the drop then lands where it started.  These moves are small steps, as a hand makes them.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page


def drag(
    page: Page, source: Locator, target: Locator, *, to: str = "center", into: bool = False
) -> None:
    """Drag with real mouse movements (SortableJS, in its pointer-driven fallback mode as in
    the builder or with the browser's own drag and drop as on the board).

    A drop at the bottom of a list waits, before releasing, until SortableJS has put its
    placeholder last; with ``into`` (``target`` is the list the item must land in, such as a
    board column) until the placeholder is in that list.  On a busy machine a list's own
    animation can still be moving things under the pointer when it arrives (a column the item
    passed over grows and pushes the next one away), and a release then lands elsewhere.
    """
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 8, box["y"] + box["height"] / 2 + 8, steps=4)
    target.scroll_into_view_if_needed()
    x, y = _point(target, to)
    page.mouse.move(x - 20, y - 10, steps=15)
    page.mouse.move(x, y, steps=5)
    page.mouse.move(x + 1, y + 1, steps=2)
    if to == "bottom" or into:
        last = "!g.nextElementSibling" if to == "bottom" else "true"
        for nudge in range(20):
            if target.evaluate(
                "el => { const g = el.querySelector("
                "':scope > .drag-ghost, :scope > .sortable-ghost');"
                f" return Boolean(g) && {last}; }}"
            ):
                break
            x, y = _point(target, to)
            page.mouse.move(x + nudge % 2, y + 1, steps=2)
    page.mouse.up()


def _point(target: Locator, to: str) -> tuple[float, float]:
    tbox = target.bounding_box()
    assert tbox is not None
    return {
        "top": (tbox["x"] + 10, tbox["y"] + 6),
        "center": (tbox["x"] + tbox["width"] / 2, tbox["y"] + tbox["height"] / 2),
        "end": (tbox["x"] + tbox["width"] - 6, tbox["y"] + tbox["height"] - 6),
        "bottom": (tbox["x"] + tbox["width"] / 2, tbox["y"] + tbox["height"] - 8),
    }[to]
