// The palette of field types.  Each type is a button: drag it onto the canvas (SortableJS,
// cloned so the palette keeps it), or press it to add the field to the selected section.
import Sortable from "/static/vendor/sortable.esm.js";
import { h, page, t } from "./dom.js";

export const TYPES = Object.fromEntries(
  page.palette.flatMap((group) => group.types.map((type) => [type.type, type])),
);

export function renderPalette(root, { onAdd }) {
  const search = h("input", {
    class: "input palette-search", type: "search", placeholder: t("Find a field type"),
    "aria-label": t("Find a field type"),
  });
  const groups = page.palette.map((group) => {
    const list = h("div", { class: "palette-list", role: "list" },
      group.types.map((type) =>
        h("button", {
          type: "button", class: "palette-item", role: "listitem", "data-type": type.type,
          title: t("Drag onto the form, or press to add"),
        }, h("span", { class: "type-mark", "aria-hidden": "true" }, type.mark), h("span", {}, type.name))));
    Sortable.create(list, {
      group: { name: "fields", pull: "clone", put: false },
      sort: false,
      animation: 150,
      draggable: ".palette-item",
      forceFallback: true,
      fallbackOnBody: true,
    });
    return h("section", { class: "palette-group" }, h("h3", { class: "palette-heading" }, group.name), list);
  });
  root.replaceChildren(search, ...groups);
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    for (const item of root.querySelectorAll(".palette-item")) {
      const type = TYPES[item.dataset.type];
      item.hidden = Boolean(q) && !`${type.name} ${type.type} ${Object.values(type.label).join(" ")}`.toLowerCase().includes(q);
    }
  });
  // Delegated, so the clones SortableJS leaves behind work too.
  root.addEventListener("click", (event) => {
    const item = event.target.closest(".palette-item");
    if (item) onAdd(item.dataset.type);
  });
}
