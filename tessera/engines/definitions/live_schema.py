"""Plan and apply the schema change that publishing an app version needs.

:func:`plan` builds the new version's tables (:func:`~.tables.build_metadata`), lets Alembic
compare them with the live database (``produce_migrations``, limited to this app's tables) and
turns every operation into a :class:`Step` with a sentence in words.  Knowing the old model,
it tells a type change that converts (integer → decimal, text → long text, select → multi
select …) from one that can lose information, and a dropped field from a renamed label (which
needs no DDL at all).

:func:`apply` runs the steps in the caller's transaction with Alembic's ``Operations`` (inside
``batch_alter_table`` on SQLite).  Destructive steps are refused unless confirmed, and even then
nothing is dropped: a dropped field's column is renamed to ``_trash_<column>_<tag>`` and a
dropped entity's table to ``xt_<tag>_<app>__<entity>``, so the data stays recoverable until
:func:`purge`.  Re-adding a field whose column is in the trash (a rollback) renames it back.

SQLite cannot ALTER most things; Alembic's batch mode rebuilds the table, which drops the old
one — and with foreign keys enforced, dropping a table other tables reference fails.  SQLite's
documented procedure is to switch enforcement off for the transaction and run
``PRAGMA foreign_key_check`` before committing, which :func:`schema_transaction` does.  DDL is
transactional on both databases, so a failed apply leaves the old schema and data untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.operations import ops as alembic_ops

from tessera.engines.definitions import naming
from tessera.engines.definitions.diff import diff
from tessera.engines.definitions.fields import InvalidValue
from tessera.engines.definitions.model import AppModel, EntityModel, FieldModel
from tessera.engines.definitions.tables import PlatformTables, build_metadata
from tessera.engines.definitions.wording import type_key
from tessera.engines.messages import Phrase, _l, render, sentences

#: conversions that keep every value (old type, new type); the data is converted by an UPDATE
LOSSLESS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("integer", "decimal"): lambda v: v,
    ("integer", "currency"): lambda v: v,
    ("integer", "percent"): lambda v: v,
    ("decimal", "currency"): lambda v: v,
    ("currency", "decimal"): lambda v: v,
    ("rating", "integer"): lambda v: v,
    ("duration", "integer"): lambda v: v,
    ("text", "long_text"): lambda v: v,
    ("email", "text"): lambda v: v,
    ("phone", "text"): lambda v: v,
    ("url", "text"): lambda v: v,
    ("email", "long_text"): lambda v: v,
    ("url", "long_text"): lambda v: v,
    ("select", "text"): lambda v: v,
    ("select", "long_text"): lambda v: v,
    ("select", "multi_select"): lambda v: [v],
    ("date", "datetime"): lambda v: dt.datetime.combine(v, dt.time(), dt.UTC),
}

# Steps run in phases so that, e.g., an index is dropped before its column moves aside.
_PHASES = (
    "note",
    "drop_index",
    "drop_constraint",
    "trash_table",
    "create_table",
    "add_column",
    "restore_column",
    "convert",
    "trash_column",
    "create_index",
    "add_constraint",
)


class DestructiveChangeRefused(RuntimeError):
    """The plan has destructive steps and ``confirm_destructive`` was not given.

    ``str()`` lists the steps in English, one a line; ``template`` and ``params`` say the same
    in one sentence for the platform to show in the reader's language."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.template = _l("these changes can lose data and need confirmation: %(steps)s")
        self.params: dict[str, Any] = {"steps": sentences([s.phrase for s in steps])}
        lines = "\n".join(f"  - {s.description}" for s in steps)
        super().__init__(f"these changes can lose data and need confirmation:\n{lines}")


class PlanError(RuntimeError):
    """The change cannot be planned (the message says why and what to do): ``str()`` is the
    English sentence, ``template`` and ``params`` let the platform say it in the reader's
    language."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params: dict[str, Any] = params
        super().__init__(render(template, params))


@dataclass(frozen=True)
class Step:
    """One change: what it does in words, whether it can lose data, and how to run it.

    ``phrase`` is the sentence in no language yet (the platform shows it in the reader's);
    ``description`` is its English."""

    kind: str
    phrase: Phrase = field(hash=False)
    table: str | None = None
    destructive: bool = False
    ops: tuple[alembic_ops.MigrateOperation, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def description(self) -> str:
        return str(self.phrase)


@dataclass(frozen=True)
class SchemaPlan:
    app: str
    steps: tuple[Step, ...]
    metadata: sa.MetaData
    tag: str

    @property
    def destructive(self) -> bool:
        return any(step.destructive for step in self.steps)

    @property
    def is_empty(self) -> bool:
        return all(step.kind == "note" for step in self.steps)

    def describe(self) -> list[str]:
        """The plan in English, one line per step; destructive steps are marked (each step's
        ``phrase`` says the same in any language)."""
        return [("⚠ " if s.destructive else "") + s.description for s in self.steps]


# -- planning ------------------------------------------------------------------------------


def plan(
    conn: sa.Connection,
    old: AppModel | None,
    new: AppModel,
    platform: PlatformTables,
    *,
    tag: str | None = None,
) -> SchemaPlan:
    """The steps that take the live database from ``old`` (None: nothing yet) to ``new``.

    ``tag`` names what a confirmed drop moves aside (the platform passes ``v<version>``); by
    default a UTC timestamp.  Reads the database (reflection) but changes nothing.
    """
    if old is not None and old.key != new.key:
        raise PlanError(
            _l("the app key cannot change (from “%(old)s” to “%(new)s”)"), old=old.key, new=new.key
        )
    tag = tag or dt.datetime.now(dt.UTC).strftime("t%Y%m%d%H%M%S")
    metadata = build_metadata(new, platform)
    context = _context(conn, new.key, metadata)
    script = produce_migrations(context, metadata)
    planner = _Planner(conn, context, old, new, metadata, tag)
    assert script.upgrade_ops is not None
    for op in script.upgrade_ops.ops:
        planner.top_level(op)
    if old is not None:
        changes = diff(old.to_doc(), new.to_doc())
        planner.steps += [
            Step("note", Phrase(_l("%(change)s (no table change)"), change=c.phrase))
            for c in changes
            if not c.structural
        ]
    steps = sorted(planner.steps, key=lambda s: _PHASES.index(s.kind))
    return SchemaPlan(new.key, tuple(steps), metadata, tag)


def _context(conn: sa.Connection, app: str, metadata: sa.MetaData) -> MigrationContext:
    def include_name(name: str | None, type_: str, parent: Any) -> bool:
        return type_ != "table" or (name is not None and naming.owns_table(name, app))

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        if type_ == "column" and name is not None and name.startswith("_trash_"):
            return False
        if type_ == "index" and name is not None and name.startswith(naming.SEARCH_PREFIX):
            return False  # search indexes belong to the records service (forms/search.py)
        if type_ in ("index", "unique_constraint", "foreign_key_constraint") and any(
            c.name.startswith("_trash_") for c in getattr(obj, "columns", ())
        ):
            return False
        return type_ != "table" or (name is not None and naming.owns_table(name, app))

    return MigrationContext.configure(
        conn,
        opts={
            "target_metadata": metadata,
            "include_name": include_name,
            "include_object": include_object,
            "compare_type": True,
        },
    )


class _Planner:
    def __init__(
        self,
        conn: sa.Connection,
        context: MigrationContext,
        old: AppModel | None,
        new: AppModel,
        metadata: sa.MetaData,
        tag: str,
    ) -> None:
        self.conn, self.context, self.old, self.new = conn, context, old, new
        self.metadata, self.tag = metadata, tag
        self.inspector = sa.inspect(conn)
        self.steps: list[Step] = []

    # naming things for people
    def entity_of(self, table: str, model: AppModel | None) -> EntityModel | None:
        for entity in model.entities if model else ():
            if entity.table == table:
                return entity
        return None

    def field_of(self, table: str, column: str, model: AppModel | None) -> FieldModel | None:
        entity = self.entity_of(table, model)
        for f in entity.fields if entity else ():
            if column in f.columns:
                return f
        return None

    def what_table(self, table: str) -> Phrase:
        entity = self.entity_of(table, self.new) or self.entity_of(table, self.old)
        if entity is not None:
            return Phrase(_l("entity “%(entity)s” (%(table)s)"), entity=entity.named(), table=table)
        if table == naming.counter_table(self.new.key):
            return Phrase(_l("auto-number counters (%(table)s)"), table=table)
        return Phrase(_l("link table %(table)s"), table=table)

    def what_column(self, table: str, column: str) -> Phrase:
        f = self.field_of(table, column, self.new) or self.field_of(table, column, self.old)
        entity = self.entity_of(table, self.new) or self.entity_of(table, self.old)
        if f is not None and entity is not None:
            return Phrase(
                _l("field “%(field)s” of “%(entity)s”"), field=f.named(), entity=entity.named()
            )
        if f is not None:
            return Phrase(_l("field “%(field)s” of %(table)s"), field=f.named(), table=table)
        if entity is not None:
            return Phrase(
                _l("column %(column)s of “%(entity)s”"), column=column, entity=entity.named()
            )
        return Phrase(_l("column %(column)s of %(table)s"), column=column, table=table)

    # operations from Alembic
    def top_level(self, op: alembic_ops.MigrateOperation) -> None:
        if isinstance(op, alembic_ops.CreateTableOp):
            self.create_table(op)
        elif isinstance(op, alembic_ops.DropTableOp):
            self.trash_table(op)
        elif isinstance(op, alembic_ops.ModifyTableOps):
            for inner in op.ops:
                self.table_op(op.table_name, inner)
        else:
            self.table_op(getattr(op, "table_name", None), op)

    def create_table(self, op: alembic_ops.CreateTableOp) -> None:
        trashed = [
            t
            for t in self.inspector.get_table_names()
            if naming.is_trash_table(t, self.new.key) and t.endswith(op.table_name[2:])
        ]
        if trashed:
            raise PlanError(
                _l(
                    "the %(what)s was dropped earlier and its data is kept in %(trash)s; purge "
                    "the app's trash before creating it again"
                ),
                what=self.what_table(op.table_name),
                trash=trashed[0],
            )
        self.steps.append(
            Step(
                "create_table",
                Phrase(
                    _l("Create the table for the %(what)s"), what=self.what_table(op.table_name)
                ),
                op.table_name,
                ops=(op,),
            )
        )
        if not self.conn.dialect.supports_alter:
            return  # SQLite: keys that close a cycle stay inline in CREATE TABLE
        for constraint in self.metadata.tables[op.table_name].foreign_key_constraints:
            if constraint.use_alter:  # closes a cycle: added once every table exists
                self.steps.append(
                    Step(
                        "add_constraint",
                        Phrase(
                            _l(
                                "Add the link %(link)s from %(table)s to %(target)s "
                                "(after both tables exist)"
                            ),
                            link=str(constraint.name),
                            table=op.table_name,
                            target=constraint.referred_table.name,
                        ),
                        op.table_name,
                        ops=(alembic_ops.CreateForeignKeyOp.from_constraint(constraint),),
                    )
                )

    def trash_table(self, op: alembic_ops.DropTableOp) -> None:
        aside = naming.trash_table(op.table_name, self.tag)
        description = Phrase(
            _l("Drop the %(what)s: its rows are moved aside to %(aside)s and kept until purged"),
            what=self.what_table(op.table_name),
            aside=aside,
        )
        rename = alembic_ops.RenameTableOp(op.table_name, aside)
        self.steps.append(Step("trash_table", description, op.table_name, True, (rename,)))

    def table_op(self, table: str | None, op: alembic_ops.MigrateOperation) -> None:
        table = table or ""
        if isinstance(op, alembic_ops.AddColumnOp):
            self.add_column(table, op)
        elif isinstance(op, alembic_ops.DropColumnOp):
            aside = naming.trash_column(op.column_name, self.tag)
            description = Phrase(
                _l("Drop the %(what)s: its values are kept in the column %(aside)s until purged"),
                what=self.what_column(table, op.column_name),
                aside=aside,
            )
            rename = alembic_ops.AlterColumnOp(table, op.column_name, modify_name=aside)
            self.steps.append(Step("trash_column", description, table, True, (rename,)))
        elif isinstance(op, alembic_ops.AlterColumnOp) and op.modify_type is not None:
            self.convert(table, op)
        elif isinstance(op, alembic_ops.CreateIndexOp):
            said = Phrase(
                _l("Add the index %(index)s on %(table)s"), index=op.index_name, table=table
            )
            self.steps.append(Step("create_index", said, table, ops=(op,)))
        elif isinstance(op, alembic_ops.DropIndexOp):
            said = Phrase(
                _l("Remove the index %(index)s from %(table)s"), index=op.index_name, table=table
            )
            self.steps.append(Step("drop_index", said, table, ops=(op,)))
        elif isinstance(op, alembic_ops.CreateForeignKeyOp | alembic_ops.AddConstraintOp):
            self.steps.append(
                Step(
                    "add_constraint",
                    Phrase(
                        _l("Add the constraint %(constraint)s on %(table)s"),
                        constraint=str(getattr(op, "constraint_name", "")),
                        table=table,
                    ),
                    table,
                    ops=(op,),
                )
            )
        elif isinstance(op, alembic_ops.DropConstraintOp):
            self.steps.append(
                Step(
                    "drop_constraint",
                    Phrase(
                        _l("Remove the constraint %(constraint)s from %(table)s"),
                        constraint=str(op.constraint_name),
                        table=table,
                    ),
                    table,
                    ops=(op,),
                )
            )
        else:
            said = Phrase(
                _l("Adjust %(table)s: %(operation)s"), table=table, operation=type(op).__name__
            )
            self.steps.append(Step("add_column", said, table, ops=(op,)))

    def add_column(self, table: str, op: alembic_ops.AddColumnOp) -> None:
        column = op.column
        trash = self.trash_for(table, column)
        if trash is not None:
            description = Phrase(
                _l("Restore the %(what)s from %(trash)s, with its values"),
                what=self.what_column(table, column.name),
                trash=trash,
            )
            rename = alembic_ops.AlterColumnOp(table, trash, modify_name=column.name)
            self.steps.append(Step("restore_column", description, table, ops=(rename,)))
            return
        said = Phrase(_l("Add the %(what)s"), what=self.what_column(table, column.name))
        self.steps.append(Step("add_column", said, table, ops=(op,)))

    def trash_for(self, table: str, column: sa.Column[Any]) -> str | None:
        """The newest trashed column that held this column's values with the same type."""
        prefix = f"_trash_{column.name}_"
        candidates = [c for c in self.inspector.get_columns(table) if c["name"].startswith(prefix)]
        for reflected in sorted(candidates, key=lambda c: c["name"], reverse=True):
            probe = sa.Column(reflected["name"], reflected["type"])
            if not self.context.impl.compare_type(probe, column):
                return str(reflected["name"])
        return None

    def convert(self, table: str, op: alembic_ops.AlterColumnOp) -> None:
        new_field = self.field_of(table, op.column_name, self.new)
        old_field = self.field_of(table, op.column_name, self.old)
        if (
            new_field is None
            or old_field is None
            or len(new_field.columns) != 1
            or len(old_field.columns) != 1
        ):
            raise PlanError(
                _l(
                    "cannot change the type of %(table)s.%(column)s: it is not a field both "
                    "versions store in one column"
                ),
                table=table,
                column=op.column_name,
            )
        lossless = _is_lossless(old_field, new_field)
        aside = naming.trash_column(op.column_name, self.tag)
        description = Phrase(
            _CONVERT[lossless, old_field.type != new_field.type],
            what=self.what_column(table, op.column_name),
            old=type_key(old_field.type),
            new=type_key(new_field.type),
            aside=aside,
        )
        column = self.metadata.tables[table].c[op.column_name]
        self.steps.append(
            Step(
                "convert",
                description,
                table,
                not lossless,
                detail={
                    "column": column,
                    "old": old_field,
                    "new": new_field,
                    "aside": aside,
                    "lossless": lossless,
                },
            )
        )


#: how a conversion is said, by (every value is kept, the type changes)
_CONVERT = {
    (True, True): _l(
        "Convert the %(what)s from %(old)s to %(new)s; every value is kept "
        "(old column kept as %(aside)s)"
    ),
    (True, False): _l(
        "Convert the %(what)s from its settings; every value is kept (old column kept as %(aside)s)"
    ),
    (False, True): _l(
        "Convert the %(what)s from %(old)s to %(new)s: values that do not fit become empty; "
        "the old values are kept in the column %(aside)s until purged"
    ),
    (False, False): _l(
        "Convert the %(what)s from its settings: values that do not fit become empty; the old "
        "values are kept in the column %(aside)s until purged"
    ),
}


def _is_lossless(old: FieldModel, new: FieldModel) -> bool:
    if (old.type, new.type) in LOSSLESS:
        return True
    if old.type != new.type:
        return False
    if old.type == "text":
        return int(new.spec.get("max_length", 255)) >= int(old.spec.get("max_length", 255))
    if old.type in ("decimal", "currency", "percent"):
        kind: Any = old.kind
        (op, os_), (np, ns) = kind.precision_scale(old.spec), kind.precision_scale(new.spec)
        return bool(ns >= os_ and np - ns >= op - os_)
    return False


# -- applying ------------------------------------------------------------------------------


@contextmanager
def schema_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction fit for :func:`apply` and :func:`purge`.

    On SQLite, foreign-key enforcement is switched off for the transaction (it cannot be changed
    inside one) and ``PRAGMA foreign_key_check`` must find nothing before the commit; on
    PostgreSQL this is an ordinary transaction.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(
                            f"the change would break {len(broken)} link(s): {broken[:5]}"
                        )
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def apply(
    conn: sa.Connection, schema_plan: SchemaPlan, *, confirm_destructive: bool = False
) -> None:
    """Run ``schema_plan`` in the caller's transaction (on SQLite: a :func:`schema_transaction`).

    Raises :class:`DestructiveChangeRefused` before touching anything when the plan can lose
    data and ``confirm_destructive`` is false.
    """
    risky = [step for step in schema_plan.steps if step.destructive]
    if risky and not confirm_destructive:
        raise DestructiveChangeRefused(risky)
    sqlite = conn.dialect.name == "sqlite"
    if sqlite and conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "on SQLite, apply() must run inside schema_transaction() so tables can be rebuilt"
        )
    operations = Operations(MigrationContext.configure(conn))
    for step in schema_plan.steps:
        if step.kind == "convert":
            _convert(conn, operations, step)
        else:
            _invoke(operations, step.table, step.ops, batch=sqlite and step.kind not in _TOP_LEVEL)


_TOP_LEVEL = ("create_table", "trash_table", "note", "create_index", "drop_index")


def _invoke(
    operations: Operations,
    table: str | None,
    ops: tuple[alembic_ops.MigrateOperation, ...],
    batch: bool,
) -> None:
    if not ops:
        return
    if not batch:
        for op in ops:
            operations.invoke(op)
        return
    with operations.batch_alter_table(str(table), recreate="auto") as batch_ops:
        for op in ops:
            batch_ops.invoke(op)


def _convert(conn: sa.Connection, operations: Operations, step: Step) -> None:
    """Move the old column aside, add the new one, and UPDATE each row with its converted value.

    Indexes on the old column are dropped first and rebuilt on the new one, since the moved
    column would otherwise keep their names.
    """
    column: sa.Column[Any] = step.detail["column"]
    old: FieldModel = step.detail["old"]
    new: FieldModel = step.detail["new"]
    table, name, aside = str(step.table), column.name, step.detail["aside"]
    sqlite = conn.dialect.name == "sqlite"
    indexes = [ix for ix in sa.inspect(conn).get_indexes(table) if name in ix["column_names"]]
    for index in indexes:
        operations.drop_index(str(index["name"]), table_name=table)
    _invoke(
        operations,
        table,
        (alembic_ops.AlterColumnOp(table, name, modify_name=aside),),
        batch=sqlite,
    )
    fresh = sa.Column(name, column.type, nullable=True)
    _invoke(operations, table, (alembic_ops.AddColumnOp(table, fresh),), batch=sqlite)
    convert = _converter(old, new, bool(step.detail["lossless"]))
    source = sa.table(table, sa.column("id"), sa.column(aside, old.kind.sql_type(old.spec)))
    target = sa.table(table, sa.column("id"), sa.column(name, column.type))
    rows = conn.execute(
        sa.select(source.c.id, source.c[aside]).where(source.c[aside].is_not(None))
    ).all()
    updates = [{"row_id": row_id, "value": convert(value)} for row_id, value in rows]
    if updates:
        statement = (
            target.update()
            .where(target.c.id == sa.bindparam("row_id"))
            .values({name: sa.bindparam("value")})
        )
        conn.execute(statement, updates)
    for wanted in column.table.indexes:
        if name in [c.name for c in wanted.columns]:
            operations.create_index(
                str(wanted.name), table, [c.name for c in wanted.columns], unique=wanted.unique
            )


def _converter(old: FieldModel, new: FieldModel, lossless: bool) -> Callable[[Any], Any]:
    direct = LOSSLESS.get((old.type, new.type), lambda v: v)

    def convert(value: Any) -> Any:
        value = old.kind.from_columns(old.spec, {old.columns[0]: value})
        try:
            if lossless:
                return new.kind.validate(new.spec, direct(value))
            return new.kind.from_import(new.spec, old.kind.to_export(old.spec, value))
        except (InvalidValue, ValueError, TypeError):
            return None

    return convert


def purge(conn: sa.Connection, app: str) -> list[str]:
    """Drop what confirmed drops moved aside for ``app``; returns the names removed.

    This is the only function here that destroys data.  On SQLite run it in a
    :func:`schema_transaction`.
    """
    inspector = sa.inspect(conn)
    operations = Operations(MigrationContext.configure(conn))
    sqlite = conn.dialect.name == "sqlite"
    removed: list[str] = []
    tables = inspector.get_table_names()
    doomed = {t for t in tables if naming.is_trash_table(t, app)}
    if not sqlite:  # keys into dropped tables go first, so no order between tables is needed
        for table in tables:
            if not (table in doomed or naming.owns_table(table, app)):
                continue
            for fk in inspector.get_foreign_keys(table):
                referred = fk["referred_table"]
                if fk["name"] and referred in doomed and referred != table:
                    operations.drop_constraint(str(fk["name"]), table, type_="foreignkey")
    for table in tables:
        if table in doomed:
            operations.drop_table(table)
            removed.append(table)
        elif naming.owns_table(table, app):
            trash = [
                c["name"] for c in inspector.get_columns(table) if c["name"].startswith("_trash_")
            ]
            if not trash:
                continue
            for index in inspector.get_indexes(table):
                if set(index["column_names"]) & set(trash):
                    operations.drop_index(str(index["name"]), table_name=table)
            drops = tuple(alembic_ops.DropColumnOp(table, c) for c in trash)
            _invoke(operations, table, drops, batch=sqlite)
            removed += [f"{table}.{c}" for c in trash]
    return removed
