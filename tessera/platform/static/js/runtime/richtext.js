// Rich text fields: the form ships a plain <textarea> (it works without JavaScript); here it
// becomes a Trix editor with a toolbar (bold, italic, links, heading, lists…).  The editor
// writes its HTML into a hidden input carrying the textarea's name, so the form posts the same
// field either way, and the server cleans it with nh3 before storing it.  Files cannot be
// dropped into the text (attachments have their own fields).
import Trix from "../../vendor/trix.esm.js";

const LANG_KEYS = ["bold", "italic", "strike", "link", "heading1", "quote", "code", "bullets",
  "numbers", "outdent", "indent", "undo", "redo", "unlink", "url", "urlPlaceholder", "remove"];

let prepared = false;

function prepare(box) {
  if (prepared) return;
  prepared = true;
  // Toolbar text comes translated from the server (data-text-<key> on the field's box).
  for (const key of LANG_KEYS) {
    const value = box.dataset[`text${key[0].toUpperCase()}${key.slice(1)}`];
    if (value) Trix.config.lang[key] = value;
  }
  document.addEventListener("trix-file-accept", (event) => event.preventDefault());
}

export function initRichText(root) {
  for (const box of root.querySelectorAll("[data-rich-text]:not([data-ready])")) {
    const source = box.querySelector("textarea");
    if (!source || source.name.includes("__n__")) continue; // a child-table row template
    prepare(box);
    box.dataset.ready = "1";
    const id = source.id;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = source.name;
    hidden.id = `${id}-html`;
    hidden.value = source.value;
    const toolbar = document.createElement("trix-toolbar");
    toolbar.id = `${id}-toolbar`;
    const editor = document.createElement("trix-editor");
    editor.setAttribute("input", hidden.id);
    editor.setAttribute("toolbar", toolbar.id);
    editor.id = id;
    editor.className = "rt-rich-input";
    const label = document.querySelector(`label[for="${CSS.escape(id)}"]`);
    if (label) editor.setAttribute("aria-label", label.textContent.trim());
    for (const attr of ["aria-describedby", "aria-invalid", "aria-required"]) {
      if (source.hasAttribute(attr)) editor.setAttribute(attr, source.getAttribute(attr));
    }
    source.replaceWith(hidden, toolbar, editor);
    editor.addEventListener("trix-initialize", () => rovingToolbar(toolbar), { once: true });
    followLock(editor);
    // Changes bubble as "input" so live conditions and the unsaved-changes warning see them.
    editor.addEventListener("trix-change", () => {
      hidden.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
}

function followLock(editor) {
  // A field turned read-only (by the role, or live by read_only_if) disables its fieldset, which
  // disables the toolbar's buttons but not a contenteditable element: follow the fieldset, so
  // the text cannot be changed from the keyboard either.
  const fieldset = editor.closest("fieldset");
  if (!fieldset) return;
  const sync = () => {
    editor.contentEditable = String(!fieldset.disabled);
    editor.setAttribute("aria-readonly", String(fieldset.disabled));
  };
  new MutationObserver(sync).observe(fieldset, { attributes: true, attributeFilter: ["disabled"] });
  editor.addEventListener("trix-initialize", sync, { once: true });
  sync();
}

function rovingToolbar(toolbar) {
  // One Tab stop for the whole toolbar; ← / → / Home / End move between its buttons
  // (the WAI-ARIA toolbar pattern).  Trix's own shortcuts (Ctrl+B, Ctrl+I, Ctrl+K) still work.
  const row = toolbar.querySelector(".trix-button-row");
  if (!row) return;
  row.setAttribute("role", "toolbar");
  row.setAttribute("aria-label", toolbar.nextElementSibling?.getAttribute("aria-label") || "");
  // (not by visibility: the editor may start on a hidden tab of the form)
  const buttons = () => [...row.querySelectorAll("button")].filter(
    (b) => !b.disabled && !b.closest(".trix-button-group--file-tools"),
  );
  const focusable = (current) => {
    for (const button of buttons()) button.tabIndex = button === current ? 0 : -1;
  };
  focusable(buttons()[0]);
  row.addEventListener("keydown", (event) => {
    const list = buttons();
    const index = list.indexOf(event.target);
    if (index < 0) return;
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: list.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = list[(next + list.length) % list.length];
    focusable(target);
    target.focus();
  });
  row.addEventListener("focusin", (event) => {
    if (event.target.matches("button")) focusable(event.target);
  });
}
