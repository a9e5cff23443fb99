"""Write generated demo records through the records service's bulk path.

Demo data goes in the way every other bulk write does (imports, the API's bulk calls):
:meth:`RecordService.bulk_create` in batches of :data:`BATCH`, one transaction per batch, so
values are checked, defaults and auto numbers drawn, formula, rollup and lookup fields computed,
and each record gets its audit entry and outbox event.  Changes that can only be known once later
records exist (a converted lead's opportunity, an account's lifecycle stage) are
:meth:`RecordService.bulk_update` calls, as a rule would make them.

Three things the service does not offer, and what this module does about them:

* **History.** The service stamps ``created_at``/``created_by`` with its clock and actor; demo
  records are spread over two years and owned by the demo users.  After each batch one
  ``executemany`` UPDATE gives the rows their generated creation time and creator (child rows
  take their parent's).
* **Auto numbers by date.** Numbers are drawn from the service's clock.  A batch is split by the
  number pattern's period (year, month) of each row's creation date and the clock is set into
  that period, so a quote made in 2024 is ``QT-2024-…`` and counters end where the data ends.
* **Automation.** Demo records are written as the system (``via="system"``, no user): their audit
  entries say so.  Their outbox events are written with them and marked dispatched in the same
  transaction, so rules and journeys never fire for a million generated records.

The generator's ids name records only inside the generator; the ids the service gives back are
recorded for every entity that something links to, and links are translated on the way in.
Nothing is held beyond one generator chunk and those id maps.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import sqlalchemy as sa

from tessera.engines.definitions import EntityModel, period_key
from tessera.engines.forms import Actor, RecordService
from tessera.platform import apps
from tessera.platform.models import Event
from tessera.platform.records import service_for

#: records per bulk_create / bulk_update call, and per transaction
BATCH = 1000
#: the generator's system columns: history, written after the service (see the module docstring)
HISTORY = ("created_at", "updated_at", "created_by", "updated_by")
_NOT_VALUES = ("id", "owner_id", "parent_id", "sort_order", *HISTORY)

Row = dict[str, Any]


class ChunkLike(Protocol):
    """:class:`tessera.platform.demo.Chunk` (which imports this module)."""

    @property
    def entity(self) -> str: ...
    @property
    def rows(self) -> list[Row]: ...
    @property
    def update(self) -> bool: ...


class ServiceLoader:
    """Feed it the generator's chunks in order (:meth:`write`), then :meth:`finish`."""

    def __init__(self, engine: sa.Engine, app: str, *, now: dt.datetime) -> None:
        self.engine, self.app_key, self.now = engine, app, now
        self.actor = Actor(user_id=None, via="system", name="demo data", time_zone="UTC")
        with engine.connect() as conn:
            self.live = apps.published(conn, app)
        model = self.live.model
        #: parent entity -> (child_table field, child entity)
        self.children = {
            e.key: (f.key, str(f.target))
            for e in model.entities
            for f in e.fields
            if f.type == "child_table"
        }
        self.parent_of = {child: parent for parent, (_, child) in self.children.items()}
        self.linked = {str(f.target) for e in model.entities for f in e.fields if f.type == "link"}
        self.ids: dict[str, dict[int, int]] = {}  # entity -> generator id -> stored id
        self.held: ChunkLike | None = None  # a parent chunk waiting for its child rows
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._at = now

    # -- feeding ----------------------------------------------------------------------------
    def write(self, chunk: ChunkLike) -> None:
        parent = self.parent_of.get(chunk.entity)
        if parent is not None and not chunk.update:
            held, self.held = self.held, None
            if held is None or held.entity != parent:
                raise ValueError(f"rows of {chunk.entity} must follow their {parent} rows")
            self._create(held.entity, self._nest(parent, held.rows, chunk.rows))
            self._count(chunk.entity, len(chunk.rows), 0.0)
            return
        self._flush()
        if chunk.update:
            self._update(chunk.entity, chunk.rows)
        elif chunk.entity in self.children:
            self.held = chunk  # its child rows come in the next chunk
        else:
            self._create(chunk.entity, chunk.rows)

    def finish(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self.held is not None:
            held, self.held = self.held, None
            self._create(held.entity, held.rows)

    def _nest(self, parent: str, parents: list[Row], rows: list[Row]) -> list[Row]:
        """The parent rows with their child rows in their child-table field, in order."""
        key = self.children[parent][0]
        by_id = {row["id"]: {**row, key: []} for row in parents}
        for row in sorted(rows, key=lambda r: (r["parent_id"], r.get("sort_order", 0))):
            by_id[row["parent_id"]][key].append(row)
        return list(by_id.values())

    # -- writing ----------------------------------------------------------------------------
    def _service(self, conn: sa.Connection) -> RecordService:
        return service_for(conn, self.app_key, self.actor, clock=lambda: self._at)

    def _create(self, entity: str, rows: list[Row]) -> None:
        started = time.perf_counter()
        model = self.live.model.entity(entity)
        period = _period_of(model)
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            with self.engine.begin() as conn:
                service = self._service(conn)
                for group in _grouped(batch, period):
                    self._at = group[0]["created_at"] if period is not None else self.now
                    later: dict[int, Row] = {}  # links to records of this same group
                    values = [self._values(model, row, creating=True, later=later) for row in group]
                    ids = service.bulk_create(entity, values)
                    if entity in self.linked:
                        self.ids.setdefault(entity, {}).update(
                            zip((r["id"] for r in group), ids, strict=True)
                        )
                    if later:
                        service.bulk_update(
                            entity,
                            [
                                (self._id(entity, generated), self._links(model, links), None)
                                for generated, links in later.items()
                            ],
                        )
                    self._history(conn, model, group, ids)
                self._quiet(conn)
        self._count(entity, len(rows), time.perf_counter() - started)

    def _update(self, entity: str, rows: list[Row]) -> None:
        started = time.perf_counter()
        model = self.live.model.entity(entity)
        self._at = self.now
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            with self.engine.begin() as conn:
                items = [
                    (self._id(entity, row["id"]), self._values(model, row, creating=False), None)
                    for row in batch
                ]
                self._service(conn).bulk_update(entity, items)
                self._quiet(conn)
        self._count(f"{entity} (changes)", len(rows), time.perf_counter() - started)

    def _id(self, entity: str, generated: int) -> int:
        return self.ids[entity][generated]

    def _values(
        self,
        model: EntityModel,
        row: Mapping[str, Any],
        *,
        creating: bool,
        later: dict[int, Row] | None = None,
    ) -> Row:
        """A generated row as field values for the service: links translated to stored ids,
        computed fields left to the service, child rows likewise.  A link to a record not
        written yet (an account's parent in the same batch) goes to ``later``."""
        values: Row = {}
        for key, value in row.items():
            if key in _NOT_VALUES:
                continue
            f = model.field(key)
            if f.kind.computed:
                continue
            if f.type == "link" and value is not None:
                target = str(f.target)
                if later is not None and value not in self.ids.get(target, {}):
                    later.setdefault(row["id"], {})[key] = value
                    continue
                value = self._id(target, value)
            elif f.type == "child_table":
                child = self.live.model.entity(str(f.target))
                value = [self._values(child, r, creating=True) for r in value]
            values[key] = value
        if creating and not model.child:
            values["owner"] = row.get("owner_id")
        return values

    def _links(self, model: EntityModel, links: Row) -> Row:
        return {key: self._id(str(model.field(key).target), v) for key, v in links.items()}

    def _history(
        self, conn: sa.Connection, model: EntityModel, rows: list[Row], ids: list[int]
    ) -> None:
        """The generated creation time and creator, in place of the service's."""
        table = self.live.table(model.key)
        conn.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("_id"))
            .values({name: sa.bindparam(f"_{name}") for name in HISTORY}),
            [
                {"_id": i, **{f"_{name}": row[name] for name in HISTORY}}
                for row, i in zip(rows, ids, strict=True)
            ],
        )
        if model.key in self.children:  # child rows: their parent's
            child = self.live.table(self.children[model.key][1])
            conn.execute(
                sa.update(child)
                .where(child.c.parent_id.in_(ids))
                .values(
                    {
                        name: sa.select(table.c[name])
                        .where(table.c.id == child.c.parent_id)
                        .scalar_subquery()
                        for name in HISTORY
                    }
                )
            )

    def _quiet(self, conn: sa.Connection) -> None:
        """Mark the batch's outbox events dispatched: automation does not react to demo data."""
        conn.execute(
            sa.update(Event)
            .where(
                Event.dispatched_at.is_(None),
                Event.app == self.app_key,
                Event.via == "system",
                Event.actor_id.is_(None),
            )
            .values(dispatched_at=self.now)
        )

    def _count(self, name: str, rows: int, seconds: float) -> None:
        self.counts[name] = self.counts.get(name, 0) + rows
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


def _period_of(model: EntityModel) -> Callable[[dt.date], tuple[str, ...]] | None:
    """The periods of the entity's auto-number patterns for a creation date, or None."""
    patterns = [str(f.spec["pattern"]) for f in model.fields if f.type == "auto_number"]
    if not patterns:
        return None
    return lambda day: tuple(period_key(p, day) for p in patterns)


def _grouped(
    rows: list[Row], period: Callable[[dt.date], tuple[str, ...]] | None
) -> Iterable[list[Row]]:
    """``rows`` split by auto-number period of their creation date (order kept within)."""
    if period is None:
        return [rows]
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(period(row["created_at"].astimezone(dt.UTC).date()), []).append(row)
    return list(groups.values())
