"""The adapter from a compiled app to the expression language's view of it.

``tessera.engines.expressions.schema`` is the contract; this module is the only place that
knows both sides.  Every entity gets its system fields, and the platform's ``user`` and
``department`` entities are included so paths like ``owner.name`` type-check.  User and
department fields are values of their own kind (``owner = CURRENT_USER()`` compares a user with
a user), not links to records; the expression language still follows them to those entities.
"""

from __future__ import annotations

from tessera.engines.definitions import naming
from tessera.engines.definitions.model import AppModel, EntityModel, FieldModel
from tessera.engines.expressions.schema import (
    EntitySpec,
    ExprSchema,
    FieldSpec,
    Relation,
    ValueType,
)

#: the platform tables the ``user`` and ``department`` entities read (its migrations own them)
PLATFORM_ENTITIES = {"user": "users", "department": "departments"}


#: every record's system fields: key, type, English and Chinese label, column, the entity a user
#: field points at
# fmt: off
_SYSTEM_FIELDS: tuple[tuple[str, ValueType, str, str, str, str | None], ...] = (
    ("id",         ValueType.NUMBER,   "ID",         "编号",     "id",         None),
    ("created_at", ValueType.DATETIME, "Created at", "创建时间", "created_at", None),
    ("updated_at", ValueType.DATETIME, "Updated at", "更新时间", "updated_at", None),
    ("created_by", ValueType.USER,     "Created by", "创建人",   "created_by", "user"),
    ("updated_by", ValueType.USER,     "Updated by", "更新人",   "updated_by", "user"),
    ("owner",      ValueType.USER,     "Owner",      "负责人",   "owner_id",   "user"),
    ("version",    ValueType.NUMBER,   "Version",    "版本",     "version",    None),
)
# fmt: on


def _system_fields(entity: EntityModel | None) -> dict[str, FieldSpec]:
    fields = {
        key: FieldSpec(key, value_type, {"en": en, "zh-CN": zh}, column=column, target=target)
        for key, value_type, en, zh, column, target in _SYSTEM_FIELDS
    }
    if entity is not None and entity.parent is not None:
        fields["parent"] = FieldSpec(
            "parent",
            ValueType.RECORD,
            {"en": "Parent"},
            column="parent_id",
            relation=Relation.LINK,
            target=entity.parent,
        )
    return fields


def _field_spec(app: AppModel, entity: EntityModel, f: FieldModel) -> FieldSpec:
    labels = dict(f.labels)  # a plain label is stored under "": it is every language's
    kind, spec = f.kind, f.spec
    key = f.key
    scale = spec.get("_stored", spec).get("scale") if spec.get("_stored", spec) else None
    if f.type in ("user", "department"):
        return FieldSpec(
            key,
            labels=labels,
            value_type=kind.value_type,
            column=f.key,
            target=f.type,
        )
    if f.type == "link":
        return FieldSpec(
            key,
            labels=labels,
            value_type=ValueType.RECORD,
            column=f.key,
            relation=Relation.LINK,
            target=f.target,
        )
    if f.type == "multi_link":
        junction = (naming.junction_table(app.key, entity.key, f.key), "source_id", "target_id")
        return FieldSpec(
            key,
            labels=labels,
            value_type=ValueType.LIST,
            relation=Relation.MULTI_LINK,
            target=f.target,
            junction=junction,
        )
    if f.type == "child_table":
        return FieldSpec(
            key,
            labels=labels,
            value_type=ValueType.LIST,
            relation=Relation.CHILDREN,
            target=f.target,
            remote_column="parent_id",
        )
    options = tuple(o if isinstance(o, str) else o["key"] for o in spec.get("options", ()))
    return FieldSpec(
        key,
        labels=labels,
        value_type=kind.value_type_of(spec),
        column=f.columns[0] if f.columns else None,
        options=options,
        scale=scale if isinstance(scale, int) else None,
    )


def to_expr_schema(app: AppModel) -> ExprSchema:
    """The expression language's schema of ``app`` (plus ``user`` and ``department``)."""
    entities: dict[str, EntitySpec] = {}
    for entity in app.entities:
        fields = _system_fields(entity)
        fields.update({f.key: _field_spec(app, entity, f) for f in entity.fields})
        labels = dict(entity.labels)
        entities[entity.key] = EntitySpec(entity.key, entity.table, fields, labels)
    # records that link here: REVERSE relations named <entity>__<link field>
    for entity in app.entities:
        for f in entity.fields:
            if f.type == "link" and f.target in entities:
                target = entities[f.target]
                reverse = FieldSpec(
                    f"{entity.key}__{f.key}",
                    ValueType.LIST,
                    relation=Relation.REVERSE,
                    target=entity.key,
                    remote_column=f.key,
                )
                entities[f.target] = EntitySpec(
                    target.key, target.table, {**target.fields, reverse.key: reverse}, target.labels
                )
    entities["user"] = EntitySpec(
        "user",
        PLATFORM_ENTITIES["user"],
        {
            "id": FieldSpec("id", ValueType.NUMBER, column="id"),
            "name": FieldSpec(
                "name", ValueType.TEXT, {"en": "Name", "zh-CN": "姓名"}, column="name"
            ),
            "email": FieldSpec(
                "email", ValueType.TEXT, {"en": "Email", "zh-CN": "邮箱"}, column="email"
            ),
            "department": FieldSpec(
                "department",
                ValueType.DEPARTMENT,
                column="department_id",
                target="department",
            ),
        },
        {"en": "User", "zh-CN": "用户"},
    )
    entities["department"] = EntitySpec(
        "department",
        PLATFORM_ENTITIES["department"],
        {
            "id": FieldSpec("id", ValueType.NUMBER, column="id"),
            "name": FieldSpec(
                "name", ValueType.TEXT, {"en": "Name", "zh-CN": "名称"}, column="name"
            ),
        },
        {"en": "Department", "zh-CN": "部门"},
    )
    return ExprSchema(entities)
