// The filter builder: field, operator (by the field's type) and value, in "all of" / "any of"
// groups that nest.  It edits the JSON filter the records service understands
// ({"and": [...]}, {"or": [...]}, {"field", "op", "value"}) and writes it to the form's hidden
// "filter" input; the server validates it like any other query string.
import { el } from "./shared.js";

const NO_VALUE = new Set(["is_empty", "is_not_empty", "today", "this_week", "this_month"]);
const LIST_VALUE = new Set(["in", "not_in", "has_any", "has_all", "has_none"]);
const INPUT_TYPES = { date: "date", datetime: "datetime-local", time: "time", integer: "number", decimal: "number", currency: "number", percent: "number", rating: "number", created_at: "date", updated_at: "date" };

export function initFilterBuilder(container, meta) {
  const t = container.dataset;
  const fields = meta.fields.filter((f) => f.ops.length && !["child_table", "location"].includes(f.type));
  const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));
  const hidden = container.closest("form").querySelector("[data-filter-value]");
  let tree;
  try {
    tree = hidden.value ? normalise(JSON.parse(hidden.value)) : { and: [] };
  } catch {
    tree = { and: [] };
  }

  function normalise(node) {
    if (node.and || node.or) return node;
    return { and: [node] };
  }

  function leafFor(field) {
    return { field: field.key, op: field.ops[0], value: "" };
  }

  function valueInput(leaf, field) {
    if (NO_VALUE.has(leaf.op)) return el("span");
    const label = t.textValue;
    if (field.type === "boolean") {
      const select = el("select", { class: "select", "aria-label": label });
      select.append(el("option", { value: "true", text: t.textYes }), el("option", { value: "false", text: t.textNo }));
      select.value = String(leaf.value === false ? "false" : "true");
      leaf.value = select.value === "true";
      select.addEventListener("change", () => { leaf.value = select.value === "true"; save(); });
      return select;
    }
    if (field.options.length) {
      const multiple = LIST_VALUE.has(leaf.op);
      const select = el("select", { class: "select", "aria-label": label, multiple });
      for (const [key, text] of field.options) select.append(el("option", { value: key, text }));
      const current = Array.isArray(leaf.value) ? leaf.value : [leaf.value];
      for (const option of select.options) option.selected = current.includes(option.value);
      if (!multiple && !select.value) select.value = field.options[0][0];
      const read = () => {
        const chosen = [...select.selectedOptions].map((o) => o.value);
        leaf.value = multiple ? chosen : chosen[0];
        save();
      };
      select.addEventListener("change", read);
      read();
      return select;
    }
    const type = leaf.op === "in_last_days" || leaf.op === "in_next_days" ? "number" : INPUT_TYPES[field.type] || "text";
    const input = el("input", { class: "input", type, "aria-label": label, value: Array.isArray(leaf.value) ? leaf.value.join(", ") : leaf.value ?? "" });
    input.addEventListener("input", () => {
      let value = input.value;
      if (type === "number" && value !== "") value = Number(value);
      if (LIST_VALUE.has(leaf.op) || leaf.op === "between") value = String(input.value).split(",").map((v) => v.trim()).filter(Boolean);
      leaf.value = value;
      save();
    });
    return input;
  }

  function row(leaf, parent) {
    const field = byKey[leaf.field] || fields[0];
    const fieldSelect = el("select", { class: "select", "aria-label": t.textField });
    for (const f of fields) fieldSelect.append(el("option", { value: f.key, text: f.label }));
    fieldSelect.value = field.key;
    const opSelect = el("select", { class: "select", "aria-label": t.textOperator });
    for (const op of field.ops) opSelect.append(el("option", { value: op, text: meta.operators[op] || op }));
    opSelect.value = field.ops.includes(leaf.op) ? leaf.op : field.ops[0];
    leaf.op = opSelect.value;
    const remove = el("button", { type: "button", class: "rt-icon-button", "aria-label": t.textRemove, text: "✕" });
    const node = el("div", { class: "rt-fb-row" }, fieldSelect, opSelect, valueInput(leaf, field), remove);
    fieldSelect.addEventListener("change", () => {
      Object.assign(leaf, leafFor(byKey[fieldSelect.value]));
      render();
      node.parentElement?.querySelector("select")?.focus();
    });
    opSelect.addEventListener("change", () => {
      leaf.op = opSelect.value;
      leaf.value = NO_VALUE.has(leaf.op) ? undefined : leaf.value;
      render();
    });
    remove.addEventListener("click", () => {
      const items = parent.and || parent.or;
      items.splice(items.indexOf(leaf), 1);
      render();
    });
    return node;
  }

  function group(node, parent) {
    const kind = node.and ? "and" : "or";
    const items = node[kind];
    const match = el("select", { class: "select rt-select-small", "aria-label": t.textWhere });
    match.append(el("option", { value: "and", text: t.textMatchAll }), el("option", { value: "or", text: t.textMatchAny }));
    match.value = kind;
    match.addEventListener("change", () => {
      node[match.value] = node[kind];
      delete node[kind];
      render();
    });
    const head = el("div", { class: "rt-fb-head" }, match);
    if (parent) {
      head.append(el("button", { type: "button", class: "rt-icon-button", "aria-label": t.textRemove, text: "✕", onclick: () => {
        const siblings = parent.and || parent.or;
        siblings.splice(siblings.indexOf(node), 1);
        render();
      } }));
    }
    const box = el("div", { class: "rt-fb-group" }, head);
    for (const item of items) box.append(item.and || item.or ? group(item, node) : row(item, node));
    const add = el("button", { type: "button", class: "button button-small", text: `+ ${t.textAdd}` });
    add.addEventListener("click", () => {
      items.push(leafFor(fields[0]));
      render();
      box.querySelectorAll(".rt-fb-row select")[items.length * 2 - 2]?.focus();
    });
    const actions = el("div", { class: "rt-fb-actions" }, add);
    if (!parent) {
      actions.append(el("button", { type: "button", class: "button button-small", text: `+ ${t.textGroup}`, onclick: () => {
        items.push({ or: [leafFor(fields[0])] });
        render();
      } }));
    }
    box.append(actions);
    return box;
  }

  function prune(node) {
    const kind = node.and ? "and" : node.or ? "or" : null;
    if (!kind) {
      const blank = node.value === undefined || node.value === "" || (Array.isArray(node.value) && !node.value.length);
      return node.field && (NO_VALUE.has(node.op) || !blank) ? node : null;
    }
    const items = node[kind].map(prune).filter(Boolean);
    if (!items.length) return null;
    return { [kind]: items };
  }

  function save() {
    const clean = prune(tree);
    hidden.value = clean ? JSON.stringify(clean) : "";
  }

  function render() {
    container.replaceChildren(group(tree, null));
    save();
  }

  // The builder re-renders on every change, so a clicked button may leave the page before the
  // shell's menu script asks whether the click was inside the menu: keep clicks to ourselves.
  container.addEventListener("click", (event) => event.stopPropagation());
  render();
}
