// Record forms: live conditions (visible_if / read_only_if, asked of the server so the page and
// the save agree), child tables (add, remove, reorder by drag or by buttons), file chips, the
// rich text editors, the unsaved-changes warning, focus on the first error and Ctrl/⌘+S to save.
import Sortable from "../../vendor/sortable.esm.js";
import { debounce, request, text } from "./shared.js";
import { initPickers } from "./picker.js";
import { revealField } from "./tabs.js";

function initRichText(scope) {
  // The editor (Trix, about 200 kB) loads only on forms that have a rich text field.
  if (!scope.querySelector("[data-rich-text]")) return;
  import("./richtext.js").then((module) => module.initRichText(scope));
}

export function initForm(root) {
  const form = root.querySelector("[data-record-form]");
  if (!form) return;
  initPickers(form);
  initRichText(form);
  for (const table of form.querySelectorAll("[data-child-table]")) initChildTable(table);
  initFiles(form);
  initConditions(form);
  initUnsaved(form);
  const firstError = form.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea");
  if (firstError) {
    revealField(firstError);
    firstError.focus();
  }
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      form.querySelector("[data-shortcut-save]")?.click();
    }
  });
}

function initConditions(form) {
  const url = form.dataset.evaluate;
  if (!url) return;
  const evaluate = debounce(async () => {
    const body = new FormData(form);
    for (const key of [...body.keys()]) if (key.endsWith(".upload")) body.delete(key);
    // Fields hidden or read-only right now are disabled, so FormData leaves them out; their
    // current inputs still count for conditions, so add them back.
    for (const field of form.querySelectorAll("fieldset[data-field]:disabled")) {
      for (const input of field.querySelectorAll("input[name], select[name], textarea[name]")) {
        if (input.type === "file" || ((input.type === "checkbox" || input.type === "radio") && !input.checked)) continue;
        if (input.tagName === "SELECT" && input.multiple) {
          for (const option of input.selectedOptions) body.append(input.name, option.value);
        } else body.append(input.name, input.value);
      }
    }
    const { ok, data } = await request(url, { method: "POST", form: body });
    if (!ok) return;
    const hidden = new Set(data.hidden);
    const readOnly = new Set(data.read_only);
    for (const field of form.querySelectorAll("fieldset[data-field]")) {
      const key = field.dataset.field;
      const fixed = field.dataset.fixedReadOnly === "1";
      field.hidden = hidden.has(key);
      field.disabled = hidden.has(key) || readOnly.has(key) || fixed;
    }
    const sections = new Set(data.sections);
    for (const section of form.querySelectorAll("[data-section]")) {
      section.hidden = sections.has(Number(section.dataset.section));
    }
  }, 250);
  form.addEventListener("input", evaluate);
  form.addEventListener("change", evaluate);
}

function initUnsaved(form) {
  let dirty = false;
  let submitting = false;
  const mark = () => { dirty = true; };
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  form.addEventListener("submit", () => { submitting = true; });
  window.addEventListener("beforeunload", (event) => {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  form.querySelector("[data-cancel]")?.addEventListener("click", (event) => {
    if (dirty && !window.confirm(text("textUnsaved"))) event.preventDefault();
    else dirty = false;
  });
}

function initChildTable(table) {
  const body = table.querySelector("[data-rows]");
  const template = table.querySelector("[data-row-template]");
  const name = table.dataset.name;
  const renumber = () => {
    // Names are <table>.<n>.<field>; n follows the visible order so the server keeps it.
    [...body.querySelectorAll("[data-row]")].forEach((row, n) => {
      // (input and toolbar: a rich text editor names its hidden input and toolbar by id)
      for (const node of row.querySelectorAll("[name], [id], [for], [aria-controls], [aria-describedby], [input], [toolbar]")) {
        for (const attr of ["name", "id", "for", "aria-controls", "aria-describedby", "input", "toolbar"]) {
          const value = node.getAttribute(attr);
          if (value) node.setAttribute(attr, value.replace(new RegExp(`(^|-|\\.)${name}([.-])(\\d+|__n__)([.-])`), `$1${name}$2${n}$4`));
        }
      }
    });
  };
  const changed = () => {
    renumber();
    table.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const addRow = (focus = true) => {
    const count = body.querySelectorAll("[data-row]").length;
    const html = template.innerHTML.replaceAll("__n__", String(count));
    body.insertAdjacentHTML("beforeend", html);
    const row = body.lastElementChild;
    initPickers(row);
    initRichText(row);
    if (!focus) return renumber();
    changed();
    row.querySelector("input:not([type=hidden]), select, textarea")?.focus();
  };
  table.querySelector("[data-add-row]").addEventListener("click", () => addRow());
  body.addEventListener("click", (event) => {
    const row = event.target.closest("[data-row]");
    if (!row) return;
    if (event.target.closest("[data-row-remove]")) {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      changed();
      (next?.querySelector("[data-row-remove]") || table.querySelector("[data-add-row]")).focus();
    } else if (event.target.closest("[data-row-up]") && row.previousElementSibling) {
      row.previousElementSibling.before(row);
      changed();
      row.querySelector("[data-row-up]").focus();
    } else if (event.target.closest("[data-row-down]") && row.nextElementSibling) {
      row.nextElementSibling.after(row);
      changed();
      row.querySelector("[data-row-down]").focus();
    }
  });
  Sortable.create(body, { handle: "[data-grip]", animation: 150, onEnd: changed });
  if (!body.querySelector("[data-row]")) addRow(false); // one empty row to type into
}

function initFiles(form) {
  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-file]");
    if (!button) return;
    const box = button.closest("[data-files]");
    button.closest("li").remove();
    box.dispatchEvent(new Event("change", { bubbles: true }));
    box.querySelector("input[type=file]")?.focus();
  });
  for (const drop of form.querySelectorAll(".rt-drop")) {
    const input = drop.querySelector("input[type=file]");
    drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("is-over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("is-over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("is-over");
      if (event.dataTransfer?.files?.length) {
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }
}
