// The form canvas: tabs, sections and fields as the form will be laid out.  Fields are
// reordered and moved between sections, columns and tabs by dragging (SortableJS); each drop
// becomes a designer step on the draft, and the canvas is drawn again from the document.
import Sortable from "/static/vendor/sortable.esm.js";
import { h, jsonPath, labelText, nameOf, t } from "./dom.js";
import { TYPES } from "./palette.js";
import * as steps from "./steps.js";

const SORTABLE = { animation: 150, forceFallback: true, fallbackOnBody: true, ghostClass: "drag-ghost", chosenClass: "drag-chosen" };

/** Apply a step after SortableJS has finished its own DOM work. */
const later = (fn) => setTimeout(fn, 0);

export function renderCanvas(root, ctx) {
  const { store, entityKey, view } = ctx;
  const doc = store.doc;
  const e = steps.entityIndex(doc, entityKey);
  const entity = doc.entities[e];
  const explicit = Boolean(entity.form?.sections?.length);
  const form = steps.effectiveForm(entity);
  const tabs = form.tabs || [];
  if (tabs.length && !tabs.some((tab) => tab.key === view.tab)) view.tab = tabs[0].key;
  if (!tabs.length) view.tab = null;
  const selection = store.ui.selection;
  const base = ["entities", e];

  const tabBar = h("div", { class: "canvas-tabs", role: "tablist", "data-path": jsonPath([...base, "form", "tabs"]) },
    tabs.map((tab, i) => {
      const button = h("button", {
        type: "button", role: "tab", class: "canvas-tab", "data-tab": tab.key,
        "aria-selected": String(tab.key === view.tab), "data-path": jsonPath([...base, "form", "tabs", i]),
        onclick: () => { view.tab = tab.key; store.select({ kind: "tab", key: tab.key }); },
      }, labelText(tab.label, tab.key));
      Sortable.create(button, {
        ...SORTABLE, group: { name: "tab-drop", pull: false, put: ["fields", "sections"] },
        onAdd: (evt) => { evt.item.remove(); later(() => dropOnTab(ctx, tab.key, evt.item)); },
      });
      return button;
    }),
    h("button", { type: "button", class: "button button-small canvas-add-tab", onclick: () => {
      const key = store.apply((d) => steps.addTab(d, entityKey));
      view.tab = key;
    } }, "+ ", t("Add tab")));

  const visible = form.sections
    .map((section, s) => ({ section, s }))
    .filter(({ section }) => !tabs.length || steps.sectionTab(form, section) === view.tab);

  const sectionList = h("div", { class: "canvas-sections" },
    visible.map(({ section, s }) => renderSection(ctx, entity, base, explicit, section, s, selection)));
  Sortable.create(sectionList, {
    ...SORTABLE, group: { name: "sections" }, handle: ".section-handle", draggable: ".canvas-section",
    onUpdate: (evt) => {
      const order = visible.map(({ s }) => s);
      const [moved] = order.splice(evt.oldIndex, 1);
      order.splice(evt.newIndex, 0, moved);
      later(() => store.apply((d) => reorderSections(d, entityKey, order)));
    },
  });

  const placed = new Set(form.sections.flatMap((s) => (s.fields || []).map(steps.placementKey)));
  const unplaced = entity.fields.filter((f) => !placed.has(f.key));
  const tray = h("div", { class: "drop-list unplaced-list", "data-section": "-1", "data-empty": t("Drag a field here to take it off the form") },
    unplaced.map((f) => renderPlacement(ctx, entity, base, f.key, null, 1, selection)));
  makeDropList(ctx, tray, -1);

  root.replaceChildren(
    tabBar,
    sectionList,
    h("button", { type: "button", class: "button canvas-add-section", onclick: () => {
      const s = store.apply((d) => steps.addSection(d, entityKey, view.tab));
      store.select({ kind: "section", index: s });
    } }, "+ ", t("Add section")),
    h("section", { class: "canvas-unplaced" },
      h("h3", { class: "canvas-subheading" }, t("Not on the form")),
      tray),
  );
}

function renderSection(ctx, entity, base, explicit, section, s, selection) {
  const { store } = ctx;
  const path = explicit ? jsonPath([...base, "form", "sections", s]) : null;
  const columns = section.columns || 1;
  const list = h("div", {
    class: `drop-list canvas-grid cols-${columns}`, "data-section": String(s),
    "data-empty": t("Drag fields here"),
  }, (section.fields || []).map((p, i) =>
    renderPlacement(ctx, entity, base, steps.placementKey(p), explicit ? [...base, "form", "sections", s, "fields", i] : null,
      Math.min(typeof p === "object" && p.span ? p.span : 1, columns), selection, p)));
  makeDropList(ctx, list, s);
  const selected = selection?.kind === "section" && selection.index === s;
  return h("section", { class: `canvas-section${selected ? " is-selected" : ""}`, "data-section-index": String(s), "data-path": path },
    h("header", { class: "canvas-section-head" },
      h("span", { class: "section-handle", title: t("Drag to move the section"), "aria-hidden": "true" }, "⋮⋮"),
      h("button", { type: "button", class: "section-title", "aria-pressed": String(selected),
        onclick: () => store.select({ kind: "section", index: s }) },
        labelText(section.label, t("Untitled section"))),
      section.visible_if ? h("span", { class: "chip chip-condition" }, t("Conditional")) : null,
      h("span", { class: "muted small" }, t("%(n)s columns", { n: columns }))),
    h("div", { class: "problem-slot" }),
    list);
}

function renderPlacement(ctx, entity, base, key, placementPath, span, selection, placement) {
  const { store } = ctx;
  const j = steps.fieldIndex(entity, key);
  const field = entity.fields[j];
  if (!field) {
    return h("div", { class: "placement placement-missing", "data-field": key, "data-path": placementPath ? jsonPath(placementPath) : null },
      h("span", { class: "muted" }, key));
  }
  const type = TYPES[field.type] || { mark: "?", name: field.type };
  const selected = selection?.kind === "field" && selection.key === key;
  const conditional = typeof placement === "object" && (placement.visible_if || placement.read_only_if);
  const card = h("div", {
    class: "placement" + (selected ? " is-selected" : "") + ` span-${span}`,
    "data-field": key, "data-path": placementPath ? jsonPath(placementPath) : null,
    tabindex: "0", role: "button", "aria-pressed": String(selected),
    "aria-label": `${nameOf(field.label, key)} (${type.name})`,
    onclick: () => store.select({ kind: "field", key }),
    onkeydown: (event) => onPlacementKey(ctx, event, key),
  },
  h("div", { class: "field-card", "data-path": jsonPath([...base, "fields", j]) },
    h("span", { class: "type-mark", "aria-hidden": "true" }, type.mark),
    h("span", { class: "field-card-text" },
      h("span", { class: "field-card-label" }, nameOf(field.label, key), field.required ? h("span", { class: "required-mark" }, " *") : null),
      h("span", { class: "field-card-meta" }, type.name, " · ", h("code", {}, key))),
    conditional ? h("span", { class: "chip chip-condition", title: placement.visible_if || placement.read_only_if }, t("Conditional")) : null,
    field.type === "child_table" && field.entity
      ? h("a", { class: "field-card-link", href: ctx.entityUrl(field.entity), "data-flush": "", onclick: (ev) => ev.stopPropagation() }, t("Row fields"))
      : null,
    h("div", { class: "problem-slot" })));
  return card;
}

function onPlacementKey(ctx, event, key) {
  const { store, entityKey } = ctx;
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    store.select({ kind: "field", key });
    document.getElementById("panel")?.querySelector("input, select, textarea")?.focus();
    return;
  }
  if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
  event.preventDefault();
  const form = steps.effectiveForm(steps.entityOf(store.doc, entityKey));
  const at = steps.locate(form, key);
  if (!at) return;
  const delta = event.key === "ArrowUp" ? -1 : 1;
  let { section, index } = at;
  index += delta;
  if (index < 0 && section > 0) { section -= 1; index = (form.sections[section].fields || []).length; }
  else if (index > (form.sections[section].fields || []).length - 1 && section < form.sections.length - 1 && delta > 0) {
    section += 1; index = 0;
  }
  store.apply((d) => steps.moveField(d, entityKey, key, section, Math.max(index, 0)));
  requestAnimationFrame(() => document.querySelector(`.placement[data-field="${CSS.escape(key)}"]`)?.focus());
}

/** Make `list` accept fields from the palette, other sections and the tray. */
function makeDropList(ctx, list, s) {
  const { store, entityKey } = ctx;
  Sortable.create(list, {
    ...SORTABLE,
    group: { name: "fields", pull: true, put: true },
    draggable: ".placement",
    onAdd: (evt) => {
      const type = evt.item.dataset.type;
      const key = evt.item.dataset.field;
      const index = evt.newIndex;
      later(() => {
        if (type) {
          const added = store.apply((d) => steps.addField(d, entityKey, type, TYPES[type].label, s, index));
          store.select({ kind: "field", key: added });
        } else if (key) {
          store.apply((d) => steps.moveField(d, entityKey, key, s, index));
        }
      });
    },
    onUpdate: (evt) => {
      const key = evt.item.dataset.field;
      if (s < 0 || !key) return ctx.rerender();
      later(() => store.apply((d) => steps.moveField(d, entityKey, key, s, evt.newIndex)));
    },
  });
}

function dropOnTab(ctx, tabKey, item) {
  const { store, entityKey, view } = ctx;
  if (item.dataset.field || item.dataset.type) {
    store.apply((d) => {
      const form = steps.ensureForm(steps.entityOf(d, entityKey));
      let s = form.sections.map((section, i) => [section, i]).filter(([section]) => steps.sectionTab(form, section) === tabKey).map(([, i]) => i).pop();
      if (s === undefined) s = steps.addSection(d, entityKey, tabKey);
      const fields = form.sections[s].fields || [];
      if (item.dataset.type) return steps.addField(d, entityKey, item.dataset.type, TYPES[item.dataset.type].label, s, fields.length);
      steps.moveField(d, entityKey, item.dataset.field, s, fields.length);
      return item.dataset.field;
    });
  } else if (item.dataset.sectionIndex !== undefined) {
    const from = Number(item.dataset.sectionIndex);
    store.apply((d) => steps.moveSection(d, entityKey, from, steps.ensureForm(steps.entityOf(d, entityKey)).sections.length, tabKey));
  }
  view.tab = tabKey;
  ctx.rerender();
}

/** Put the sections at global positions `order` (the visible ones, in their new order) back. */
function reorderSections(doc, entityKey, order) {
  const form = steps.ensureForm(steps.entityOf(doc, entityKey));
  const positions = [...order].sort((a, b) => a - b);
  const before = form.sections.slice();
  positions.forEach((position, k) => { form.sections[position] = before[order[k]]; });
}
