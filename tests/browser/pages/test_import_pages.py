"""Importing a spreadsheet in a real browser: from the list's Import button, a CSV saved by
Chinese Excel (GB18030) is uploaded, its columns are matched to fields by their labels, the
import starts, and the progress page follows the job to the end, shows the counts and the
rows sentence, and links the error report of a bad row.  Screenshots go to
``$TESSERA_TEST_ARTIFACTS/<test>/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tessera.platform.models import User
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
    expect(page.get_by_role("link", name="ByteDance")).to_be_visible()
