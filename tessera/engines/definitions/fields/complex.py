"""Attachment, image, location and JSON field types.

Files live in the platform's file store; a record holds only references to them, a JSON list of
``{"id", "name", "size", "mime"}``.  A location is two float columns (``<key>_lat``,
``<key>_lng``) so it can be filtered by a bounding box with plain indexes.
"""

from __future__ import annotations

import json
import random
from typing import Any, ClassVar

import sqlalchemy as sa

from tessera.engines.definitions.fields.base import (
    EMPTY_OPS,
    Exported,
    FieldType,
    InvalidValue,
    Spec,
    normalise,
    parse_decimal,
)
from tessera.engines.expressions.schema import ValueType
from tessera.engines.messages import _l


class Attachment(FieldType):
    name = "attachment"
    display_name = _l("Attachment")
    value_type = ValueType.JSON
    operators = EMPTY_OPS
    indexable = False
    #: the refusals that name the kind of upload (a file, an image), as templates
    texts: ClassVar[dict[str, str]] = {
        "not_a_list": _l("“%(value)s” is not a list of uploaded files"),
        "too_many": _l("at most %(limit)s file(s) can be attached here"),
        "no_id": _l("each file needs the id the upload returned"),
        "malformed": _l("the file “%(id)s” has a malformed name or size"),
        "no_import": _l("files cannot be imported from a file name; upload them"),
    }

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise InvalidValue(self.texts["not_a_list"], value=value)
        refs = [self.check_ref(item) for item in value]
        limit = int(spec.get("max_files", 20))
        if len(refs) > limit:
            raise InvalidValue(self.texts["too_many"], limit=limit)
        return refs

    def check_ref(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise InvalidValue(self.texts["no_id"])
        name = item.get("name", item["id"])
        size = item.get("size")
        if not isinstance(name, str) or (size is not None and not isinstance(size, int)):
            raise InvalidValue(self.texts["malformed"], id=item["id"])
        ref: dict[str, Any] = {"id": item["id"], "name": name}
        if size is not None:
            ref["size"] = size
        if item.get("mime"):
            ref["mime"] = str(item["mime"])
        return ref

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return ", ".join(ref["name"] for ref in value or ())

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def from_import(self, spec: Spec, text: Any) -> Any:
        """Only references exported by Tessera itself (JSON) can be imported."""
        if isinstance(text, str) and text.strip() and not text.strip().startswith("["):
            raise InvalidValue(self.texts["no_import"])
        return super().from_import(
            spec, json.loads(text) if isinstance(text, str) and text.strip() else text
        )

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return [
            {
                "id": f"demo-{rng.randint(1, 10**6)}",
                "name": "brochure.pdf",
                "size": 2048,
                "mime": "application/pdf",
            }
        ]


class Image(Attachment):
    """Raster images only: SVG can carry script, so it is refused."""

    name = "image"
    display_name = _l("Image")
    texts: ClassVar[dict[str, str]] = {
        "not_a_list": _l("“%(value)s” is not a list of uploaded images"),
        "too_many": _l("at most %(limit)s image(s) can be attached here"),
        "no_id": _l("each image needs the id the upload returned"),
        "malformed": _l("the image “%(id)s” has a malformed name or size"),
        "no_import": _l("images cannot be imported from a file name; upload them"),
    }

    def check_ref(self, item: Any) -> dict[str, Any]:
        ref = super().check_ref(item)
        mime = ref.get("mime", "")
        if not mime.startswith("image/") or "svg" in mime:
            raise InvalidValue(
                _l("“%(name)s” is not a PNG, JPEG, GIF or WebP image"), name=ref["name"]
            )
        return ref

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return [
            {
                "id": f"demo-{rng.randint(1, 10**6)}",
                "name": "photo.jpg",
                "size": 4096,
                "mime": "image/jpeg",
            }
        ]


class Location(FieldType):
    """``{"lat": 31.23, "lng": 121.47}`` in two columns."""

    name = "location"
    display_name = _l("Location")
    value_type = ValueType.JSON
    storage = "columns"
    operators = ("within_box", "is_empty", "is_not_empty")

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.Double()

    def column_names(self, spec: Spec) -> tuple[str, ...]:
        return (f"{spec['key']}_lat", f"{spec['key']}_lng")

    def validate(self, spec: Spec, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            parts = normalise(value).replace("，", ",").split(",")
            if len(parts) != 2:
                raise InvalidValue(
                    _l("“%(value)s” is not a location; write it as latitude, longitude"),
                    value=value,
                )
            value = {"lat": parts[0], "lng": parts[1]}
        if not isinstance(value, dict) or set(value) != {"lat", "lng"}:
            raise InvalidValue(_l("a location needs a latitude and a longitude"))
        lat = float(parse_decimal(value["lat"], _l("“%(value)s” is not a latitude")))
        lng = float(parse_decimal(value["lng"], _l("“%(value)s” is not a longitude")))
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise InvalidValue(_l("latitude must be within ±90 and longitude within ±180"))
        return {"lat": lat, "lng": lng}

    def to_columns(self, spec: Spec, value: Any) -> dict[str, Any]:
        lat, lng = self.column_names(spec)
        return {lat: None, lng: None} if value is None else {lat: value["lat"], lng: value["lng"]}

    def from_columns(self, spec: Spec, row: Any) -> Any:
        lat, lng = self.column_names(spec)
        return None if row[lat] is None else {"lat": row[lat], "lng": row[lng]}

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return "" if value is None else f"{value['lat']:.5f}, {value['lng']:.5f}"

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else f"{value['lat']},{value['lng']}"

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return {"lat": round(rng.uniform(20, 45), 5), "lng": round(rng.uniform(100, 125), 5)}


class Json(FieldType):
    name = "json"
    display_name = _l("JSON data")
    value_type = ValueType.JSON
    operators = EMPTY_OPS
    indexable = False

    def sql_type(self, spec: Spec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def validate(self, spec: Spec, value: Any) -> Any:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise InvalidValue(_l("this value cannot be stored as JSON")) from None
        return value

    def format(self, spec: Spec, value: Any, locale: str = "en") -> str:
        return "" if value is None else json.dumps(value, ensure_ascii=False)

    def to_export(self, spec: Spec, value: Any) -> Exported:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def from_import(self, spec: Spec, text: Any) -> Any:
        if isinstance(text, str) and text.strip():
            try:
                return self.validate(spec, json.loads(text))
            except json.JSONDecodeError:
                raise InvalidValue(_l("“%(value)s” is not valid JSON"), value=text[:40]) from None
        return super().from_import(spec, text)

    def demo_value(self, spec: Spec, rng: random.Random) -> Any:
        return {"score": rng.randint(0, 100)}
