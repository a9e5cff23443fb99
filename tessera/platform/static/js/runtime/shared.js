// Small helpers every runtime module shares: the page's settings, JSON requests with the CSRF
// token, a toast for messages, a debounce, and the drag-and-drop move of a board card or a
// calendar event.

export const root = document.querySelector("[data-runtime]");

export function text(name, values = {}) {
  // Interface text is translated by the server into data-text-* attributes; {n} placeholders.
  const raw = (root && root.dataset[name]) || "";
  return raw.replace(/\{(\w+)\}/g, (_, key) => (key in values ? String(values[key]) : ""));
}

export async function request(url, { method = "GET", json, form } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (method !== "GET") headers["X-CSRFToken"] = root?.dataset.csrf || "";
  const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  return { ok: response.ok, status: response.status, data };
}

let toastTimer;
export function toast(message, { error = false } = {}) {
  const box = document.querySelector("[data-toast]");
  if (!box) return;
  box.textContent = message; // text, never HTML
  box.classList.toggle("is-error", error);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, error ? 7000 : 3500);
}

// One move of a dragged card (a board card, a calendar event) posted to the page's /_/move: one
// update of `field` to `to` through the records service, with the card's version for locking.
// Accepted, the card takes the new version and `onMoved` runs; refused, `putBack` returns the
// card to where it was, it flashes, the reason shows and `focus` gives keyboard users their
// place back.  Resolves to whether the move was accepted.
export async function postMove(card, { url, field, to, putBack, onMoved, focus = () => card.focus() }) {
  card.classList.add("is-saving");
  const { ok, data } = await request(url, {
    method: "POST",
    json: { id: Number(card.dataset.id), field, to, version: Number(card.dataset.version) },
  });
  card.classList.remove("is-saving");
  if (ok) {
    card.dataset.version = String(data.version);
    onMoved();
  } else {
    putBack();
    card.classList.add("is-refused");
    setTimeout(() => card.classList.remove("is-refused"), 600);
    toast(data.error || text("textError"), { error: true });
    focus();
  }
  return ok;
}

export function debounce(fn, wait) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}
