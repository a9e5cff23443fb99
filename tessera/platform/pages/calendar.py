"""The calendar: a month of records placed on the days of a date (or date-time) field.

The grid runs from the week containing the 1st to the week containing the last day, weeks
starting on the locale's first day (Monday for zh-CN, Sunday for en).  Date-times are placed on
the day they fall on in the user's time zone.  On a phone the grid becomes a list of days.
An event dragged to another day is rescheduled by the board's move (``/_/move``): one update
of the date field through the records service.
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from tessera.engines.definitions.fields.base import babel_locale
from tessera.engines.forms import ListQuery
from tessera.platform.identity.current import login_required
from tessera.platform.pages.blueprint import blueprint
from tessera.platform.pages.context import open_app
from tessera.platform.pages.nav import entity_url, frame
from tessera.platform.pages.titles import title_of

MAX_EVENTS = 500


def month_of(text: str | None, today: dt.date) -> dt.date:
    try:
        year, month = (int(p) for p in (text or "").split("-", 1))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


@blueprint.get("/<app_key>/<entity_key>/calendar")
@login_required
def calendar_page(app_key: str, entity_key: str) -> ResponseReturnValue:
    with open_app(app_key) as runtime:
        entity = runtime.entity(entity_key)
        view = runtime.view(entity.key, request.args.get("view"), "calendar")
        dated = [f.key for f in entity.fields if f.type in ("date", "datetime")]
        wanted = request.args.get("field") or (view or {}).get("date_field")
        if not dated:
            abort(404)
        key = wanted if wanted in dated else dated[0]
        f = entity.field(key)
        tz = ZoneInfo(runtime.identity.time_zone or "UTC")
        today = dt.datetime.now(tz).date()
        first = month_of(request.args.get("month"), today)
        last = first.replace(day=cal.monthrange(first.year, first.month)[1])
        locale = babel_locale(runtime.locale)
        week_start = locale.first_week_day  # 0 = Monday
        start = first - dt.timedelta(days=(first.weekday() - week_start) % 7)
        end = last + dt.timedelta(days=(week_start + 6 - last.weekday()) % 7)
        if f.type == "date":
            bounds: list[Any] = [start.isoformat(), end.isoformat()]
        else:
            low = dt.datetime.combine(start, dt.time(), tz).astimezone(dt.UTC)
            high = dt.datetime.combine(end, dt.time(23, 59, 59), tz).astimezone(dt.UTC)
            bounds = [low.isoformat(), high.isoformat()]
        leaves = [dict(x) for x in (view or {}).get("filters", ())]
        leaves.append({"field": key, "op": "between", "value": bounds})
        fields = list(dict.fromkeys([*([entity.title] if entity.title else []), key]))
        page = runtime.service.list(
            entity.key,
            ListQuery(filter={"and": leaves}, where=(view or {}).get("where"), fields=fields,
                      sort=[(key, "asc"), ("id", "asc")], limit=MAX_EVENTS),
        )  # fmt: skip
        by_day: dict[dt.date, list[dict[str, Any]]] = {}
        for record in page.records:
            value = record.get(key)
            if not isinstance(value, dt.date):
                continue
            day = value.astimezone(tz).date() if isinstance(value, dt.datetime) else value
            time = babel_dates.format_time(value, "short", tzinfo=tz, locale=locale) if isinstance(
                value, dt.datetime) else ""  # fmt: skip
            by_day.setdefault(day, []).append({
                "id": record["id"], "title": title_of(runtime, entity, record), "time": time,
                "url": entity_url(app_key, entity.key, str(record["id"])),
                "version": record["version"],
                "edit_url": entity_url(app_key, entity.key, f"{record['id']}/edit"),
            })  # fmt: skip
        weeks = []
        day = start
        while day <= end:
            weeks.append([
                {"date": d, "in_month": d.month == first.month, "today": d == today,
                 "events": by_day.get(d, []),
                 "label": babel_dates.format_date(d, "full", locale=locale)}
                for d in (day + dt.timedelta(days=i) for i in range(7))
            ])  # fmt: skip
            day += dt.timedelta(days=7)
        weekdays = [
            babel_dates.get_day_names("abbreviated", locale=locale)[(week_start + i) % 7]
            for i in range(7)
        ]
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        following = last + dt.timedelta(days=1)
        params = {"view": request.args.get("view"), "field": request.args.get("field")}

        def month_url(day: dt.date) -> str:
            return entity_url(
                app_key, entity.key, "calendar", month=day.strftime("%Y-%m"), **params
            )

        context = {
            **frame(runtime, entity, "calendar"),
            "runtime": runtime, "weeks": weeks, "weekdays": weekdays, "date_field": f,
            "month_label": babel_dates.format_skeleton("yMMMM", first, locale=locale),
            "prev_url": month_url(previous), "next_url": month_url(following),
            "today_url": entity_url(app_key, entity.key, "calendar", **params),
            "dated_fields": [entity.field(k) for k in dated],
            "truncated": page.next_cursor is not None,
            "new_url": entity_url(app_key, entity.key, "new"),
            "event_count": len(page.records),
            "move_url": entity_url(app_key, entity.key, "_/move"),
        }  # fmt: skip
        return render_template("pages/calendar.html", **context)
