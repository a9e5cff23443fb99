// The live preview: the form as the end user will see it, drawn from the draft with the
// design system's form controls.  Values typed here are only for trying the form out; the
// visibility conditions are evaluated by the server with the formula language itself.
import { debounce, h, labelText, nameOf, optionOf, page, postJSON, t } from "./dom.js";
import * as steps from "./steps.js";

const values = {};

function optionList(f) {
  return (f.options || []).map(optionOf);
}

function widget(doc, f, id) {
  const value = values[f.key] ?? "";
  const on = { oninput: (e) => { values[f.key] = e.target.type === "checkbox" ? e.target.checked : e.target.value; evaluateSoon(); } };
  const input = (type, extra = {}) => h("input", { class: "input", id, type, value, name: f.key, ...on, ...extra });
  switch (f.type) {
    case "long_text": case "rich_text": case "json":
      return h("textarea", { class: "input", id, rows: "3", name: f.key, ...on }, value);
    case "integer": case "decimal": case "percent": case "duration":
      return input("text", { inputmode: "decimal" });
    case "currency":
      return h("div", { class: "input-affix" }, h("span", { class: "affix" }, f.currency || "¥"), input("text", { inputmode: "decimal" }));
    case "boolean":
      return h("label", { class: "check" }, h("input", { type: "checkbox", id, name: f.key, checked: Boolean(values[f.key]), ...on }), h("span", {}, t("Yes")));
    case "date": return input("date");
    case "datetime": return input("datetime-local");
    case "time": return input("time");
    case "email": return input("email");
    case "phone": return input("tel");
    case "url": return input("url");
    case "select":
      return h("select", { class: "select", id, name: f.key, ...on },
        h("option", { value: "" }, "—"), optionList(f).map(([k, text]) => h("option", { value: k, selected: k === value }, text)));
    case "multi_select":
      return h("div", { class: "chip-choices" }, optionList(f).map(([, text]) => h("span", { class: "chip" }, text)));
    case "rating":
      return h("div", { class: "rating", "aria-hidden": "true" }, "☆".repeat(f.max || 5));
    case "user": case "department": case "link": case "multi_link": {
      const target = f.type === "user" ? t("User") : f.type === "department" ? t("Department") : nameOf(steps.entityOf(doc, f.entity)?.label, f.entity);
      return h("select", { class: "select", id, disabled: true }, h("option", {}, t("Choose: %(what)s", { what: target })));
    }
    case "child_table": {
      const child = steps.entityOf(doc, f.entity);
      const columns = child ? child.fields : [];
      return h("div", { class: "table-wrap preview-child" },
        h("table", { class: "table table-compact" },
          h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, nameOf(c.label, c.key))))),
          h("tbody", {}, h("tr", {}, h("td", { colspan: String(Math.max(columns.length, 1)), class: "muted" }, t("No rows yet"))))),
        h("button", { type: "button", class: "button button-small", disabled: true }, "+ ", t("Add row")));
    }
    case "attachment": case "image":
      return h("div", { class: "drop-zone muted" }, t("Drop files here or choose them"));
    case "location":
      return h("div", { class: "form-grid" }, input("text", { placeholder: t("Latitude") }), h("input", { class: "input", placeholder: t("Longitude"), disabled: true }));
    case "auto_number":
      return input("text", { readonly: true, value: "", placeholder: t("Given when the record is saved") });
    case "formula": case "rollup": case "lookup":
      return input("text", { readonly: true, value: "", placeholder: t("Calculated") });
    default:
      return input("text");
  }
}

let state = { root: null, ctx: null };
const evaluateSoon = debounce(() => evaluate(), 200);

export function renderPreview(root, ctx) {
  state = { root, ctx };
  const doc = ctx.store.doc;
  const entity = steps.entityOf(doc, ctx.entityKey);
  const form = steps.effectiveForm(entity);
  const tabs = form.tabs || [];
  const activeTab = tabs.some((tab) => tab.key === ctx.view.previewTab) ? ctx.view.previewTab : tabs[0]?.key;
  const sections = form.sections
    .map((section, s) => ({ section, s }))
    .filter(({ section }) => !tabs.length || steps.sectionTab(form, section) === activeTab);
  root.replaceChildren(
    h("div", { class: "preview-frame card" },
      h("div", { class: "preview-head" },
        h("h2", { class: "page-title" }, t("New %(what)s", { what: nameOf(entity.label, entity.key) })),
        h("p", { class: "muted small" }, t("This is how people will fill in the form. Try it: conditions react to what you enter."))),
      tabs.length ? h("div", { class: "preview-tabs", role: "tablist" }, tabs.map((tab) =>
        h("button", { type: "button", role: "tab", class: "canvas-tab", "aria-selected": String(tab.key === activeTab),
          onclick: () => { ctx.view.previewTab = tab.key; renderPreview(root, ctx); } }, labelText(tab.label, tab.key)))) : null,
      sections.map(({ section, s }) =>
        h("fieldset", { class: "preview-section", "data-preview-section": String(s) },
          section.label ? h("legend", { class: "preview-section-title" }, labelText(section.label)) : null,
          h("div", { class: `preview-grid cols-${section.columns || 1}` },
            (section.fields || []).map((p) => {
              const key = steps.placementKey(p);
              const f = steps.fieldOf(entity, key);
              if (!f) return null;
              const id = `preview-${key}`;
              const span = Math.min(typeof p === "object" && p.span ? p.span : 1, section.columns || 1);
              return h("div", { class: `field span-${span}`, "data-preview-field": key },
                f.type === "boolean" ? h("span", { class: "label" }, nameOf(f.label, key)) :
                  h("label", { class: "label", for: id }, nameOf(f.label, key), f.required ? h("span", { class: "required-mark" }, " *") : null),
                widget(doc, f, id),
                f.help ? h("p", { class: "help" }, labelText(f.help)) : null);
            })))),
      h("div", { class: "form-actions" }, h("button", { type: "button", class: "button button-primary", disabled: true }, t("Save")))));
  evaluate();
}

async function evaluate() {
  const { root, ctx } = state;
  if (!root || root.hidden) return;
  try {
    const answer = await postJSON(page.urls.conditions, { doc: ctx.store.doc, entity: ctx.entityKey, values });
    for (const el of root.querySelectorAll("[data-preview-field]")) {
      el.hidden = answer.fields[el.dataset.previewField] === false;
      const ro = answer.read_only[el.dataset.previewField] === true;
      for (const control of el.querySelectorAll("input, select, textarea")) if (ro) control.setAttribute("readonly", "");
    }
    for (const el of root.querySelectorAll("[data-preview-section]")) {
      el.hidden = answer.sections[el.dataset.previewSection] === false;
    }
  } catch {
    // the preview keeps showing everything; the designer shows the condition's error
  }
}
