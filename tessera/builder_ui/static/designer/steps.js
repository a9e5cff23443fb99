// Designer steps: each takes a copy of the app definition and changes it.  The store hands
// every step a fresh deep copy (state.js), so to its caller a step is a pure function from one
// document to the next, and undo/redo is a stack of documents.  Nothing here touches the DOM.

export const clone = (value) => JSON.parse(JSON.stringify(value));
export const placementKey = (p) => (typeof p === "string" ? p : p?.field);

const KEY_MAX = 20;

/** A key from a label: lowercase ASCII words joined by "_" ("Due date" -> "due_date"). */
export function slugify(text, max = KEY_MAX) {
  const words = String(text || "")
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  let key = words.join("_").slice(0, max).replace(/_+$/, "");
  if (key && !/^[a-z]/.test(key)) key = ("f_" + key).slice(0, max);
  return key;
}

const RESERVED = new Set(["id", "created_at", "updated_at", "created_by", "updated_by", "owner",
  "owner_id", "version", "deleted_at", "parent", "parent_id", "sort_order"]);

/** `base`, or `base_2`, `base_3`… — the first that is not taken (nor reserved). */
export function uniqueKey(base, taken, max = KEY_MAX) {
  const used = new Set(taken);
  base = base || "field";
  if (!used.has(base) && !RESERVED.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const candidate = base.slice(0, max - suffix.length).replace(/_+$/, "") + suffix;
    if (!used.has(candidate)) return candidate;
  }
}

// -- finding things ---------------------------------------------------------------------------

export const entityIndex = (doc, key) => doc.entities.findIndex((e) => e.key === key);
export const entityOf = (doc, key) => doc.entities.find((e) => e.key === key);
export const fieldIndex = (entity, key) => entity.fields.findIndex((f) => f.key === key);
export const fieldOf = (entity, key) => entity.fields.find((f) => f.key === key);

/** The form as the designer shows it: the entity's own, or one section holding every field. */
export function effectiveForm(entity) {
  if (entity.form && Array.isArray(entity.form.sections) && entity.form.sections.length) {
    return entity.form;
  }
  return { sections: [{ columns: 2, fields: entity.fields.map((f) => f.key) }] };
}

/** Make the entity's implicit form explicit before a layout step changes it. */
export function ensureForm(entity) {
  const form = effectiveForm(entity);
  if (form !== entity.form) entity.form = { ...(entity.form || {}), ...clone(form) };
  entity.form.sections ||= [];
  return entity.form;
}

/** The tab a section belongs to (sections without one are on the first tab). */
export function sectionTab(form, section) {
  const tabs = form.tabs || [];
  if (!tabs.length) return null;
  return tabs.some((t) => t.key === section.tab) ? section.tab : tabs[0].key;
}

/** Where a field sits on the form: {section, index} or null when it is not placed. */
export function locate(form, key) {
  for (const [s, section] of (form.sections || []).entries()) {
    const index = (section.fields || []).findIndex((p) => placementKey(p) === key);
    if (index >= 0) return { section: s, index };
  }
  return null;
}

// -- labels -----------------------------------------------------------------------------------

/** Set one locale of a label; an emptied label disappears. */
export function setLabel(target, prop, locale, text) {
  let label = target[prop];
  label = typeof label === "string" ? { en: label } : { ...(label || {}) };
  if (text && text.trim()) label[locale] = text;
  else delete label[locale];
  if (Object.keys(label).length) target[prop] = label;
  else delete target[prop];
}

// -- fields -----------------------------------------------------------------------------------

function defaultTarget(doc, entityKey) {
  const other = doc.entities.find((e) => !e.child && e.key !== entityKey);
  return other ? other.key : entityKey;
}

function childEntity(doc, base, label) {
  const key = uniqueKey(slugify(base), doc.entities.map((e) => e.key));
  doc.entities.push({
    key,
    label: { en: `${label.en || base} row`, "zh-CN": `${label["zh-CN"] || label.en || base}明细` },
    child: true,
    title: "name",
    fields: [{ key: "name", type: "text", label: { en: "Name", "zh-CN": "名称" } }],
    form: { sections: [{ columns: 2, fields: ["name"] }] },
  });
  return key;
}

/** Settings a new field of `type` needs to be valid from the start. */
function typeSettings(doc, entity, type, key, label) {
  switch (type) {
    case "select":
    case "multi_select":
      return {
        options: [1, 2, 3].map((n) => ({
          key: `option_${n}`,
          label: { en: `Option ${n}`, "zh-CN": `选项 ${n}` },
        })),
      };
    case "link":
    case "multi_link":
      return { entity: defaultTarget(doc, entity.key) };
    case "child_table":
      return { entity: childEntity(doc, `${entity.key}_${key}`, label) };
    case "formula":
      return { formula: "0", result: "number" };
    case "auto_number":
      return { pattern: "{0000}" };
    case "rollup": {
      const child = entity.fields.find((f) => f.type === "child_table");
      return { source: child ? child.key : "", aggregate: "count" };
    }
    case "lookup": {
      const link = entity.fields.find((f) => f.type === "link");
      const target = link && doc.entities.find((e) => e.key === link.entity);
      return { link: link ? link.key : "", field: target ? target.title || target.fields[0].key : "" };
    }
    default:
      return {};
  }
}

/** Add a field of `type` (named `label` in every locale) at `index` of section `s`. */
export function addField(doc, entityKey, type, label, s, index) {
  const entity = entityOf(doc, entityKey);
  const taken = entity.fields.map((f) => f.key);
  const key = uniqueKey(slugify(label.en) || type, taken);
  const sameLabel = entity.fields.filter((f) => f.label?.en?.startsWith(label.en)).length;
  const fieldLabel = sameLabel
    ? Object.fromEntries(Object.entries(label).map(([k, v]) => [k, `${v} ${sameLabel + 1}`]))
    : { ...label };
  const field = { key, type, label: fieldLabel, ...typeSettings(doc, entity, type, key, fieldLabel) };
  entity.fields.push(field);
  const form = ensureForm(entity);
  if (!form.sections.length) form.sections.push({ columns: 2, fields: [] });
  const section = form.sections[Math.min(Math.max(s, 0), form.sections.length - 1)];
  section.fields ||= [];
  section.fields.splice(Math.min(index ?? section.fields.length, section.fields.length), 0, key);
  return key;
}

/** Move a field's placement to `index` of section `s` (s < 0: take it off the form). */
export function moveField(doc, entityKey, key, s, index) {
  const entity = entityOf(doc, entityKey);
  const form = ensureForm(entity);
  let placement = key;
  const at = locate(form, key);
  if (at) placement = form.sections[at.section].fields.splice(at.index, 1)[0];
  if (s < 0 || s >= form.sections.length) return;
  const fields = (form.sections[s].fields ||= []);
  fields.splice(Math.min(Math.max(index, 0), fields.length), 0, placement);
}

/** Change a field's settings; a value of undefined removes the setting. */
export function updateField(doc, entityKey, key, patch) {
  const field = fieldOf(entityOf(doc, entityKey), key);
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined) delete field[name];
    else field[name] = value;
  }
}

export function setFieldLabel(doc, entityKey, key, prop, locale, text) {
  setLabel(fieldOf(entityOf(doc, entityKey), key), prop, locale, text);
}

function renameIn(list, from, to) {
  return (list || []).map((k) => (k === from ? to : k));
}

/** Give a field a new key and follow it everywhere the definition names it. */
export function renameField(doc, entityKey, from, to) {
  const entity = entityOf(doc, entityKey);
  fieldOf(entity, from).key = to;
  if (entity.title === from) entity.title = to;
  for (const index of entity.indexes || []) index.fields = renameIn(index.fields, from, to);
  for (const section of entity.form?.sections || []) {
    section.fields = (section.fields || []).map((p) =>
      placementKey(p) !== from ? p : typeof p === "string" ? to : { ...p, field: to });
  }
  for (const view of entity.views || []) {
    if (view.columns) view.columns = renameIn(view.columns, from, to);
    for (const item of [...(view.sort || []), ...(view.filters || [])]) {
      if (item.field === from) item.field = to;
    }
    for (const name of ["group_by", "date_field", "end_date_field"]) {
      if (view[name] === from) view[name] = to;
    }
  }
  for (const other of doc.entities) {
    for (const f of other.fields) {
      if (f.type === "rollup" && f.source === `${entityKey}.${from}`) f.source = `${entityKey}.${to}`;
      if (other.key === entityKey && f.type === "lookup" && f.link === from) f.link = to;
      if (other.key === entityKey && f.type === "rollup" && f.source === from) f.source = to;
    }
  }
}

/** Remove a field, its place on the form and its columns, sorts and filters in views. */
export function removeField(doc, entityKey, key) {
  const entity = entityOf(doc, entityKey);
  const field = fieldOf(entity, key);
  entity.fields = entity.fields.filter((f) => f.key !== key);
  if (entity.title === key) delete entity.title;
  entity.indexes = (entity.indexes || []).filter((i) => !i.fields.includes(key));
  if (!entity.indexes.length) delete entity.indexes;
  for (const section of entity.form?.sections || []) {
    section.fields = (section.fields || []).filter((p) => placementKey(p) !== key);
  }
  for (const view of entity.views || []) {
    if (view.columns) view.columns = view.columns.filter((k) => k !== key);
    if (view.sort) view.sort = view.sort.filter((s) => s.field !== key);
    if (view.filters) view.filters = view.filters.filter((s) => s.field !== key);
  }
  if (field?.type === "child_table") {
    const stillUsed = doc.entities.some((e) => e.fields.some((f) => f.type === "child_table" && f.entity === field.entity));
    if (!stillUsed) removeEntity(doc, field.entity);
  }
}

/** Change a field's placement (visible_if, read_only_if, span); plain keys where possible. */
export function updatePlacement(doc, entityKey, key, patch) {
  const form = ensureForm(entityOf(doc, entityKey));
  const at = locate(form, key);
  if (!at) return;
  const fields = form.sections[at.section].fields;
  const placement = typeof fields[at.index] === "string" ? { field: key } : { ...fields[at.index] };
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined || value === "") delete placement[name];
    else placement[name] = value;
  }
  fields[at.index] = Object.keys(placement).length === 1 ? key : placement;
}

// -- sections and tabs ------------------------------------------------------------------------

export function addSection(doc, entityKey, tab) {
  const form = ensureForm(entityOf(doc, entityKey));
  const n = form.sections.length + 1;
  const section = { label: { en: `Section ${n}`, "zh-CN": `分组 ${n}` }, columns: 2, fields: [] };
  if (tab) section.tab = tab;
  form.sections.push(section);
  return form.sections.length - 1;
}

export function updateSection(doc, entityKey, s, patch) {
  const section = ensureForm(entityOf(doc, entityKey)).sections[s];
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined || value === "") delete section[name];
    else section[name] = value;
  }
}

export function setSectionLabel(doc, entityKey, s, locale, text) {
  setLabel(ensureForm(entityOf(doc, entityKey)).sections[s], "label", locale, text);
}

/** Move section `from` to position `to` (in the whole list), on `tab` when given. */
export function moveSection(doc, entityKey, from, to, tab) {
  const form = ensureForm(entityOf(doc, entityKey));
  const [section] = form.sections.splice(from, 1);
  if (tab) section.tab = tab;
  form.sections.splice(Math.min(Math.max(to, 0), form.sections.length), 0, section);
}

/** Remove a section; its fields move to the section before it (or after it). */
export function removeSection(doc, entityKey, s) {
  const form = ensureForm(entityOf(doc, entityKey));
  if (form.sections.length < 2) return;
  const [section] = form.sections.splice(s, 1);
  const heir = form.sections[Math.max(0, s - 1)];
  heir.fields = [...(heir.fields || []), ...(section.fields || [])];
}

/** Add a tab; the first one also gathers every existing section, so nothing is orphaned. */
export function addTab(doc, entityKey) {
  const form = ensureForm(entityOf(doc, entityKey));
  form.tabs ||= [];
  if (!form.tabs.length) {
    form.tabs.push({ key: "main", label: { en: "Main", "zh-CN": "主要" } });
    for (const section of form.sections) section.tab = "main";
  }
  const n = form.tabs.length + 1;
  const key = uniqueKey(`tab_${n}`, form.tabs.map((t) => t.key));
  form.tabs.push({ key, label: { en: `Tab ${n}`, "zh-CN": `标签页 ${n}` } });
  form.sections.push({ label: { en: "Details", "zh-CN": "详细信息" }, columns: 2, tab: key, fields: [] });
  return key;
}

export function setTabLabel(doc, entityKey, key, locale, text) {
  const tab = ensureForm(entityOf(doc, entityKey)).tabs.find((t) => t.key === key);
  setLabel(tab, "label", locale, text);
  if (!tab.label) tab.label = key;
}

/** Remove a tab; its sections move to the first remaining tab (or lose their tab). */
export function removeTab(doc, entityKey, key) {
  const form = ensureForm(entityOf(doc, entityKey));
  form.tabs = (form.tabs || []).filter((t) => t.key !== key);
  const heir = form.tabs[0]?.key;
  for (const section of form.sections) {
    if (section.tab === key || !form.tabs.length) {
      if (heir && form.tabs.length > 0) section.tab = heir;
      else delete section.tab;
    }
  }
  if (form.tabs.length < 2) {
    delete form.tabs;
    for (const section of form.sections) delete section.tab;
  }
}

// -- entities ---------------------------------------------------------------------------------

export function addEntity(doc, key, label) {
  doc.entities.push({
    key,
    label,
    title: "name",
    fields: [{ key: "name", type: "text", label: { en: "Name", "zh-CN": "名称" }, required: true }],
    form: { sections: [{ label: { en: "Details", "zh-CN": "详细信息" }, columns: 2, fields: ["name"] }] },
    views: [{ key: "all", type: "list", label: { en: "All", "zh-CN": "全部" }, columns: ["name"] }],
  });
  doc.navigation ||= [];
  doc.navigation.push({ label, entity: key, view: "all" });
}

export function setEntityLabel(doc, entityKey, prop, locale, text) {
  setLabel(entityOf(doc, entityKey), prop, locale, text);
}

export function updateEntity(doc, entityKey, patch) {
  const entity = entityOf(doc, entityKey);
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined || value === "") delete entity[name];
    else entity[name] = value;
  }
}

/** Remove an entity and what points at it from the navigation. */
export function removeEntity(doc, key) {
  doc.entities = doc.entities.filter((e) => e.key !== key);
  const keep = (items) =>
    items
      .filter((item) => item.entity !== key)
      .map((item) => (item.items ? { ...item, items: keep(item.items) } : item));
  if (doc.navigation) doc.navigation = keep(doc.navigation);
}

// -- views ------------------------------------------------------------------------------------

export const viewOf = (entity, key) => (entity.views || []).find((v) => v.key === key);

/** Add a view of `type`, set up from the entity's fields so it is valid at once. */
export function addView(doc, entityKey, type) {
  const entity = entityOf(doc, entityKey);
  entity.views ||= [];
  const names = { list: ["List", "列表"], kanban: ["Board", "看板"], calendar: ["Calendar", "日历"] };
  const key = uniqueKey(type, entity.views.map((v) => v.key));
  const [en, zh] = names[type];
  const view = { key, type, label: { en, "zh-CN": zh }, columns: entity.fields.slice(0, 4).map((f) => f.key) };
  if (type === "kanban") {
    const group = entity.fields.find((f) => f.type === "select");
    view.group_by = group ? group.key : "";
  }
  if (type === "calendar") {
    const date = entity.fields.find((f) => f.type === "date" || f.type === "datetime");
    view.date_field = date ? date.key : "";
  }
  entity.views.push(view);
  return key;
}

export function updateView(doc, entityKey, viewKey, patch) {
  const view = viewOf(entityOf(doc, entityKey), viewKey);
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined || value === "" || (Array.isArray(value) && !value.length && name !== "columns")) {
      delete view[name];
    } else view[name] = value;
  }
}

export function setViewLabel(doc, entityKey, viewKey, locale, text) {
  setLabel(viewOf(entityOf(doc, entityKey), viewKey), "label", locale, text);
}

export function removeView(doc, entityKey, viewKey) {
  const entity = entityOf(doc, entityKey);
  entity.views = (entity.views || []).filter((v) => v.key !== viewKey);
  const drop = (items) =>
    items
      .filter((item) => !(item.entity === entityKey && item.view === viewKey))
      .map((item) => (item.items ? { ...item, items: drop(item.items) } : item));
  if (doc.navigation) doc.navigation = drop(doc.navigation);
}
