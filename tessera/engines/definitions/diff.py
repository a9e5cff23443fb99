"""What changed between two versions of a definition, in words.

Used for the version history ("what did this publish change?") and as the no-DDL part of a
schema plan (labels, options, layouts and views change freely: no table is touched).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tessera.engines.definitions.wording import named, type_key, type_words, view_words
from tessera.engines.messages import Listing, Phrase, _l, sentences

Doc = Mapping[str, Any]

#: kinds that change tables; the rest are display-only changes
STRUCTURAL = frozenset({"add_entity", "remove_entity", "add_field", "remove_field", "change_type"})

#: the parts of an app that are compared whole, and the sentence that says one changed
SLOTS = {
    "roles": _l("Change the roles"),
    "processes": _l("Change the processes"),
    "rules": _l("Change the rules"),
    "reports": _l("Change the reports"),
    "dashboards": _l("Change the dashboards"),
    "templates": _l("Change the templates"),
    "public_forms": _l("Change the public forms"),
}


@dataclass(frozen=True)
class Change:
    """One change in words: ``phrase`` is the sentence in no language yet (the platform shows
    it in the reader's), ``text`` and ``str()`` its English."""

    kind: str
    phrase: Phrase = field(hash=False)

    @property
    def text(self) -> str:
        return str(self.phrase)

    def __str__(self) -> str:
        return self.text

    @property
    def structural(self) -> bool:
        return self.kind in STRUCTURAL


def _said(kind: str, template: str, **params: Any) -> Change:
    return Change(kind, Phrase(template, **params))


def _by_key(items: Any) -> dict[str, Mapping[str, Any]]:
    return {item["key"]: item for item in items or ()}


def diff(old: Doc, new: Doc) -> list[Change]:
    """The changes from ``old`` to ``new``, entities in the new document's order."""
    return list(_diff(old, new))


def _diff(old: Doc, new: Doc) -> Iterator[Change]:
    if old.get("label") != new.get("label"):
        yield _said(
            "relabel",
            _l("Rename the app from “%(old)s” to “%(new)s”"),
            old=named(old),
            new=named(new),
        )
    old_entities, new_entities = _by_key(old["entities"]), _by_key(new["entities"])
    for key, entity in new_entities.items():
        if key not in old_entities:
            yield _said(
                "add_entity",
                _l("Add the entity “%(entity)s” (%(key)s) with %(count)d field(s)"),
                entity=named(entity),
                key=key,
                count=len(entity["fields"]),
            )
        else:
            yield from _entity(old_entities[key], entity)
    for key, entity in old_entities.items():
        if key not in new_entities:
            yield _said(
                "remove_entity",
                _l("Remove the entity “%(entity)s” (%(key)s) and its records"),
                entity=named(entity),
                key=key,
            )
    if old.get("navigation") != new.get("navigation"):
        yield _said("navigation", _l("Change the navigation menu"))
    for slot, template in SLOTS.items():
        if old.get(slot) != new.get(slot):
            yield _said("other", template)


def _entity(old: Doc, new: Doc) -> Iterator[Change]:
    name = named(new)
    if old.get("label") != new.get("label"):
        yield _said(
            "relabel", _l("Rename the entity “%(old)s” to “%(new)s”"), old=named(old), new=name
        )
    old_fields, new_fields = _by_key(old["fields"]), _by_key(new["fields"])
    for key, f in new_fields.items():
        if key not in old_fields:
            yield _said(
                "add_field",
                _l("Add the %(type)s field “%(field)s” (%(key)s) to “%(entity)s”"),
                type=type_words(f["type"]),
                field=named(f),
                key=key,
                entity=name,
            )
        else:
            yield from _field(name, old_fields[key], f)
    for key, f in old_fields.items():
        if key not in new_fields:
            yield _said(
                "remove_field",
                _l("Remove the field “%(field)s” (%(key)s) from “%(entity)s” and its values"),
                field=named(f),
                key=key,
                entity=name,
            )
    if [f["key"] for f in old["fields"] if f["key"] in new_fields] != [
        f["key"] for f in new["fields"] if f["key"] in old_fields
    ]:
        yield _said("layout", _l("Reorder the fields of “%(entity)s”"), entity=name)
    if old.get("form") != new.get("form"):
        yield _said("layout", _l("Change the form layout of “%(entity)s”"), entity=name)
    old_views, new_views = _by_key(old.get("views")), _by_key(new.get("views"))
    for key, view in new_views.items():
        if key not in old_views:
            yield _said(
                "views",
                _l("Add the %(type)s view “%(view)s” to “%(entity)s”"),
                type=view_words(view["type"]),
                view=named(view),
                entity=name,
            )
        elif old_views[key] != view:
            yield _said(
                "views",
                _l("Change the view “%(view)s” of “%(entity)s”"),
                view=named(view),
                entity=name,
            )
    for key, view in old_views.items():
        if key not in new_views:
            yield _said(
                "views",
                _l("Remove the view “%(view)s” from “%(entity)s”"),
                view=named(view),
                entity=name,
            )
    if old.get("indexes") != new.get("indexes"):
        yield _said("settings", _l("Change the indexes of “%(entity)s”"), entity=name)
    if old.get("title") != new.get("title"):
        yield _said(
            "settings",
            _l("Show “%(entity)s” records by “%(new)s” instead of “%(old)s”"),
            entity=name,
            new=str(new.get("title")),
            old=str(old.get("title")),
        )


def _field(entity: Any, old: Doc, new: Doc) -> Iterator[Change]:
    name = Phrase(_l("“%(field)s” of “%(entity)s”"), field=named(new), entity=entity)
    if old["type"] != new["type"]:
        yield _said(
            "change_type",
            _l("Change the field %(field)s from %(old)s to %(new)s"),
            field=name,
            old=type_key(old["type"]),
            new=type_key(new["type"]),
        )
    if old.get("label") != new.get("label"):
        yield _said(
            "relabel",
            _l("Rename the field “%(old)s” of “%(entity)s” to “%(new)s”"),
            old=named(old),
            entity=entity,
            new=named(new),
        )
    old_options = [o if isinstance(o, str) else o["key"] for o in old.get("options", ())]
    new_options = [o if isinstance(o, str) else o["key"] for o in new.get("options", ())]
    added = [o for o in new_options if o not in old_options]
    removed = [o for o in old_options if o not in new_options]
    if added:
        yield _said(
            "options",
            _l("Add the option(s) %(options)s to %(field)s"),
            options=Listing(added),
            field=name,
        )
    if removed:
        yield _said(
            "options",
            _l("Remove the option(s) %(options)s from %(field)s"),
            options=Listing(removed),
            field=name,
        )
    if not added and not removed and old.get("options") != new.get("options"):
        yield _said("options", _l("Relabel or reorder the options of %(field)s"), field=name)
    ignored = {"type", "label", "options"}
    for setting in sorted((set(old) | set(new)) - ignored):
        if old.get(setting) != new.get(setting):
            yield _said(
                "settings",
                _l("Change “%(setting)s” of %(field)s from %(old)s to %(new)s"),
                setting=setting,
                field=name,
                old=repr(old.get(setting)),
                new=repr(new.get(setting)),
            )


def key_changes(old: Doc, new: Doc) -> list[str]:
    """Keys that look renamed (same place, same type, different key) after publishing, in
    English (see :func:`key_change_phrases`)."""
    return [str(phrase) for phrase in key_change_phrases(old, new)]


def key_change_phrases(old: Doc, new: Doc) -> list[Phrase]:
    """Keys that look renamed (same place, same type, different key) after publishing.

    Keys are immutable once published: a renamed key is a drop plus an add, and the dropped
    field's data does not move to the new one.  The builder shows these messages before saving.
    """
    messages: list[Phrase] = []
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
                Phrase(
                    _l(
                        "The entity key “%(old)s” cannot change after publishing: “%(new)s” "
                        "would be a new, empty entity and the old one would be dropped. "
                        "Change its label instead."
                    ),
                    old=entity["key"],
                    new=new_entities[i]["key"],
                )
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
                    Phrase(
                        _l(
                            "The field key “%(old)s” of “%(entity)s” cannot change after "
                            "publishing: “%(new)s” would be a new, empty field and “%(old)s” "
                            "and its values would be dropped. Change its label instead."
                        ),
                        old=f["key"],
                        entity=entity["key"],
                        new=candidate["key"],
                    )
                )
    return messages


def key_changes_said(old: Doc, new: Doc) -> Phrase | None:
    """All of :func:`key_change_phrases` as one message (“…; …”), or None when no key changed."""
    phrases = key_change_phrases(old, new)
    return sentences(phrases) if phrases else None
