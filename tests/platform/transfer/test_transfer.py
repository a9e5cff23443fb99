"""Exports (CSV/XLSX, neutralised cells, the list's filters and columns) and imports (encodings,
Chinese Excel values, mapping, upsert, all-or-nothing vs skip, dry run, error report)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import openpyxl
import pytest
import sqlalchemy as sa

from tessera.engines.definitions import compile_app
from tessera.platform.models import Import, User
from tessera.platform.runtime import Platform
from tessera.platform.transfer.exports import cell, header, neutralise, unneutralise
from tessera.platform.transfer.imports import auto_map
from tests.conftest import Web
from tests.platform.api.conftest import Api
from tests.platform.factories import records
from tests.platform.transfer.factories import run_imports, start, status, upload

HOSTILE = [
    '=HYPERLINK("http://evil","x")',
    " =1+1",
    "\t=cmd|' /C calc'!A0",
    "@SUM(A1)",
    "+1+1",
    "-2+3",
]


def test_neutralise_prefixes_formulas_and_leaves_numbers() -> None:
    for text in HOSTILE:
        assert neutralise(text).startswith("'") and unneutralise(neutralise(text)) == text
    for text in ["-12.50", "+3", "plain", "a=b", "", "李雷"]:
        assert neutralise(text) == text


def test_export_csv_has_a_bom_labels_the_list_filter_and_neutralised_cells(
    signed_in: tuple[Web, Api],
) -> None:
    web, api = signed_in
    for n, name in enumerate(HOSTILE):
        api.post("/item", {"name": name, "qty": n, "stage": "won", "price": "-3.50"})
    api.post("/item", {"name": "hidden by the filter", "qty": 99})
    response = web.client.get(
        "/apps/kit/item/export",
        query_string={
            "format": "csv",
            "cols": "name,qty,stage,price",
            "sort": "qty",
            "formula": "qty < 50",
        },
    )
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["名称", "Qty", "Stage", "价格"]  # unlabelled: the key as words
    assert [r[0] for r in table[1:]] == [neutralise(h) for h in HOSTILE]
    assert all(r[0].startswith("'") for r in table[1:])
    assert table[1][1:] == ["0", "赢单", "-3.50"]
    first_ids = api.get("/item?limit=2&sort=id").get_json()["records"]
    chosen = web.client.get(
        "/apps/kit/item/export",
        query_string={
            "format": "csv",
            "cols": "name",
            "ids": ",".join(str(r["id"]) for r in first_ids),
        },
    )
    assert len(list(csv.reader(io.StringIO(chosen.get_data().decode("utf-8-sig"))))) == 3
    repeated = web.client.get(  # the list page's selection sends ids=1&ids=2
        "/apps/kit/item/export",
        query_string=[("format", "csv"), ("cols", "name")]
        + [("ids", str(r["id"])) for r in first_ids],
    )
    assert repeated.get_data() == chosen.get_data()
    assert web.client.get("/apps/kit/item/export?sort=name,(select 1)").status_code == 400
    assert web.client.get("/apps/kit/item/export?ids=1,x").status_code == 400


def test_export_xlsx_keeps_numbers_and_dates_and_has_no_formulas(
    signed_in: tuple[Web, Api],
) -> None:
    web, api = signed_in
    api.post("/item", {"name": HOSTILE[0], "qty": 7, "price": "1234.50", "due": "2024-03-05"})
    response = web.client.get("/apps/kit/item/export?format=xlsx&cols=name,qty,price,due")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("名称", "Qty", "价格", "到期日")
    name, qty, price, due = rows[1]
    assert name == neutralise(HOSTILE[0]) and sheet["A2"].data_type == "s"
    assert qty == 7 and float(price) == 1234.5 and due.date().isoformat() == "2024-03-05"


def test_options_without_a_label_export_as_words_and_import_back(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    """An option without a label is shown, and so exported, as its key read as words (“On
    hold”, “Red”); an import takes those words back, as it takes the key and the label in
    any language."""
    web, api = signed_in
    api.post("/item", {"name": "Bolt", "stage": "on_hold", "tags": ["red", "blue"]})
    exported = web.client.get(
        "/apps/kit/item/export", query_string={"format": "csv", "cols": "name,stage,tags"}
    ).get_data()
    table = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert table == [["名称", "Stage", "Tags"], ["Bolt", "On hold", "Red, Blue"]]

    more = 'Nut,on_hold,"red, green"\nWasher,赢单,Green\nScrew,Won,\n'
    location = upload(web, exported + more.encode()).headers["Location"]
    start(web, location)
    run_imports(kit)
    result = status(web, location)
    assert (result["created"], result["error_rows"]) == (4, 0), result
    items = api.get("/item?sort=id").get_json()["records"][1:]
    assert [(r["name"], r["stage"], r["tags"]) for r in items] == [
        ("Bolt", "on_hold", ["red", "blue"]),
        ("Nut", "on_hold", ["red", "green"]),
        ("Washer", "won", ["green"]),
        ("Screw", "won", None),
    ]


def test_a_bad_option_is_reported_with_the_options_as_the_importer_reads_them(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    """A zh-CN importer reads which options there are by their Chinese labels (an unlabelled
    one by its key as words), in Chinese, in the report's row: not the keys ``new, won``."""
    web, _api = signed_in
    bad = "名称,Stage,Tags\n螺栓,已成交,Red\n螺母,赢单,Pink\n"
    location = upload(web, bad.encode()).headers["Location"]
    start(web, location)
    run_imports(kit)
    result = status(web, location)
    assert (result["created"], result["error_rows"]) == (0, 2), result
    with web.client.get(result["report_url"]) as download:
        report = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert sorted(report[1:]) == [
        ["2", "Stage", "已成交", "“已成交”不在选项中：新建、赢单、On hold"],
        ["3", "Tags", "Pink", "“Pink”不在选项中：Red、Green、Blue"],
    ]


def test_a_lookup_of_a_select_exports_the_options_label() -> None:
    """A lookup reads a select of another entity: its cell names the option as that select
    does (label, else the key as words), not by its key."""
    doc = {
        "format": "tessera.app/1", "key": "shop", "label": "Shop",
        "entities": [
            {"key": "account", "title": "name", "fields": [
                {"key": "name", "type": "text"},
                {"key": "tier", "type": "select", "options": [
                    {"key": "gold", "label": {"en": "Gold", "zh-CN": "金牌"}}, "key_account"]},
            ]},
            {"key": "order", "title": "ref", "fields": [
                {"key": "ref", "type": "text"},
                {"key": "account", "type": "link", "entity": "account"},
                {"key": "tier", "type": "lookup", "link": "account", "field": "tier"},
            ]},
        ],
    }  # fmt: skip
    tier = compile_app(doc).entity("order").field("tier")
    assert cell(tier, "gold", "zh-CN", typed=False) == "金牌"
    assert cell(tier, "key_account", "en", typed=True) == "Key account"


# -- imports ---------------------------------------------------------------------------------------


def test_columns_map_by_key_and_by_the_label_an_export_gives() -> None:
    """An unlabelled field exports its key as words (“Order line”); a file headed with that, or
    with the key, maps back to it, as a labelled field maps by its label in any language."""
    doc = {
        "format": "tessera.app/1", "key": "shop", "label": "Shop",
        "entities": [{"key": "order", "title": "order_line", "fields": [
            {"key": "order_line", "type": "text"},
            {"key": "qty", "type": "integer", "label": {"en": "Quantity", "zh-CN": "数量"}},
        ]}],
    }  # fmt: skip
    order = compile_app(doc).entity("order")
    assert header(order, ["order_line", "qty"], "en") == ["Order line", "Quantity"]
    assert header(order, ["order_line", "qty"], "zh-CN") == ["Order line", "数量"]
    for columns in (["order_line", "qty"], ["Order line", "Quantity"], ["ORDER LINE", "数量"],
                    ["order line", "QTY"]):  # fmt: skip
        assert auto_map(order, columns) == ["order_line", "qty"], columns
    assert auto_map(order, ["Order line", "order_line", "nothing"]) == ["order_line", None, None]


GBK_CSV = (
    "名称,编码,数量,价格,启用,到期日,stage\r\n"
    '螺栓,B1,"1,200","￥1,234.50",是,2024/3/5,赢单\r\n'
    "螺母,N1,3,￥2,否,2024年3月6日,新建\r\n"
)


@pytest.mark.parametrize(
    "encoding,bom",
    [("gbk", b""), ("gb18030", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"\x84\x31\x95\x33")],
)
def test_chinese_excel_csv_is_detected_mapped_and_converted(
    signed_in: tuple[Web, Api], kit: Platform, encoding: str, bom: bytes
) -> None:
    web, api = signed_in
    given = upload(web, bom + GBK_CSV.encode(encoding))
    assert given.status_code == 302
    location = given.headers["Location"]
    page = web.client.get(location).get_data(as_text=True)
    assert "螺栓" in page  # sample values decoded right
    start(web, location, {2: "qty", 3: "price", 4: "active", 5: "due"})
    run_imports(kit)
    result = status(web, location)
    assert (result["status"], result["created"], result["error_rows"]) == ("done", 2, 0), result
    items = {r["name"]: r for r in api.get("/item?sort=code").get_json()["records"]}
    assert items["螺栓"]["qty"] == 1200 and items["螺栓"]["price"] == "1234.50"
    assert items["螺栓"]["active"] is True and items["螺栓"]["due"] == "2024-03-05"
    assert items["螺栓"]["stage"] == "won" and items["螺母"]["due"] == "2024-03-06"
    assert items["螺母"]["active"] is False and items["螺母"]["price"] == "2.00"


BAD_CSV = 'name,code,qty\nGood,G1,1\nBad qty,B1,lots\n,N1,2\nAlso good,G2,3\n=HYPERLINK("x"),H1,4\n'


def test_all_or_nothing_writes_nothing_and_reports_every_bad_row(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    web, api = signed_in
    location = upload(web, BAD_CSV.encode()).headers["Location"]
    start(web, location)
    run_imports(kit)
    result = status(web, location)
    assert (result["created"], result["error_rows"]) == (0, 2) and result["report_url"]
    assert api.get("/item?total=true").get_json()["total"] == 0
    with web.client.get(result["report_url"]) as download:
        assert "attachment" in download.headers["Content-Disposition"]
        report = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert report[0] == ["row", "column", "value", "message"]
    assert {(r[0], r[1], r[2]) for r in report[1:]} == {("3", "qty", "lots"), ("4", "name", "")}
    # in the language of the user who started the import (a job has no request to ask)
    assert {r[1]: r[3] for r in report[1:]} == {"qty": "“lots”不是整数", "name": "“名称”为必填项"}


def test_skip_bad_rows_imports_the_rest_and_a_dry_run_nothing(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    web, api = signed_in
    dry = upload(web, BAD_CSV.encode()).headers["Location"]
    start(web, dry, on_error="skip", dry_run="on")
    run_imports(kit)
    assert (
        status(web, dry)["error_rows"] == 2 and api.get("/item?total=true").get_json()["total"] == 0
    )
    location = upload(web, BAD_CSV.encode()).headers["Location"]
    start(web, location, on_error="skip")
    run_imports(kit)
    result = status(web, location)
    assert (result["created"], result["error_rows"]) == (3, 2)
    names = sorted(r["name"] for r in api.get("/item").get_json()["records"])
    assert names == ['=HYPERLINK("x")', "Also good", "Good"]


def test_upsert_by_a_unique_field_updates_and_creates(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    web, api = signed_in
    old = api.post("/item", {"name": "Old name", "code": "G1", "qty": 1}).get_json()
    location = upload(web, b"code,name,qty\nG1,New name,5\nG9,Fresh,6\n").headers["Location"]
    start(web, location, mode="upsert", unique_field="code")
    run_imports(kit)
    result = status(web, location)
    assert (result["created"], result["updated"], result["error_rows"]) == (1, 1, 0), result
    again = api.get(f"/item/{old['id']}").get_json()
    assert (again["name"], again["qty"], again["version"]) == ("New name", 5, 2)


def test_upsert_finds_every_existing_key_of_a_batch_beyond_one_page(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    """A batch of 1,000 rows looks its keys up in pages of 500: keys past the first page are
    updated too, not created again (which the unique code would refuse)."""
    web, api = signed_in
    with records(kit, "kit") as system:
        system.bulk_create("item", [{"name": f"Old {n}", "code": f"K{n:04d}"} for n in range(620)])
    lines = [f"K{n:04d},New {n}" for n in range(630)]
    location = upload(web, ("code,name\n" + "\n".join(lines) + "\n").encode()).headers["Location"]
    start(web, location, mode="upsert", unique_field="code")
    run_imports(kit)
    result = status(web, location)
    assert (result["created"], result["updated"], result["error_rows"]) == (10, 620, 0), result
    assert api.get("/item?total=true&limit=1").get_json()["total"] == 630
    found = api.get("/item?filter=code%20%3D%20%22K0619%22").get_json()["records"]
    assert [r["name"] for r in found] == ["New 619"]


def test_xlsx_import_by_magic_not_extension_and_junk_is_refused(
    signed_in: tuple[Web, Api], kit: Platform
) -> None:
    web, api = signed_in
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Qty", "Due date"])
    sheet.append(["Washer", 4, __import__("datetime").datetime(2024, 3, 5)])
    buffer = io.BytesIO()
    book.save(buffer)
    location = upload(web, buffer.getvalue(), "looks-like.csv").headers["Location"]
    with kit.db.session() as db:
        assert db.scalars(sa.select(Import.file_kind)).one() == "xlsx"
    start(web, location)
    run_imports(kit)
    assert status(web, location)["created"] == 1
    record = api.get("/item").get_json()["records"][0]
    assert (record["name"], record["qty"], record["due"]) == ("Washer", 4, "2024-03-05")
    # the user reads Chinese: the reason is told in Chinese too
    reasons = {b"\x00\x01\x02binary": "这不是 CSV 或 XLSX 文件",
               b"PK\x03\x04not really a zip": "此 Excel 文件已损坏", b"": "文件为空"}  # fmt: skip
    for junk, reason in reasons.items():
        refused = upload(web, junk, "x.xlsx")
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400 and 'data-test="upload-error"' in page
        assert reason in page, page


def test_another_user_cannot_see_an_import(
    signed_in: tuple[Web, Api], kit: Platform, other_web: Web, user_factory: Callable[..., User]
) -> None:
    web, _api = signed_in
    location = upload(web, BAD_CSV.encode()).headers["Location"]
    other = user_factory()
    other_web.sign_in(other.email)
    for suffix in ("", "/status", "/errors.csv"):
        with other_web.client.get(location + suffix) as response:
            assert response.status_code == 404
