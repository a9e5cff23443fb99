// The list page: row selection with the bulk bar, the total count (fetched after the page
// shows, so a big table's first page is not held up by COUNT), and the filter builder.
import { request, text } from "./shared.js";
import { initFilterBuilder } from "./filters.js";
import { initPickers } from "./picker.js";

export function initList(root) {
  const list = root.querySelector("[data-list]");
  if (!list) return;
  initSelection(list);
  initBulkValue(list);
  initCount(list);
  const builder = list.querySelector("[data-filter-builder]");
  const meta = document.getElementById("rt-fields");
  if (builder && meta) initFilterBuilder(builder, JSON.parse(meta.textContent));
}

function initSelection(list) {
  const bar = list.querySelector("[data-bulkbar]");
  const all = list.querySelector("[data-select-all]");
  const checks = () => [...list.querySelectorAll("[data-row-check]")];
  const exportLink = list.querySelector("[data-export-selected]");
  const baseExport = exportLink?.getAttribute("href");
  const update = () => {
    const chosen = checks().filter((c) => c.checked);
    if (bar) bar.hidden = chosen.length === 0;
    const count = list.querySelector("[data-selected-count]");
    if (count) count.textContent = text("textSelected", { n: chosen.length }) || list.dataset.textSelected.replace("{n}", chosen.length);
    if (all) {
      all.checked = chosen.length > 0 && chosen.length === checks().length;
      all.indeterminate = chosen.length > 0 && chosen.length < checks().length;
    }
    if (exportLink && baseExport) {
      const ids = chosen.map((c) => `ids=${encodeURIComponent(c.value)}`).join("&");
      exportLink.setAttribute("href", `${baseExport}&${ids}`);
    }
  };
  all?.addEventListener("change", () => {
    for (const check of checks()) check.checked = all.checked;
    update();
  });
  list.addEventListener("change", (event) => {
    if (event.target.matches("[data-row-check]")) update();
  });
  // Shift-click selects a range, as in every spreadsheet.
  let last = null;
  list.addEventListener("click", (event) => {
    const check = event.target.closest("[data-row-check]");
    if (!check) return;
    const boxes = checks();
    if (event.shiftKey && last) {
      const [a, b] = [boxes.indexOf(last), boxes.indexOf(check)].sort((x, y) => x - y);
      for (const box of boxes.slice(a, b + 1)) box.checked = check.checked;
      update();
    }
    last = check;
  });
  update();
}

async function initCount(list) {
  const target = list.querySelector("[data-total]");
  const url = list.dataset.countUrl;
  if (!target || !url) return;
  const { ok, data } = await request(url);
  if (ok && typeof data.total === "number") {
    target.textContent = list.dataset.textRecords.replace("{n}", data.total.toLocaleString(document.documentElement.lang));
  }
}

function initBulkValue(list) {
  // Bulk edit's value: the chosen field's own input (a select's options, a date picker, a
  // link search, a yes/no switch…), copied from the <template> the server rendered for it.
  const field = list.querySelector("[data-bulk-field]");
  const slot = list.querySelector("[data-bulk-value]");
  if (!field || !slot) return;
  const swap = () => {
    const template = list.querySelector(`template[data-bulk-template="${CSS.escape(field.value)}"]`);
    if (!template) return;
    slot.replaceChildren(template.content.cloneNode(true));
    initPickers(slot);
  };
  field.addEventListener("change", () => {
    swap();
    slot.querySelector("input:not([type=hidden]), select, textarea")?.focus();
  });
  swap();
}
