import { humanise } from "./words.js";

export const clone = (value) => JSON.parse(JSON.stringify(value));

// Small DOM helpers shared by the designers, and the page's data (a JSON block, not a script:
// the Content-Security-Policy allows no inline code).

export const page = JSON.parse(document.getElementById("builder-data").textContent);

/** Build an element: h("button", {class: "button", onclick: fn, "data-x": 1}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "value") {
      el.value = value;
    } else if (name === "checked" || name === "selected" || name === "disabled") {
      el[name] = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An interface string in the page's language; "%(name)s" placeholders are filled from vars. */
export function t(key, vars = {}) {
  const text = page.strings[key] ?? key;
  return text.replace(/%\((\w+)\)[sd]/g, (_, name) => String(vars[name] ?? ""));
}

/** The text of a label from a definition, as tessera.platform.i18n.localised picks it. */
export function labelText(label, fallback = "", locale = page.locale) {
  if (label === undefined || label === null) return fallback;
  if (typeof label === "string") return label || fallback;
  const language = locale.split("-")[0];
  for (const key of [locale, language, "en"]) {
    if (typeof label[key] === "string" && label[key]) return label[key];
  }
  for (const value of Object.values(label)) if (typeof value === "string" && value) return value;
  return fallback;
}

/** An entity's or a field's name: its label in the page's language, else its key in words. */
export function nameOf(label, key) {
  return labelText(label, humanise(key ?? ""));
}

/** A select option (a bare key or {key, label}) as [key, text]: its label, or its key in
 *  words (closed_won -> "Closed won"), as the runtime pages show it (option_label). */
export function optionOf(option) {
  return typeof option === "string" ? [option, nameOf(undefined, option)] : [option.key, nameOf(option.label, option.key)];
}

/** ["entities", 0, "fields", 3] -> "$.entities[0].fields[3]" (the validator's json_path). */
export function jsonPath(path) {
  return "$" + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
}

/** Call fn at most once per `wait` ms after the last call. */
export function debounce(fn, wait) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** POST JSON with the CSRF header; resolves to the parsed answer or throws with its message. */
export async function postJSON(url, body, options = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
    credentials: "same-origin",
    ...options,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(answer.message || response.statusText);
    error.status = response.status;
    throw error;
  }
  return answer;
}
