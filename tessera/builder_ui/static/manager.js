// The app manager's create form: keys follow the English names until typed by hand.
const slug = (text, max) => String(text || "").normalize("NFKD").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim()
  .split(/\s+/).filter(Boolean).join("_").slice(0, max).replace(/_+$/, "");

for (const [source, target, max] of [["label_en", "key", 16], ["entity_label_en", "entity_key", 20]]) {
  const from = document.getElementById(source);
  const to = document.getElementById(target);
  if (!from || !to) continue;
  let touched = Boolean(to.value);
  to.addEventListener("input", () => { touched = true; });
  from.addEventListener("input", () => { if (!touched) to.value = slug(from.value, max); });
}
