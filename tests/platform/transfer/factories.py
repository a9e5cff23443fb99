"""The steps of an import as a browser takes them (upload a file, choose the mapping) and the
job queue run by hand, shared by the transfer tests."""

from __future__ import annotations

import io
import re
from typing import Any

import sqlalchemy as sa

from tessera.platform import jobs
from tessera.platform.models import Import, Job, User
from tessera.platform.runtime import Platform
from tessera.platform.transfer import imports
from tests.conftest import Web

#: the every-field-type app of the API tests (``kit``): the default entity
ITEMS = "/apps/kit/item"


def upload(web: Web, content: bytes, name: str = "upload.csv", *, entity: str = ITEMS) -> Any:
    """Post ``content`` as file ``name`` to ``entity``'s import page (``/apps/<app>/<entity>``);
    accepted, the response redirects to the mapping page."""
    page = f"{entity}/import"
    return web.client.post(
        page,
        data={"csrf_token": web.csrf(page), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def choose(
    web: Web,
    location: str,
    mapping: dict[int, str] | None = None,
    *,
    suggested: bool = False,
    **options: str,
) -> Any:
    """Post the mapping page at ``location``: all-or-nothing create unless ``options`` say
    otherwise; columns mapped as ``mapping`` (column index → field key) says, over the page's
    own suggestions when ``suggested``."""
    form: dict[str, str] = {
        "csrf_token": web.csrf(location),
        "mode": "create",
        "on_error": "all_or_nothing",
    }
    if suggested:
        page = web.client.get(location).get_data(as_text=True)
        for i, chosen in re.findall(
            r'name="map-(\d+)".*?(?:<option value="([a-z_]+)" selected>|</select>)', page, re.S
        ):
            form[f"map-{i}"] = chosen
    for i, key in (mapping or {}).items():
        form[f"map-{i}"] = key
    form.update(options)
    return web.client.post(location, data=form)


def start(web: Web, location: str, mapping: dict[int, str] | None = None, **options: str) -> None:
    """Take the page's suggested mapping (changed by ``mapping``) and start the import."""
    response = choose(web, location, mapping, suggested=True, **options)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def run_imports(platform: Platform) -> None:
    """Run the queued import jobs here and now, as a worker would."""
    with platform.db.session() as db:
        ids = db.scalars(
            sa.select(Job.id).where(Job.task == "transfer.import", Job.status == "queued")
        ).all()
    for job_id in ids:
        jobs.execute(platform, job_id)


def status(web: Web, location: str) -> dict[str, Any]:
    """The import's status as its page polls it."""
    return web.client.get(location + "/status").get_json()  # type: ignore[no-any-return]


def imported(platform: Platform, user: User, names: list[str]) -> dict[str, object]:
    """Import ``names`` into the kit app's items, all or nothing, as the import job does."""
    stored = f"tidy-{len(names)}-{names[0]}"
    (imports.folder(platform) / stored).write_text(
        "name\n" + "".join(f"{n}\n" for n in names), encoding="utf-8"
    )
    with platform.db.session() as db:
        record = Import(
            app="kit", entity="item", file_name="items.csv", stored_name=stored,
            file_kind="csv", encoding="utf-8", size=1, columns=["name"], mapping=["name"],
            options={"mode": "create", "on_error": "all_or_nothing"}, status="queued",
            created_by=user.id,
        )  # fmt: skip
        db.add(record)
        db.flush()
        import_id = record.id
    return imports.run(platform, import_id)
