"""The per-object cache behind the engines' compiled statements, writers and policies."""

from __future__ import annotations

import gc
import weakref

from tessera.engines.memo import PerObject


class Model:
    """Stands for an app or entity model: unhashable in practice, compared by identity."""

    __hash__ = None  # type: ignore[assignment]


def test_an_answer_is_made_once_per_object_and_part() -> None:
    cache: PerObject[str] = PerObject()
    made: list[str] = []
    first, second = Model(), Model()

    def make(label: str) -> str:
        made.append(label)
        return label

    assert cache.made(first, lambda: make("a")) == "a"
    assert cache.made(first, lambda: make("again")) == "a"
    assert cache.made(second, lambda: make("b")) == "b"
    assert cache.made(first, lambda: make("part"), "contact") == "part"
    assert cache.get(first, "account") is None
    assert made == ["a", "b", "part"]


def test_a_second_object_is_part_of_the_key() -> None:
    cache: PerObject[str] = PerObject()
    entity, table, other_table = Model(), Model(), Model()
    cache.put(entity, "over table", also=table)
    assert cache.get(entity, also=table) == "over table"
    assert cache.get(entity, also=other_table) is None
    assert cache.get(entity) is None


def test_an_object_with_an_answer_stays_alive_so_its_id_is_never_another_objects() -> None:
    """Keys are ids, which Python hands out again once an object is freed: the cache keeps the
    object beside its answer, so while the answer is cached no new object (a new app version)
    can get that id and be served the old answer.  Emptied, the cache lets the object go."""
    cache: PerObject[str] = PerObject(limit=2)
    old = Model()
    alive = weakref.ref(old)
    cache.put(old, "old version's statements")
    del old
    gc.collect()
    assert alive() is not None
    cache.put(Model(), "filler")
    cache.put(Model(), "the limit is reached: emptied first")
    gc.collect()
    assert alive() is None


def test_the_cache_empties_when_it_reaches_its_limit() -> None:
    cache: PerObject[int] = PerObject(limit=3)
    objects = [Model() for _ in range(4)]
    for n, model in enumerate(objects[:3]):
        cache.put(model, n)
    assert len(cache) == 3
    cache.put(objects[3], 3)
    assert len(cache) == 1 and cache.get(objects[0]) is None and cache.get(objects[3]) == 3
