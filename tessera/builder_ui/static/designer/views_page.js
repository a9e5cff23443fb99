// The view designer: list columns (dragged between "shown" and "other fields"), default sort
// and filters, kanban grouping, calendar dates and a condition every record of the view meets.
import Sortable from "/static/vendor/sortable.esm.js";
import { h, jsonPath, labelText, nameOf, optionOf, page, t } from "./dom.js";
import { expressionInput, field, labelInputs, select, textInput } from "./properties.js";
import { initShell, showErrors } from "./shell.js";
import { createStore, watch } from "./state.js";
import * as steps from "./steps.js";

const store = createStore(page.doc, page.errors);
const root = document.getElementById("view-designer");
const list = document.getElementById("view-list");
const editor = document.getElementById("view-editor");
const ctx = { store, entityKey: page.entity, view: {} };
let current = null;
const NO_VALUE = new Set(["is_empty", "is_not_empty", "today", "this_week", "this_month"]);
const LISTS = new Set(["in", "not_in", "has_any", "has_all", "has_none"]);

const entity = () => steps.entityOf(store.doc, page.entity);
const fieldName = (f) => nameOf(f.label, f.key);

function renderList() {
  const e = steps.entityIndex(store.doc, page.entity);
  const views = entity().views || [];
  if (!views.some((v) => v.key === current)) current = views[0]?.key ?? null;
  list.replaceChildren(
    h("ul", { class: "view-items" }, views.map((v, i) =>
      h("li", {}, h("button", { type: "button", class: "view-item", "aria-pressed": String(v.key === current),
        "data-path": jsonPath(["entities", e, "views", i]), "data-view": v.key,
        onclick: () => { current = v.key; store.select({ view: v.key }); } },
      h("span", { class: "type-mark" }, { list: "☰", kanban: "▥", calendar: "31" }[v.type] || "?"),
      h("span", {}, labelText(v.label, v.key)), h("span", { class: "muted small" }, t(v.type)))))),
    h("div", { class: "view-add" }, h("p", { class: "label" }, t("Add a view")),
      ["list", "kanban", "calendar"].map((type) => h("button", { type: "button", class: "button button-small", "data-add-view": type,
        onclick: () => { current = store.apply((d) => steps.addView(d, page.entity, type)); store.select({ view: current }); } }, "+ ", t(type)))));
}

function renderEditor() {
  const e = steps.entityIndex(store.doc, page.entity);
  const ent = entity();
  const views = ent.views || [];
  const i = views.findIndex((v) => v.key === current);
  if (i < 0) { editor.replaceChildren(h("p", { class: "muted" }, t("This entity has no views yet. Add one on the left."))); return; }
  const v = views[i];
  const vp = jsonPath(["entities", e, "views", i]);
  const set = (patch, coalesce = null, structural = false) => store.apply((d) => steps.updateView(d, page.entity, v.key, patch), { coalesce, structural });
  const fieldOptions = (filter = () => true) => ent.fields.filter(filter).map((f) => [f.key, fieldName(f)]);
  const published = page.published && steps.entityOf(page.published, page.entity)?.views?.some((x) => x.key === v.key);

  // columns: shown (ordered) and the rest
  const shown = (v.columns || []).filter((k) => steps.fieldOf(ent, k));
  const chip = (k) => h("li", { class: "column-chip", "data-column": k }, h("span", { class: "option-handle", "aria-hidden": "true" }, "⋮⋮"), fieldName(steps.fieldOf(ent, k)));
  const shownList = h("ul", { class: "column-list", "data-path": `${vp}.columns`, "data-empty": t("Drag fields here") }, shown.map(chip));
  const otherList = h("ul", { class: "column-list column-list-other", "data-empty": t("Every field is shown") },
    ent.fields.filter((f) => !shown.includes(f.key) && f.type !== "child_table").map((f) => chip(f.key)));
  const sync = () => setTimeout(() => set({ columns: [...shownList.querySelectorAll("[data-column]")].map((el) => el.dataset.column) }, null, true), 0);
  for (const target of [shownList, otherList]) {
    Sortable.create(target, { group: "columns", animation: 150, forceFallback: true, fallbackOnBody: true, onSort: (evt) => { if (evt.to === target) sync(); } });
  }

  const sortRows = (v.sort || []).map((s, n) => h("li", { class: "rule-row", "data-path": `${vp}.sort[${n}]` },
    select(fieldOptions(), s.field, `${vp}.sort[${n}].field`, (value) => set({ sort: v.sort.map((x, m) => (m === n ? { ...x, field: value } : x)) }, null, true), { "aria-label": t("Field") }),
    select([["asc", t("Ascending")], ["desc", t("Descending")]], s.direction || "asc", `${vp}.sort[${n}].direction`,
      (value) => set({ sort: v.sort.map((x, m) => (m === n ? { ...x, direction: value } : x)) }), { "aria-label": t("Direction") }),
    h("button", { type: "button", class: "icon-button", "aria-label": t("Remove"), onclick: () => set({ sort: v.sort.filter((_, m) => m !== n) }, null, true) }, "×")));

  const filterRows = (v.filters || []).map((flt, n) => {
    const f = steps.fieldOf(ent, flt.field);
    const ops = f ? page.operators[f.type] || [] : [];
    const update = (patch) => set({ filters: v.filters.map((x, m) => (m === n ? { ...x, ...patch } : x)) }, `filter:${n}`, "op" in patch || "field" in patch);
    const shownValue = Array.isArray(flt.value) ? flt.value.join(", ") : flt.value ?? "";
    return h("li", { class: "rule-row", "data-path": `${vp}.filters[${n}]` },
      select(fieldOptions(), flt.field, `${vp}.filters[${n}].field`, (value) => update({ field: value, op: (page.operators[steps.fieldOf(ent, value).type] || ["is_empty"])[0], value: undefined }), { "aria-label": t("Field") }),
      select(ops.map((op) => [op, t(`op:${op}`)]), flt.op, `${vp}.filters[${n}].op`, (op) => update({ op, value: NO_VALUE.has(op) ? undefined : flt.value }), { "aria-label": t("Condition") }),
      NO_VALUE.has(flt.op) ? h("span") : textInput(shownValue, `${vp}.filters[${n}].value`, (text) => {
        let value = text;
        if (LISTS.has(flt.op) || flt.op === "between") value = text.split(",").map((x) => x.trim()).filter(Boolean);
        else if (f && ["integer", "decimal", "currency", "percent", "rating"].includes(f.type) && text.trim() && Number.isFinite(Number(text))) value = Number(text);
        update({ value });
      }, { "aria-label": t("Value"), placeholder: LISTS.has(flt.op) ? t("values, separated by commas") : "" }),
      h("button", { type: "button", class: "icon-button", "aria-label": t("Remove"), onclick: () => set({ filters: v.filters.filter((_, m) => m !== n) }, null, true) }, "×"));
  });

  const keyInput = textInput(v.key, `${vp}.key`, () => {}, { disabled: Boolean(published) });
  keyInput.addEventListener("change", () => {
    const next = keyInput.value.trim();
    if (!next || views.some((x) => x.key === next)) { keyInput.value = v.key; return; }
    store.apply((d) => {
      steps.updateView(d, page.entity, v.key, { key: next });
      for (const item of d.navigation || []) if (item.entity === page.entity && item.view === v.key) item.view = next;
    });
    current = next;
  });

  editor.replaceChildren(h("div", { class: "view-form", "data-path": vp },
    h("div", { class: "form-grid" },
      labelInputs(t("Name"), v.label, `${vp}.label`, (locale, text) => store.apply((d) => steps.setViewLabel(d, page.entity, v.key, locale, text), { coalesce: `view:${v.key}:${locale}`, structural: false }), "view-label"),
      h("div", { class: "form" },
        field(t("Key"), keyInput),
        field(t("Shown as"), select([["list", t("list")], ["kanban", t("kanban")], ["calendar", t("calendar")]], v.type, `${vp}.type`, (type) => set({ type }, null, true))))),
    h("section", { class: "view-block" }, h("h3", { class: "panel-subtitle" }, t("Columns")),
      h("p", { class: "help" }, t("Drag fields into the columns and into their order.")),
      h("div", { class: "columns-editor" },
        h("div", {}, h("p", { class: "label" }, t("Shown")), shownList),
        h("div", {}, h("p", { class: "label" }, t("Other fields")), otherList))),
    v.type === "kanban" ? h("section", { class: "view-block" }, h("h3", { class: "panel-subtitle" }, t("Board")),
      field(t("Group cards by"), select([["", "—"], ...fieldOptions((f) => f.type === "select")], v.group_by || "", `${vp}.group_by`, (value) => set({ group_by: value }, null, true)))) : null,
    v.type === "calendar" ? h("section", { class: "view-block" }, h("h3", { class: "panel-subtitle" }, t("Calendar")),
      h("div", { class: "form-grid" },
        field(t("Date"), select([["", "—"], ...fieldOptions((f) => ["date", "datetime"].includes(f.type))], v.date_field || "", `${vp}.date_field`, (value) => set({ date_field: value }, null, true))),
        field(t("End date"), select([["", "—"], ...fieldOptions((f) => ["date", "datetime"].includes(f.type))], v.end_date_field || "", `${vp}.end_date_field`, (value) => set({ end_date_field: value }, null, true))))) : null,
    h("section", { class: "view-block" }, h("h3", { class: "panel-subtitle" }, t("Default sort")),
      h("ul", { class: "rule-list", "data-path": `${vp}.sort` }, sortRows),
      h("button", { type: "button", class: "button button-small", "data-action": "add-sort", onclick: () => set({ sort: [...(v.sort || []), { field: ent.fields[0].key, direction: "asc" }] }, null, true) }, "+ ", t("Add sort"))),
    h("section", { class: "view-block" }, h("h3", { class: "panel-subtitle" }, t("Filters")),
      h("ul", { class: "rule-list", "data-path": `${vp}.filters` }, filterRows),
      h("button", { type: "button", class: "button button-small", "data-action": "add-filter", onclick: () => {
        const f = ent.fields[0];
        set({ filters: [...(v.filters || []), { field: f.key, op: (page.operators[f.type] || ["is_not_empty"])[0] }] }, null, true);
      } }, "+ ", t("Add filter")),
      field(t("Only records where"), expressionInput(ctx, { value: v.where, path: `${vp}.where`, kind: "condition", name: "view-where",
        placeholder: "owner = CURRENT_USER()", onInput: (value) => set({ where: value.trim() ? value : undefined }, `where:${v.key}`) }))),
    h("section", { class: "view-block" }, h("h3", { class: "panel-subtitle" }, t("Preview")), viewPreview(ent, v)),
    h("div", { class: "panel-danger" }, h("button", { type: "button", class: "button button-danger-quiet", onclick: () => {
      store.apply((d) => steps.removeView(d, page.entity, v.key));
      current = null;
    } }, t("Delete view")))));
}

function viewPreview(ent, v) {
  const columns = (v.columns || []).map((k) => steps.fieldOf(ent, k)).filter(Boolean);
  if (v.type === "kanban") {
    const group = steps.fieldOf(ent, v.group_by);
    const lanes = (group?.options || []).map((o) => optionOf(o)[1]);
    return h("div", { class: "kanban-preview" }, lanes.map((lane) => h("div", { class: "kanban-lane" }, h("p", { class: "label" }, lane),
      h("div", { class: "kanban-card" }, columns.slice(0, 3).map((c) => h("div", { class: "muted small" }, fieldName(c)))))));
  }
  if (v.type === "calendar") {
    return h("div", { class: "calendar-preview" }, Array.from({ length: 14 }, (_, n) => h("div", { class: "calendar-day" }, String(n + 1))));
  }
  return h("div", { class: "table-wrap" }, h("table", { class: "table table-compact" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, fieldName(c))))),
    h("tbody", {}, h("tr", {}, columns.map(() => h("td", { class: "muted" }, "…"))))));
}

// The list follows every change; the editor is rebuilt only when its structure changes, so
// typing in it never loses the caret.
watch(() => {
  void store.ui.version; void store.ui.selection;
  renderList();
  showErrors(root, store.rawErrors);
});
watch(() => {
  void store.ui.panel; void store.ui.selection;
  renderEditor();
  showErrors(root, store.rawErrors);
});
watch(() => { showErrors(root, store.ui.errors); });
initShell(store, {
  onLocate(error) {
    const [, e, kind, index] = error.path;
    const ent = store.doc.entities[e];
    if (ent?.key === page.entity && kind === "views" && ent.views?.[index]) { current = ent.views[index].key; store.select({ view: current }); }
    else if (ent) window.location.assign(page.urls.entity.replace("__entity__", encodeURIComponent(ent.key)));
  },
});
