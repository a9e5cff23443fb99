// Entry point of the runtime pages: wires each page's behaviour to its markup.
import { root } from "./shared.js";
import { initTabs } from "./tabs.js";
import { initList } from "./list.js";
import { initForm } from "./form.js";
import { initBoard } from "./kanban.js";
import { initCalendar } from "./calendar.js";

document.documentElement.classList.add("js");

function initShortcuts() {
  // "/" focuses search, "n" opens a new record, "e" edits; arrows page the calendar.
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey) return;
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable], [data-card]")) return;
    const match = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
    if (!match) return;
    event.preventDefault();
    if (match.matches("input")) match.focus();
    else match.click();
  });
}

function initAutosubmit() {
  for (const select of document.querySelectorAll("[data-autosubmit]")) {
    select.addEventListener("change", () => select.form?.requestSubmit());
  }
}

function initConfirmClick() {
  // Buttons with data-confirm-click ask before their form submits (bulk delete).
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-confirm-click]");
    if (button && !window.confirm(button.dataset.confirmClick)) event.preventDefault();
  });
}

if (root) {
  initShortcuts();
  initAutosubmit();
  initConfirmClick();
  initTabs(document);
  initList(document);
  initForm(document);
  initBoard(document);
  initCalendar(document);
}
