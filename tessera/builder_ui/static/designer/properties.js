// The property panel: everything about the selected field, section or tab.  Each input is a
// designer step (typing coalesces into one undo entry) and carries the JSON path of what it
// edits, so the validator's errors appear right under it.  Formulas and conditions are checked
// live against the document being edited.
import Sortable from "/static/vendor/sortable.esm.js";
import { debounce, h, jsonPath, labelText, nameOf, optionOf, page, postJSON, t } from "./dom.js";
import { TYPES } from "./palette.js";
import * as steps from "./steps.js";

const LOCALE_NAMES = { en: "English", "zh-CN": "中文" };
const RESULTS = ["number", "decimal", "currency", "text", "boolean", "date", "datetime"];
const AGGREGATES = ["count", "sum", "min", "max", "avg"];
let uid = 0;
const nextId = (name) => `prop-${name}-${++uid}`;

// -- small form controls ------------------------------------------------------------------------

export function field(labelText_, control, help) {
  const target = control.matches("input, select, textarea") ? control : control.querySelector("input, select, textarea") || control;
  const id = target.id || (target.id = nextId("f"));
  return h("div", { class: "field" },
    h("label", { class: "label", for: id }, labelText_), control,
    help ? h("p", { class: "help" }, help) : null);
}

export function textInput(value, path, onInput, attrs = {}) {
  return h("input", { class: "input", value: value ?? "", "data-path": path, oninput: (e) => onInput(e.target.value), ...attrs });
}

function checkbox(label, checked, path, onChange) {
  return h("label", { class: "check", "data-path": path },
    h("input", { type: "checkbox", checked, onchange: (e) => onChange(e.target.checked) }), h("span", {}, label));
}

export function select(options, value, path, onChange, attrs = {}) {
  return h("select", { class: "select", "data-path": path, onchange: (e) => onChange(e.target.value), ...attrs },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

/** One input per locale for a label; `set(locale, text)` applies the step. */
export function labelInputs(title, label, path, set, name) {
  return h("fieldset", { class: "field locale-group" },
    h("legend", { class: "label" }, title),
    page.locales.map((locale) => {
      const value = typeof label === "string" ? (locale === "en" ? label : "") : label?.[locale] ?? "";
      const input = h("input", {
        class: "input", lang: locale, value, "data-path": path, "data-locale": locale, name: `${name}-${locale}`,
        oninput: (e) => set(locale, e.target.value),
      });
      const id = input.id = nextId("label");
      return h("div", { class: "locale-row" }, h("label", { class: "locale-tag", for: id }, LOCALE_NAMES[locale] || locale), input);
    }));
}

/**
 * A formula or condition editor with a live check: the answer ("gives a number", or the
 * problem and where it is) shows under the text as the builder types.
 */
export function expressionInput(ctx, { value, path, kind, result, onInput, placeholder, name }) {
  const area = h("textarea", { class: "input formula-input", rows: "2", spellcheck: "false", value: value ?? "", placeholder, "data-path": path, name });
  const status = h("p", { class: "formula-status", "aria-live": "polite" });
  const run = debounce(async () => {
    const source = area.value;
    if (!source.trim()) { status.textContent = ""; status.dataset.state = ""; return; }
    try {
      const answer = await postJSON(page.urls.check, { doc: ctx.store.doc, entity: ctx.entityKey, source, kind, result: result?.() });
      if (answer.ok) {
        status.dataset.state = "ok";
        status.textContent = answer.checked ? t("Looks right: gives %(type)s", { type: answer.type }) : t("The syntax is right");
      } else {
        status.dataset.state = "error";
        const first = answer.errors[0];
        status.replaceChildren(
          h("span", {}, first.message),
          h("code", { class: "formula-where" }, source.slice(0, first.start), h("mark", {}, source.slice(first.start, Math.max(first.end, first.start + 1)) || " "), source.slice(Math.max(first.end, first.start + 1))));
      }
    } catch (error) {
      status.dataset.state = "error";
      status.textContent = error.message;
    }
  }, 250);
  area.addEventListener("input", () => { onInput(area.value); run(); });
  if (area.value) run();
  return h("div", { class: "formula-editor" }, area, status);
}

// -- the panel ------------------------------------------------------------------------------------

export function renderPanel(root, ctx) {
  const { store, entityKey } = ctx;
  const doc = store.doc;
  const e = steps.entityIndex(doc, entityKey);
  const entity = doc.entities[e];
  const selection = store.ui.selection;
  let body;
  if (selection?.kind === "field" && steps.fieldOf(entity, selection.key)) body = fieldPanel(ctx, entity, e, selection.key);
  else if (selection?.kind === "section" && steps.effectiveForm(entity).sections[selection.index]) body = sectionPanel(ctx, entity, e, selection.index);
  else if (selection?.kind === "tab" && (entity.form?.tabs || []).some((tab) => tab.key === selection.key)) body = tabPanel(ctx, entity, e, selection.key);
  else body = entityPanel(ctx, entity, e);
  root.replaceChildren(body);
}

function entityPanel(ctx, entity, e) {
  const { store, entityKey } = ctx;
  const base = jsonPath(["entities", e]);
  const apply = (fn, prop) => store.apply(fn, { coalesce: `entity:${prop}`, structural: false });
  return h("div", { class: "panel-body" },
    h("h2", { class: "panel-title" }, t("Entity")),
    h("p", { class: "help" }, t("Select a field, a section or a tab to change it.")),
    labelInputs(t("Name"), entity.label, `${base}.label`, (locale, text) => apply((d) => steps.setEntityLabel(d, entityKey, "label", locale, text), `label-${locale}`), "entity-label"),
    labelInputs(t("Plural name"), entity.plural_label, `${base}.plural_label`, (locale, text) => apply((d) => steps.setEntityLabel(d, entityKey, "plural_label", locale, text), `plural-${locale}`), "entity-plural"),
    field(t("Field that names a record"), select([["", t("(none)")], ...entity.fields.map((f) => [f.key, nameOf(f.label, f.key)])], entity.title || "", `${base}.title`,
      (value) => store.apply((d) => steps.updateEntity(d, entityKey, { title: value || undefined }), { structural: false }))),
    h("p", { class: "help" }, t("Entity key"), ": ", h("code", {}, entity.key)));
}

function fieldPanel(ctx, entity, e, key) {
  const { store, entityKey } = ctx;
  const j = steps.fieldIndex(entity, key);
  const f = entity.fields[j];
  const type = TYPES[f.type] || { name: f.type, mark: "?" };
  const fp = jsonPath(["entities", e, "fields", j]);
  const published = ctx.publishedField(entityKey, key);
  const form = steps.effectiveForm(entity);
  const at = steps.locate(form, key);
  const placement = at ? form.sections[at.section].fields[at.index] : null;
  const pp = at ? jsonPath(["entities", e, "form", "sections", at.section, "fields", at.index]) : null;
  const set = (patch, prop, structural = false) =>
    store.apply((d) => steps.updateField(d, entityKey, key, patch), { coalesce: `field:${key}:${prop}`, structural });
  // Until the app is published, a key the builder has not typed follows the English label.
  const follows = (x) => {
    if (published) return false;
    const automatic = [steps.slugify(x.label?.en), steps.slugify(TYPES[x.type]?.label?.en), x.type].filter(Boolean);
    return automatic.some((base) => new RegExp(`^${base}(_\\d+)?$`).test(x.key));
  };
  const setLabel = (prop) => (locale, text) => {
    const coalesce = `field:${j}:${prop}:${locale}`;
    store.apply((d) => {
      const ent = steps.entityOf(d, entityKey);
      const before = steps.fieldOf(ent, key);
      const rename = prop === "label" && locale === "en" && !published && follows(before);
      steps.setFieldLabel(d, entityKey, key, prop, locale, text);
      if (!rename) return;
      const next = steps.uniqueKey(steps.slugify(text) || before.type, ent.fields.filter((x) => x !== before).map((x) => x.key));
      if (next === key) return;
      steps.renameField(d, entityKey, key, next);
      key = next;
      keyInput.value = next;
      store.reselect({ kind: "field", key: next });
    }, { coalesce, structural: false });
  };

  const parts = [
    h("div", { class: "panel-head" },
      h("span", { class: "type-mark", "aria-hidden": "true" }, type.mark),
      h("div", {}, h("h2", { class: "panel-title" }, nameOf(f.label, key)), h("p", { class: "muted small" }, type.name))),
    labelInputs(t("Label"), f.label, `${fp}.label`, setLabel("label"), "field-label"),
  ];

  const keyInput = textInput(f.key, `${fp}.key`, () => {}, { name: "field-key", disabled: Boolean(published), pattern: "[a-z][a-z0-9_]*" });
  keyInput.addEventListener("change", () => {
    const next = keyInput.value.trim();
    if (!next || next === key) return;
    if (entity.fields.some((other) => other.key === next)) { keyInput.value = key; return; }
    store.apply((d) => steps.renameField(d, entityKey, key, next));
    store.select({ kind: "field", key: next });
  });
  parts.push(field(t("Key"), keyInput, published ? t("The key cannot change once the app is published.") : t("Used in formulas and the API: lowercase letters, digits and _.")));

  const live = () => steps.fieldOf(steps.entityOf(store.doc, entityKey), key);
  parts.push(...typeSettings(ctx, entity, f, fp, set, live));

  if (!type.computed) {
    parts.push(h("div", { class: "check-list panel-checks" },
      checkbox(t("Required"), Boolean(f.required), `${fp}.required`, (v) => set({ required: v || undefined }, "required")),
      !["child_table", "multi_link", "location", "attachment", "image", "json", "multi_select", "long_text", "rich_text"].includes(f.type)
        ? checkbox(t("Unique"), Boolean(f.unique), `${fp}.unique`, (v) => set({ unique: v || undefined }, "unique")) : null,
      checkbox(t("Read only"), Boolean(f.read_only), `${fp}.read_only`, (v) => set({ read_only: v || undefined }, "read_only"))));
    const defaultControl = defaultInput(f, `${fp}.default`, (value) => set({ default: value }, "default"));
    if (defaultControl) parts.push(field(t("Default value"), defaultControl));
  }
  parts.push(labelInputs(t("Help text"), f.help, `${fp}.help`, setLabel("help"), "field-help"));

  if (at) {
    const columns = form.sections[at.section].columns || 1;
    parts.push(h("h3", { class: "panel-subtitle" }, t("On the form")));
    parts.push(field(t("Visible when"), expressionInput(ctx, {
      value: typeof placement === "object" ? placement.visible_if : "", path: `${pp}.visible_if`, kind: "condition", name: "visible-if",
      placeholder: t('e.g. status = "open"'),
      onInput: (value) => store.apply((d) => steps.updatePlacement(d, entityKey, key, { visible_if: value.trim() ? value : undefined }), { coalesce: `placement:${key}:visible`, structural: false }),
    }), t("Leave empty to always show the field.")));
    parts.push(field(t("Read only when"), expressionInput(ctx, {
      value: typeof placement === "object" ? placement.read_only_if : "", path: `${pp}.read_only_if`, kind: "condition", name: "read-only-if",
      onInput: (value) => store.apply((d) => steps.updatePlacement(d, entityKey, key, { read_only_if: value.trim() ? value : undefined }), { coalesce: `placement:${key}:readonly`, structural: false }),
    })));
    if (columns > 1) {
      parts.push(field(t("Width"), select(Array.from({ length: columns }, (_, i) => [String(i + 1), t("%(n)s of %(m)s columns", { n: i + 1, m: columns })]),
        String(typeof placement === "object" && placement.span ? placement.span : 1), `${pp}.span`,
        (v) => store.apply((d) => steps.updatePlacement(d, entityKey, key, { span: v === "1" ? undefined : Number(v) }), { structural: false }))));
    }
  }
  const sections = form.sections.map((section, s) => [String(s), labelText(section.label, `${t("Untitled section")} ${s + 1}`)]);
  parts.push(field(t("Section"), select([["-1", t("Not on the form")], ...sections], String(at ? at.section : -1), null,
    (v) => store.apply((d) => steps.moveField(d, entityKey, key, Number(v), 9999))), t("You can also drag the field.")));
  parts.push(h("div", { class: "panel-danger" },
    h("button", { type: "button", class: "button button-danger-quiet", "data-action": "delete-field", onclick: () => {
      store.apply((d) => steps.removeField(d, entityKey, key));
      store.select(null);
    } }, t("Delete field")),
    published ? h("p", { class: "help" }, t("Publishing will ask you to confirm: the column is kept aside, and a rollback brings its data back.")) : null));
  return h("div", { class: "panel-body", "data-path": fp }, ...parts);
}

function defaultInput(f, path, onChange) {
  const plain = ["text", "long_text", "email", "phone", "url", "integer", "decimal", "currency", "percent", "rating", "date", "time"];
  if (f.type === "boolean") {
    return select([["", t("(none)")], ["true", t("Yes")], ["false", t("No")]], f.default === undefined ? "" : String(f.default), path,
      (v) => onChange(v === "" ? undefined : v === "true"));
  }
  if (f.type === "select") {
    return select([["", t("(none)")], ...(f.options || []).map(optionOf)], f.default ?? "", path, (v) => onChange(v || undefined));
  }
  if (!plain.includes(f.type)) return null;
  const numeric = ["integer", "decimal", "currency", "percent", "rating"].includes(f.type);
  const input = textInput(f.default ?? "", path, (v) => {
    if (!v.trim()) return onChange(undefined);
    onChange(numeric && f.type !== "decimal" && f.type !== "currency" && Number.isFinite(Number(v)) ? Number(v) : v);
  }, { type: f.type === "date" ? "date" : f.type === "time" ? "time" : "text", inputmode: numeric ? "decimal" : null });
  return input;
}

function entityChoices(doc, predicate) {
  return doc.entities.filter(predicate).map((x) => [x.key, nameOf(x.label, x.key)]);
}

function typeSettings(ctx, entity, f, fp, set, live) {
  const { store } = ctx;
  const doc = store.doc;
  const number = (label, prop, attrs = {}) => field(label, textInput(f[prop] ?? "", `${fp}.${prop}`, (v) => set({ [prop]: v.trim() === "" ? undefined : Number(v) }, prop), { type: "number", ...attrs }));
  switch (f.type) {
    case "text": return [number(t("Longest text"), "max_length", { min: 1, max: 4000, placeholder: "255" })];
    case "integer": return [number(t("Smallest"), "min"), number(t("Largest"), "max")];
    case "decimal": return [number(t("Digits in total"), "precision", { placeholder: "18" }), number(t("Digits after the point"), "scale", { placeholder: "2" })];
    case "currency": return [
      field(t("Currency"), textInput(f.currency ?? "", `${fp}.currency`, (v) => set({ currency: v.trim().toUpperCase() || undefined }, "currency"), { placeholder: "CNY", maxlength: 3 })),
      number(t("Digits after the point"), "scale", { placeholder: "2" })];
    case "percent": return [number(t("Digits after the point"), "scale", { placeholder: "2" })];
    case "rating": return [number(t("Highest rating"), "max", { min: 1, max: 10, placeholder: "5" })];
    case "select":
    case "multi_select": return [optionsEditor(ctx, f, fp, set, live)];
    case "link":
    case "multi_link": return [field(t("Links to"), select(entityChoices(doc, (x) => !x.child), f.entity, `${fp}.entity`, (v) => set({ entity: v }, "entity", true)))];
    case "child_table": return [
      field(t("Rows are"), select(entityChoices(doc, (x) => x.child), f.entity, `${fp}.entity`, (v) => set({ entity: v }, "entity", true))),
      h("a", { class: "button button-small", href: ctx.entityUrl(f.entity), "data-flush": "" }, t("Edit the row fields"))];
    case "auto_number": return [field(t("Pattern"), textInput(f.pattern, `${fp}.pattern`, (v) => set({ pattern: v }, "pattern")), t("e.g. QT-{YYYY}-{0000}"))];
    case "formula": {
      let result = f.result || "number";
      return [
        field(t("Formula"), expressionInput(ctx, { value: f.formula, path: `${fp}.formula`, kind: "formula", name: "formula", result: () => result,
          placeholder: "hours * 80", onInput: (v) => set({ formula: v }, "formula") })),
        field(t("Result"), select(RESULTS.map((r) => [r, t(r)]), result, `${fp}.result`, (v) => { result = v; set({ result: v }, "result"); })),
      ];
    }
    case "rollup": return [
      field(t("Source"), textInput(f.source, `${fp}.source`, (v) => set({ source: v }, "source")), t("A child table field, or entity.link_field pointing here")),
      field(t("Aggregate"), select(AGGREGATES.map((a) => [a, t(a)]), f.aggregate, `${fp}.aggregate`, (v) => set({ aggregate: v }, "aggregate"))),
      field(t("Field"), textInput(f.field ?? "", `${fp}.field`, (v) => set({ field: v || undefined }, "field")))];
    case "lookup": return [
      field(t("Through the link"), select([["", "—"], ...entity.fields.filter((x) => x.type === "link").map((x) => [x.key, nameOf(x.label, x.key)])], f.link, `${fp}.link`, (v) => set({ link: v }, "link", true))),
      field(t("Field"), textInput(f.field ?? "", `${fp}.field`, (v) => set({ field: v }, "field")))];
    case "attachment":
    case "image": return [number(t("Most files"), "max_files", { min: 1, max: 100, placeholder: "20" })];
    default: return [];
  }
}

/** Options of a select: key and label per locale, reordered by dragging, added and removed. */
function optionsEditor(ctx, f, fp, set, live) {
  const normal = (list) => (list || []).map((o) => (typeof o === "string" ? { key: o } : o));
  const options = normal(f.options);
  // `set` follows the field even when its key changes while the panel is open
  const write = (next, structural = false, coalesce = null) => set({ options: next }, coalesce || "options", structural);
  const rows = options.map((option, n) => {
    const path = `${fp}.options[${n}]`;
    const change = (patch, what) => {
      const next = steps.clone(normal(live().options));
      Object.assign(next[n], patch);
      for (const locale of page.locales) if (next[n].label && !next[n].label[locale]) delete next[n].label[locale];
      if (next[n].label && !Object.keys(next[n].label).length) delete next[n].label;
      write(next, false, `option:${n}:${what}`);
    };
    return h("li", { class: "option-row", "data-path": path },
      h("span", { class: "option-handle", title: t("Drag to reorder"), "aria-hidden": "true" }, "⋮⋮"),
      h("div", { class: "option-inputs" },
        page.locales.map((locale) => h("input", {
          class: "input input-small", lang: locale, value: option.label?.[locale] ?? "", placeholder: LOCALE_NAMES[locale],
          "aria-label": `${t("Option label")} (${LOCALE_NAMES[locale]})`, "data-path": `${path}.label`, name: `option-${n}-${locale}`,
          oninput: (e) => change({ label: { ...(normal(live().options)[n].label || {}), [locale]: e.target.value } }, locale),
        })),
        h("input", { class: "input input-small option-key", value: option.key, "aria-label": t("Option key"), "data-path": `${path}.key`, name: `option-${n}-key`,
          onchange: (e) => change({ key: e.target.value.trim() }, "key") })),
      h("button", { type: "button", class: "icon-button", "aria-label": t("Remove option"), title: t("Remove option"),
        onclick: () => write(options.filter((_, i) => i !== n), true) }, "×"));
  });
  const list = h("ul", { class: "option-list" }, rows);
  Sortable.create(list, { handle: ".option-handle", animation: 150, onUpdate: (evt) => {
    const next = steps.clone(options);
    const [moved] = next.splice(evt.oldIndex, 1);
    next.splice(evt.newIndex, 0, moved);
    setTimeout(() => write(next, true), 0);
  } });
  return h("fieldset", { class: "field", "data-path": `${fp}.options` },
    h("legend", { class: "label" }, t("Options")), list,
    h("button", { type: "button", class: "button button-small", "data-action": "add-option", onclick: () => {
      const key = steps.uniqueKey(`option_${options.length + 1}`, options.map((o) => o.key));
      write([...options, { key, label: { en: `Option ${options.length + 1}`, "zh-CN": `选项 ${options.length + 1}` } }], true);
    } }, "+ ", t("Add option")));
}

function sectionPanel(ctx, entity, e, s) {
  const { store, entityKey } = ctx;
  const form = steps.effectiveForm(entity);
  const section = form.sections[s];
  const sp = jsonPath(["entities", e, "form", "sections", s]);
  const tabs = form.tabs || [];
  return h("div", { class: "panel-body" },
    h("h2", { class: "panel-title" }, t("Section")),
    labelInputs(t("Title"), section.label, `${sp}.label`, (locale, text) =>
      store.apply((d) => steps.setSectionLabel(d, entityKey, s, locale, text), { coalesce: `section:${s}:${locale}`, structural: false }), "section-label"),
    field(t("Columns"), select(["1", "2", "3", "4"].map((n) => [n, n]), String(section.columns || 1), `${sp}.columns`,
      (v) => store.apply((d) => steps.updateSection(d, entityKey, s, { columns: Number(v) }), { structural: false }))),
    tabs.length ? field(t("Tab"), select(tabs.map((tab) => [tab.key, labelText(tab.label, tab.key)]), steps.sectionTab(form, section), `${sp}.tab`,
      (v) => { store.apply((d) => steps.updateSection(d, entityKey, s, { tab: v })); ctx.view.tab = v; })) : null,
    field(t("Visible when"), expressionInput(ctx, { value: section.visible_if, path: `${sp}.visible_if`, kind: "condition", name: "section-visible-if",
      onInput: (value) => store.apply((d) => steps.updateSection(d, entityKey, s, { visible_if: value.trim() ? value : undefined }), { coalesce: `section:${s}:visible`, structural: false }) })),
    form.sections.length > 1 ? h("div", { class: "panel-danger" }, h("button", { type: "button", class: "button button-danger-quiet", onclick: () => {
      store.apply((d) => steps.removeSection(d, entityKey, s));
      store.select(null);
    } }, t("Remove section")), h("p", { class: "help" }, t("Its fields move to the section above."))) : null);
}

function tabPanel(ctx, entity, e, key) {
  const { store, entityKey } = ctx;
  const tabs = entity.form.tabs;
  const i = tabs.findIndex((tab) => tab.key === key);
  const tp = jsonPath(["entities", e, "form", "tabs", i]);
  return h("div", { class: "panel-body" },
    h("h2", { class: "panel-title" }, t("Tab")),
    labelInputs(t("Title"), tabs[i].label, `${tp}.label`, (locale, text) =>
      store.apply((d) => steps.setTabLabel(d, entityKey, key, locale, text), { coalesce: `tab:${key}:${locale}`, structural: false }), "tab-label"),
    h("div", { class: "panel-danger" }, h("button", { type: "button", class: "button button-danger-quiet", onclick: () => {
      store.apply((d) => steps.removeTab(d, entityKey, key));
      store.select(null);
    } }, t("Remove tab")), h("p", { class: "help" }, t("Its sections move to the first tab."))));
}
