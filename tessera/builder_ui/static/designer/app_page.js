// The app designer: the app's name, its entities and its navigation menu.
import Sortable from "/static/vendor/sortable.esm.js";
import { h, jsonPath, labelText, nameOf, page, t } from "./dom.js";
import { field, labelInputs, select } from "./properties.js";
import { initShell, showErrors } from "./shell.js";
import { createStore, watch } from "./state.js";
import * as steps from "./steps.js";

const store = createStore(page.doc, page.errors);
const root = document.getElementById("app-designer");
const settings = document.getElementById("app-settings");
const entities = document.getElementById("entity-list");
const navigation = document.getElementById("nav-editor");
const entityUrl = (key) => page.urls.entity.replace("__entity__", encodeURIComponent(key));
const viewsUrl = (key) => page.urls.views.replace("__entity__", encodeURIComponent(key));

function renderSettings() {
  const doc = store.doc;
  settings.replaceChildren(
    labelInputs(t("App name"), doc.label, "$.label", (locale, text) => store.apply((d) => steps.setLabel(d, "label", locale, text), { coalesce: `app:label:${locale}`, structural: false }), "app-label"),
    labelInputs(t("Description"), doc.description, "$.description", (locale, text) => store.apply((d) => steps.setLabel(d, "description", locale, text), { coalesce: `app:description:${locale}`, structural: false }), "app-description"),
    h("p", { class: "help" }, t("App key"), ": ", h("code", {}, doc.key)));
}

function renderEntities() {
  const doc = store.doc;
  const published = new Set((page.published?.entities || []).map((e) => e.key));
  entities.replaceChildren(...doc.entities.map((entity, e) =>
    h("li", { class: "entity-row", "data-path": jsonPath(["entities", e]), "data-entity": entity.key },
      h("div", { class: "entity-name" },
        h("a", { class: "row-link", href: entityUrl(entity.key), "data-flush": "" }, nameOf(entity.label, entity.key)),
        h("span", { class: "muted small" }, h("code", {}, entity.key), " · ", t("%(n)s fields", { n: entity.fields.length }),
          entity.child ? [" · ", t("rows of a child table")] : null)),
      h("div", { class: "problem-slot" }),
      h("div", { class: "entity-actions" },
        h("a", { class: "button button-small", href: entityUrl(entity.key), "data-flush": "" }, t("Form")),
        entity.child ? null : h("a", { class: "button button-small", href: viewsUrl(entity.key), "data-flush": "" }, t("Views")),
        h("button", { type: "button", class: "button button-small button-danger-quiet", onclick: () => {
          const warn = published.has(entity.key) ? t("Delete “%(name)s”? Publishing will ask you to confirm; its table is kept aside until the trash is purged.", { name: nameOf(entity.label, entity.key) })
            : t("Delete “%(name)s”?", { name: nameOf(entity.label, entity.key) });
          if (window.confirm(warn)) store.apply((d) => steps.removeEntity(d, entity.key));
        } }, t("Delete"))))));
}

function renderNavigation() {
  const doc = store.doc;
  const items = doc.navigation || [];
  const list = h("ul", { class: "nav-list", "data-path": "$.navigation" }, items.map((item, n) => {
    const path = jsonPath(["navigation", n]);
    const entity = steps.entityOf(doc, item.entity);
    return h("li", { class: "nav-row", "data-path": path },
      h("span", { class: "option-handle", "aria-hidden": "true" }, "⋮⋮"),
      h("div", { class: "nav-fields" },
        labelInputs(t("Menu label"), item.label, `${path}.label`, (locale, text) => store.apply((d) => steps.setLabel(d.navigation[n], "label", locale, text), { coalesce: `nav:${n}:${locale}`, structural: false }), `nav-${n}`),
        h("div", { class: "form-grid" },
          field(t("Entity"), select(doc.entities.filter((e) => !e.child).map((e) => [e.key, nameOf(e.label, e.key)]), item.entity, `${path}.entity`,
            (value) => store.apply((d) => { d.navigation[n].entity = value; delete d.navigation[n].view; }))),
          field(t("View"), select([["", "—"], ...((entity?.views) || []).map((v) => [v.key, labelText(v.label, v.key)])], item.view || "", `${path}.view`,
            (value) => store.apply((d) => { if (value) d.navigation[n].view = value; else delete d.navigation[n].view; }))))),
      h("button", { type: "button", class: "icon-button", "aria-label": t("Remove"), onclick: () => store.apply((d) => { d.navigation.splice(n, 1); }) }, "×"));
  }));
  Sortable.create(list, { handle: ".option-handle", animation: 150, onUpdate: (evt) => setTimeout(() => store.apply((d) => {
    const [moved] = d.navigation.splice(evt.oldIndex, 1);
    d.navigation.splice(evt.newIndex, 0, moved);
  }), 0) });
  const first = doc.entities.find((e) => !e.child);
  navigation.replaceChildren(list, first ? h("button", { type: "button", class: "button button-small", onclick: () =>
    store.apply((d) => { (d.navigation ||= []).push({ label: first.label || first.key, entity: first.key }); }) }, "+ ", t("Add menu item")) : null);
}

const form = document.getElementById("add-entity");
const keyInput = form.querySelector('[name="entity_key"]');
const labelInput = form.querySelector('[name="entity_label_en"]');
let keyTouched = false;
keyInput.addEventListener("input", () => { keyTouched = true; });
labelInput.addEventListener("input", () => { if (!keyTouched) keyInput.value = steps.slugify(labelInput.value); });
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  const label = {};
  for (const locale of page.locales) {
    const value = form.querySelector(`[name="entity_label_${locale}"]`).value.trim();
    if (value) label[locale] = value;
  }
  const problem = form.querySelector(".form-problem");
  if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(key) || key.length > 20) { problem.textContent = t("The key needs lowercase letters, digits and single _, starting with a letter (at most 20)."); return; }
  if (store.doc.entities.some((e) => e.key === key)) { problem.textContent = t("Another entity has this key."); return; }
  problem.textContent = "";
  store.apply((d) => steps.addEntity(d, key, Object.keys(label).length ? label : key));
  store.flush().then(() => window.location.assign(entityUrl(key)));
});

watch(() => {
  void store.ui.version;
  renderEntities();
  showErrors(root, store.rawErrors);
});
watch(() => {
  void store.ui.panel;
  renderSettings();
  renderNavigation();
  showErrors(root, store.rawErrors);
});
watch(() => { showErrors(root, store.ui.errors); });
initShell(store, {
  onLocate(error) {
    const [kind, e] = error.path;
    if (kind === "entities" && store.doc.entities[e]) window.location.assign(entityUrl(store.doc.entities[e].key));
  },
});
