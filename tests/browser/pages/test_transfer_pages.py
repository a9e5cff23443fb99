"""Spreadsheets in and out in a real browser.  Import: from the list's Import button, a CSV
saved by Chinese Excel (GB18030) is uploaded, its columns are matched to fields by their
labels, the import starts, and the progress page follows the job to the end, shows the counts
and the rows sentence, and links the error report of a bad row.  Export: the list as searched
(CSV and XLSX from the Export menu, which closes once an item is chosen) and the rows chosen
with their check boxes.  Screenshots go to ``$TESSERA_TEST_ARTIFACTS/<test>/``."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from tessera.platform.models import AuditEntry, Import, User
from tessera.platform.runtime import Platform
from tests.browser.pages.test_runtime_pages import crm, sign_in  # noqa: F401 - the fixture
from tests.platform.factories import records
from tests.platform.transfer.factories import run_imports

Shot = Callable[[Page, str], Path]
COMPANIES = "/apps/fieldtest/company/"
SPREADSHEET = "Name,城市\r\n深圳华为技术有限公司,深圳\r\n,杭州\r\nByteDance,北京\r\n"


def test_a_chinese_excel_csv_is_imported_from_the_list(
    page: Page,
    crm: User,  # noqa: F811
    platform: Platform,
    shot: Shot,
    tmp_path: Path,
) -> None:
    source = tmp_path / "公司.csv"
    source.write_bytes(SPREADSHEET.encode("gb18030"))
    sign_in(page, crm.email)
    page.goto(COMPANIES)
    page.get_by_role("link", name="Import").first.click()
    page.get_by_label("File").set_input_files(str(source))
    shot(page, "upload")
    page.get_by_role("button", name="Upload and continue").click()
    # the columns were matched by the fields' labels, in either language
    expect(page.get_by_label("Name")).to_have_value("name")
    expect(page.get_by_label("城市")).to_have_value("city")
    expect(page.locator(".transfer-sample").first).to_contain_text("深圳华为技术有限公司")
    page.get_by_text("Skip the rows with problems, import the rest").click()
    shot(page, "mapping")
    page.get_by_role("button", name="Start import").click()
    expect(page.locator("[data-test=import-state]")).to_have_text("Waiting for a worker…")
    run_imports(platform)  # the worker's part
    expect(page.locator("[data-test=import-state]")).to_have_text("Finished")
    expect(page.locator("[data-test=import-rows]")).to_have_text("3 of 3 rows")
    expect(page.locator("[data-count=created]")).to_have_text("2")
    expect(page.locator("[data-count=error_rows]")).to_have_text("1")
    expect(page.locator("[data-test=import-message]")).to_have_text(
        "Created: 2; updated: 0; rows skipped: 1"
    )
    expect(page.locator(".transfer-bar span")).to_have_attribute("style", "width: 100%;")
    report = page.locator("[data-test=error-report]")
    expect(report).to_be_visible()
    shot(page, "finished")
    with page.expect_download() as download:
        report.click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == '"row","column","value","message"'
    assert lines[1].startswith('"3","Name"'), lines
    with records(platform, "fieldtest") as service:
        names = {r["name"]: r["city"] for r in service.list("company").records}
    assert names["深圳华为技术有限公司"] == "深圳" and names["ByteDance"] == "北京"
    page.get_by_role("link", name="Back to the list").click()
    page.get_by_role("link", name="ByteDance").click()
    created = page.locator(".rt-timeline .rt-event").first  # its history names the file
    expect(created).to_contain_text("Lin Wei created this record")
    expect(created.locator("[data-via]")).to_have_text("by import")
    expect(created.locator("[data-source]")).to_have_text("公司.csv")
    created.get_by_role("link", name="公司.csv").click()  # the importer gets to its page
    expect(page.locator("[data-count=created]")).to_have_text("2")
    with platform.db.engine.connect() as conn:
        sources = conn.scalars(
            sa.select(AuditEntry.source).where(
                AuditEntry.entity == "company", AuditEntry.via == "import"
            )
        ).all()
        import_id = conn.scalar(sa.select(Import.id))
    assert sources == [f"import:{import_id}"] * 2


def exported(page: Page, link: Locator) -> list[list[str]]:
    """Click ``link`` (a CSV export) and read the file it downloads."""
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_a_list_is_exported_as_it_is_seen_and_the_chosen_rows_alone(
    page: Page,
    crm: User,  # noqa: F811
    shot: Shot,
) -> None:
    sign_in(page, crm.email)
    page.goto(COMPANIES)
    page.get_by_label("Search", exact=True).fill("Shenzhen")
    page.get_by_label("Search", exact=True).press("Enter")
    expect(page.locator(".rt-table tbody tr")).to_have_count(2)
    page.locator("summary[aria-label=Export]").click()
    shot(page, "export-menu")
    table = exported(page, page.get_by_role("menuitem", name="CSV"))
    expect(page.get_by_role("menuitem", name="CSV")).to_be_hidden()  # chosen: the menu closes
    assert table[0][0] == "Name" and sorted(r[0] for r in table[1:]) == [
        "Huawei Technologies",
        "Tencent",
    ]
    with page.expect_download() as download:
        page.locator("summary[aria-label=Export]").click()
        page.get_by_role("menuitem", name="Excel (.xlsx)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).worksheets[0]
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == [
        "Huawei Technologies",
        "Tencent",
    ]
    page.goto(COMPANIES)
    for name in ("Alibaba Group", "Tencent"):
        page.locator(".rt-table tbody tr", has_text=name).locator("[data-row-check]").check()
    bar = page.locator("[data-bulkbar]")
    expect(bar).to_be_visible()
    shot(page, "export-selected")
    table = exported(page, bar.locator("[data-export-selected]"))
    assert sorted(r[0] for r in table[1:]) == ["Alibaba Group", "Tencent"]
