// What every designer page shares: undo/redo (buttons and keys), the save status, the list of
// problems, and errors shown next to the element whose JSON path they carry.
import { h, jsonPath, t } from "./dom.js";
import { watch } from "./state.js";

/**
 * Put each error next to the elements it concerns: those whose data-path is the error's JSON
 * path or the longest prefix of it on the page (an option's input in the property panel), and
 * also elements for shorter prefixes elsewhere (the field's card on the canvas) — but never a
 * container of an element that already shows it.  Returns the errors that found no element.
 */
export function showErrors(root, errors) {
  for (const note of root.querySelectorAll(".problem-note")) note.remove();
  for (const el of root.querySelectorAll(".has-problem")) {
    el.classList.remove("has-problem");
    el.removeAttribute("aria-invalid");
  }
  const homeless = [];
  for (const error of errors) {
    const shown = [];
    for (let n = error.path.length; n > 0; n--) {
      const targets = root.querySelectorAll(`[data-path="${CSS.escape(jsonPath(error.path.slice(0, n)))}"]`);
      for (const el of targets) {
        if (shown.some((other) => el.contains(other) || other.contains(el))) continue;
        shown.push(el);
        el.classList.add("has-problem");
        const note = h("p", { class: "problem-note", role: "alert", "data-error-path": error.json_path }, error.message);
        if (el.matches("input, select, textarea")) {
          el.setAttribute("aria-invalid", "true");
          el.insertAdjacentElement("afterend", note);
        } else {
          (el.querySelector(":scope > .problem-slot") || el).append(note);
        }
      }
    }
    if (!shown.length) homeless.push(error);
  }
  return homeless;
}

const STATUS = { saved: "Saved", saving: "Saving…", pending: "Saving…", error: "Not saved" };

/** Wire the toolbar of a designer page to `store`; `rerender` redraws the page's parts. */
export function initShell(store, { onLocate } = {}) {
  const undo = document.getElementById("undo");
  const redo = document.getElementById("redo");
  const status = document.getElementById("save-status");
  const problems = document.getElementById("problems");
  const list = document.getElementById("problem-list");
  undo?.addEventListener("click", () => store.undo());
  redo?.addEventListener("click", () => store.redo());

  document.addEventListener("keydown", (event) => {
    const inText = event.target.closest("input, textarea, select, [contenteditable]");
    if (!(event.ctrlKey || event.metaKey) || inText) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) { event.preventDefault(); store.undo(); }
    else if ((key === "z" && event.shiftKey) || key === "y") { event.preventDefault(); store.redo(); }
  });

  watch(() => {
    const { canUndo, canRedo, status: state, errors } = store.ui;
    if (undo) undo.disabled = !canUndo;
    if (redo) redo.disabled = !canRedo;
    if (status) {
      status.textContent = t(STATUS[state] || "Saved");
      status.dataset.state = state;
      status.title = state === "error" ? store.ui.saveMessage || "" : "";
    }
    if (problems && list) {
      problems.hidden = errors.length === 0;
      problems.querySelector("[data-count]").textContent = String(errors.length);
      list.replaceChildren(
        ...errors.map((error) =>
          h("li", {},
            h("button", { type: "button", class: "problem-item", onclick: () => { problems.open = false; onLocate?.(error); } },
              h("span", { class: "problem-path" }, error.json_path),
              h("span", {}, error.message))))
      );
    }
  });

  // Links that leave the page wait for the last save (data-flush), and so does unloading.
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-flush]");
    if (!link || event.defaultPrevented || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    await store.flush();
    window.location.assign(link.href);
  });
  window.addEventListener("pagehide", () => store.flushOnUnload());
}
