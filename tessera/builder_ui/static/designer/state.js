// The designer's state: the draft document, undo/redo stacks, the validator's errors and the
// save status.  Alpine's reactivity (the one reactive library of the front end) carries the
// small observable part; the document itself is a plain object replaced at every step, so undo
// is "put the previous document back".  Alpine's directives are not used: they compile
// expressions with the Function constructor, which the Content-Security-Policy forbids.
import { Alpine } from "/static/vendor/alpine.esm.js";
import { clone, debounce, page, postJSON } from "./dom.js";

const HISTORY_LIMIT = 200;
const COALESCE_MS = 1500;

export function createStore(doc, errors) {
  // Reactive: what the page re-renders from.  `version` changes with every document change,
  // `panel` when the property panel must be rebuilt (selection or structure changed).
  const ui = Alpine.reactive({
    version: 0, panel: 0, selection: null, errors: errors || [], status: "saved",
    canUndo: false, canRedo: false,
  });
  const inner = { doc, past: [], future: [], lastCoalesce: null, lastAt: 0, pending: false };

  const save = async () => {
    inner.pending = false;
    ui.status = "saving";
    try {
      const answer = await postJSON(page.urls.draft, { doc: inner.doc });
      if (!inner.pending) ui.status = "saved";
      ui.errors = answer.errors || [];
    } catch (error) {
      ui.status = "error";
      ui.saveMessage = error.message;
      if (error.status !== 400 && error.status !== 413) setTimeout(() => saveSoon(), 3000);
    }
  };
  const saveSoon = debounce(save, 350);

  function changed(structural) {
    ui.version++;
    if (structural) ui.panel++;
    ui.canUndo = inner.past.length > 0;
    ui.canRedo = inner.future.length > 0;
    inner.pending = true;
    ui.status = "pending";
    saveSoon();
  }

  const store = {
    ui,
    get doc() { return inner.doc; },
    /** The current errors without subscribing to them (for renderers that must not re-run). */
    get rawErrors() { return Alpine.raw(ui).errors; },
    /**
     * Apply `step(doc)` to a copy of the document and keep the result.  Steps with the same
     * `coalesce` key in quick succession (typing a label) make one undo entry.  `structural`
     * rebuilds the property panel.  Returns what the step returned.
     */
    apply(step, { coalesce = null, structural = true } = {}) {
      const next = clone(inner.doc);
      const result = step(next);
      const now = Date.now();
      const merge = coalesce && coalesce === inner.lastCoalesce && now - inner.lastAt < COALESCE_MS;
      if (!merge) {
        inner.past.push(inner.doc);
        if (inner.past.length > HISTORY_LIMIT) inner.past.shift();
      }
      inner.lastCoalesce = coalesce;
      inner.lastAt = now;
      inner.future = [];
      inner.doc = next;
      changed(structural);
      return result;
    },
    undo() {
      if (!inner.past.length) return;
      inner.future.push(inner.doc);
      inner.doc = inner.past.pop();
      inner.lastCoalesce = null;
      changed(true);
    },
    redo() {
      if (!inner.future.length) return;
      inner.past.push(inner.doc);
      inner.doc = inner.future.pop();
      inner.lastCoalesce = null;
      changed(true);
    },
    /** Change the selection without rebuilding the panel (the panel itself renamed it). */
    reselect(selection) {
      Alpine.raw(ui).selection = selection;
    },
    select(selection) {
      ui.selection = selection;
      ui.panel++;
    },
    /** Save now if a save is waiting (before leaving the page). */
    async flush() {
      if (inner.pending || ui.status === "pending") {
        saveSoon.cancel();
        await save();
      }
    },
    /** Send the pending draft even while the page unloads. */
    flushOnUnload() {
      if (!inner.pending) return;
      saveSoon.cancel();
      fetch(page.urls.draft, {
        method: "POST", keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "application/json",
                   "X-CSRFToken": document.querySelector('meta[name="csrf-token"]')?.content ?? "" },
        body: JSON.stringify({ doc: inner.doc }),
      });
    },
  };
  return store;
}

/** Run `render` now and whenever the reactive values it reads change. */
export const watch = (render) => Alpine.effect(render);
