// The form designer page: palette, canvas, property panel and live preview of one entity.
import { page, t } from "./dom.js";
import { renderCanvas } from "./canvas.js";
import { renderPalette } from "./palette.js";
import { renderPanel } from "./properties.js";
import { renderPreview } from "./preview.js";
import { initShell, showErrors } from "./shell.js";
import { createStore, watch } from "./state.js";
import * as steps from "./steps.js";

const store = createStore(page.doc, page.errors);
const designer = document.getElementById("form-designer");
const canvas = document.getElementById("canvas");
const panel = document.getElementById("panel");
const preview = document.getElementById("preview");
const designMode = document.getElementById("mode-design");
const previewMode = document.getElementById("mode-preview");

const ctx = {
  store,
  entityKey: page.entity,
  view: { tab: null, previewTab: null, mode: "design" },
  entityUrl: (key) => page.urls.entity.replace("__entity__", encodeURIComponent(key)),
  publishedField(entityKey, key) {
    const entity = page.published && steps.entityOf(page.published, entityKey);
    return entity ? steps.fieldOf(entity, key) : null;
  },
  rerender: () => { store.ui.version++; },
};

function selectedSection() {
  const sel = store.ui.selection;
  const entity = steps.entityOf(store.doc, ctx.entityKey);
  const form = steps.effectiveForm(entity);
  if (sel?.kind === "section") return sel.index;
  if (sel?.kind === "field") {
    const at = steps.locate(form, sel.key);
    if (at) return at.section;
  }
  const onTab = form.sections.map((s, i) => [s, i]).filter(([s]) => !form.tabs?.length || steps.sectionTab(form, s) === ctx.view.tab);
  return onTab.length ? onTab[onTab.length - 1][1] : 0;
}

renderPalette(document.getElementById("palette"), {
  onAdd(type) {
    const s = selectedSection();
    const label = page.palette.flatMap((g) => g.types).find((x) => x.type === type).label;
    const key = store.apply((d) => steps.addField(d, ctx.entityKey, type, label, s, 9999));
    store.select({ kind: "field", key });
  },
});

// A step may remove what is selected (undo of an add); fall back to the entity.
function checkSelection() {
  const sel = store.ui.selection;
  const entity = steps.entityOf(store.doc, ctx.entityKey);
  if (!entity) { window.location.assign(page.urls.app); return; }
  if (sel?.kind === "field" && !steps.fieldOf(entity, sel.key)) store.ui.selection = null;
}

watch(() => {
  void store.ui.version; void store.ui.selection;
  checkSelection();
  renderCanvas(canvas, ctx);
  if (ctx.view.mode === "preview") renderPreview(preview, ctx);
  showErrors(designer, store.rawErrors);
});
watch(() => {
  void store.ui.panel; void store.ui.selection;
  renderPanel(panel, ctx);
  showErrors(designer, store.rawErrors);
});
watch(() => { showErrors(designer, store.ui.errors); });

function setMode(mode) {
  ctx.view.mode = mode;
  designMode.setAttribute("aria-pressed", String(mode === "design"));
  previewMode.setAttribute("aria-pressed", String(mode === "preview"));
  canvas.hidden = mode !== "design";
  preview.hidden = mode !== "preview";
  designer.dataset.mode = mode;
  if (mode === "preview") renderPreview(preview, ctx);
}
designMode.addEventListener("click", () => setMode("design"));
previewMode.addEventListener("click", () => setMode("preview"));

initShell(store, {
  onLocate(error) {
    // $.entities[e].fields[j]… selects that field when it belongs to this entity
    const [, e, kind, index] = error.path;
    const entity = store.doc.entities[e];
    if (entity?.key !== ctx.entityKey) {
      if (entity) window.location.assign(ctx.entityUrl(entity.key));
      return;
    }
    if (kind === "fields" && entity.fields[index]) store.select({ kind: "field", key: entity.fields[index].key });
    else if (kind === "form" && error.path[3] === "sections") {
      const section = steps.effectiveForm(entity).sections[error.path[4]];
      const placement = error.path[5] === "fields" ? section?.fields?.[error.path[6]] : null;
      store.select(placement ? { kind: "field", key: steps.placementKey(placement) } : { kind: "section", index: error.path[4] });
    }
    setMode("design");
  },
});
document.title = `${t("Form designer")} · Tessera`;
