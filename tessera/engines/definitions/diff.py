"""What changed between two versions of a definition, in words.

Used for the version history ("what did this publish change?") and as the no-DDL part of a
schema plan (labels, options, layouts and views change freely: no table is touched).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tessera.engines.definitions.fields.base import humanise

Doc = Mapping[str, Any]

#: kinds that change tables; the rest are display-only changes
STRUCTURAL = frozenset({"add_entity", "remove_entity", "add_field", "remove_field", "change_type"})


@dataclass(frozen=True)
class Change:
    kind: str
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def structural(self) -> bool:
        return self.kind in STRUCTURAL


def _label(item: Mapping[str, Any]) -> str:
    """The English label of an app, entity, field or view, quoted; its key as words without."""
    label = item.get("label")
    if isinstance(label, dict):
        label = label.get("en") or next(iter(label.values()), None)
    return f"“{label or humanise(str(item.get('key', '?')))}”"


def _by_key(items: Any) -> dict[str, Mapping[str, Any]]:
    return {item["key"]: item for item in items or ()}


def diff(old: Doc, new: Doc) -> list[Change]:
    """The changes from ``old`` to ``new``, entities in the new document's order."""
    return list(_diff(old, new))


def _diff(old: Doc, new: Doc) -> Iterator[Change]:
    if old.get("label") != new.get("label"):
        yield Change("relabel", f"Rename the app from {_label(old)} to {_label(new)}")
    old_entities, new_entities = _by_key(old["entities"]), _by_key(new["entities"])
    for key, entity in new_entities.items():
        if key not in old_entities:
            yield Change(
                "add_entity",
                f"Add the entity {_label(entity)} ({key}) with {len(entity['fields'])} field(s)",
            )
        else:
            yield from _entity(old_entities[key], entity)
    for key, entity in old_entities.items():
        if key not in new_entities:
            yield Change(
                "remove_entity", f"Remove the entity {_label(entity)} ({key}) and its records"
            )
    if old.get("navigation") != new.get("navigation"):
        yield Change("navigation", "Change the navigation menu")
    for slot in (
        "roles",
        "processes",
        "rules",
        "reports",
        "dashboards",
        "templates",
        "public_forms",
    ):
        if old.get(slot) != new.get(slot):
            yield Change("other", f"Change the {slot.replace('_', ' ')}")


def _entity(old: Doc, new: Doc) -> Iterator[Change]:
    name = _label(new)
    if old.get("label") != new.get("label"):
        yield Change("relabel", f"Rename the entity {_label(old)} to {name}")
    old_fields, new_fields = _by_key(old["fields"]), _by_key(new["fields"])
    for key, f in new_fields.items():
        if key not in old_fields:
            yield Change(
                "add_field",
                f"Add the {f['type'].replace('_', ' ')} field {_label(f)} ({key}) to {name}",
            )
        else:
            yield from _field(name, old_fields[key], f)
    for key, f in old_fields.items():
        if key not in new_fields:
            yield Change(
                "remove_field", f"Remove the field {_label(f)} ({key}) from {name} and its values"
            )
    if [f["key"] for f in old["fields"] if f["key"] in new_fields] != [
        f["key"] for f in new["fields"] if f["key"] in old_fields
    ]:
        yield Change("layout", f"Reorder the fields of {name}")
    if old.get("form") != new.get("form"):
        yield Change("layout", f"Change the form layout of {name}")
    old_views, new_views = _by_key(old.get("views")), _by_key(new.get("views"))
    for key, view in new_views.items():
        if key not in old_views:
            yield Change("views", f"Add the {view['type']} view {_label(view)} to {name}")
        elif old_views[key] != view:
            yield Change("views", f"Change the view {_label(view)} of {name}")
    for key, view in old_views.items():
        if key not in new_views:
            yield Change("views", f"Remove the view {_label(view)} from {name}")
    if old.get("indexes") != new.get("indexes"):
        yield Change("settings", f"Change the indexes of {name}")
    if old.get("title") != new.get("title"):
        yield Change(
            "settings",
            f"Show {name} records by “{new.get('title')}” instead of “{old.get('title')}”",
        )


def _field(entity: str, old: Doc, new: Doc) -> Iterator[Change]:
    name = f"{_label(new)} of {entity}"
    if old["type"] != new["type"]:
        yield Change("change_type", f"Change the field {name} from {old['type']} to {new['type']}")
    if old.get("label") != new.get("label"):
        yield Change("relabel", f"Rename the field {_label(old)} of {entity} to {_label(new)}")
    old_options = [o if isinstance(o, str) else o["key"] for o in old.get("options", ())]
    new_options = [o if isinstance(o, str) else o["key"] for o in new.get("options", ())]
    added = [o for o in new_options if o not in old_options]
    removed = [o for o in old_options if o not in new_options]
    if added:
        yield Change("options", f"Add the option(s) {', '.join(added)} to {name}")
    if removed:
        yield Change("options", f"Remove the option(s) {', '.join(removed)} from {name}")
    if not added and not removed and old.get("options") != new.get("options"):
        yield Change("options", f"Relabel or reorder the options of {name}")
    ignored = {"type", "label", "options"}
    for setting in sorted((set(old) | set(new)) - ignored):
        if old.get(setting) != new.get(setting):
            yield Change(
                "settings",
                f"Change “{setting}” of {name} from {old.get(setting)!r} to {new.get(setting)!r}",
            )


def key_changes(old: Doc, new: Doc) -> list[str]:
    """Keys that look renamed (same place, same type, different key) after publishing.

    Keys are immutable once published: a renamed key is a drop plus an add, and the dropped
    field's data does not move to the new one.  The builder shows these messages before saving.
    """
    messages: list[str] = []
    old_entities, new_entities = old["entities"], new["entities"]
    new_keys = {e["key"] for e in new_entities}
    old_keys = {e["key"] for e in old_entities}
    for i, entity in enumerate(old_entities):
        if (
            entity["key"] not in new_keys
            and i < len(new_entities)
            and new_entities[i]["key"] not in old_keys
        ):
            messages.append(
                f"The entity key “{entity['key']}” cannot change after publishing: "
                f"“{new_entities[i]['key']}” would be a new, empty entity and the old one "
                "would be dropped. Change its label instead."
            )
    for entity in new_entities:
        before = next((e for e in old_entities if e["key"] == entity["key"]), None)
        if before is None:
            continue
        now_keys = {f["key"] for f in entity["fields"]}
        then_keys = {f["key"] for f in before["fields"]}
        for j, f in enumerate(before["fields"]):
            if f["key"] in now_keys or j >= len(entity["fields"]):
                continue
            candidate = entity["fields"][j]
            if candidate["key"] not in then_keys and candidate["type"] == f["type"]:
                messages.append(
                    f"The field key “{f['key']}” of “{entity['key']}” cannot change after "
                    f"publishing: “{candidate['key']}” would be a new, empty field and "
                    f"“{f['key']}” and its values "
                    "would be dropped. Change its label instead."
                )
    return messages
