// Names read as words, with no page around them (tests run this module with Node).

const CAMEL = /(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/g;

/** A key read as words, as tessera.engines.definitions.humanise reads it, for an entity or a
 *  field that has no label: order_line -> "Order line", customerName -> "Customer name",
 *  vatID -> "Vat ID" (an acronym keeps its capitals). */
export function humanise(key) {
  const words = String(key).replace(CAMEL, " ").split(/[\s_-]+/).filter(Boolean)
    .map((w) => (w.length > 1 && w === w.toUpperCase() && w !== w.toLowerCase() ? w : w.toLowerCase()));
  if (!words.length) return String(key);
  return [words[0].charAt(0).toUpperCase() + words[0].slice(1), ...words.slice(1)].join(" ");
}
