// Link pickers: a combobox that searches the linked entity as you type (WAI-ARIA combobox
// pattern: arrows move, Enter picks, Escape closes).  Single links fill a hidden input; multi
// links add chips, each carrying its own hidden input.
import { debounce, el, request } from "./shared.js";

export function initPickers(scope) {
  for (const picker of scope.querySelectorAll("[data-link-picker]:not([data-ready])")) setUp(picker);
}

function setUp(picker) {
  picker.dataset.ready = "1";
  const query = picker.querySelector("[data-query]");
  const list = picker.querySelector(".rt-options");
  const value = picker.querySelector("[data-value]");
  const multiple = picker.hasAttribute("data-multiple");
  const picked = picker.querySelector("[data-picked]");
  let results = [];
  let active = -1;
  let chosenTitle = query.value;

  const close = () => {
    list.hidden = true;
    query.setAttribute("aria-expanded", "false");
    query.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    [...list.children].forEach((item, i) => item.setAttribute("aria-selected", i === index ? "true" : "false"));
    const item = list.children[index];
    if (item?.id) query.setAttribute("aria-activedescendant", item.id);
    item?.scrollIntoView({ block: "nearest" });
  };
  const choose = (result) => {
    if (multiple) {
      const name = picker.dataset.name;
      if (!picked.querySelector(`input[value="${CSS.escape(String(result.id))}"]`)) {
        const remove = el("button", { type: "button", class: "rt-icon-button", "data-unpick": true, "aria-label": "✕", text: "✕" });
        picked.append(el("li", { class: "rt-picked-item" }, el("input", { type: "hidden", name, value: result.id }), el("span", { text: result.title }), remove));
      }
      query.value = "";
    } else {
      value.value = result.id;
      query.value = result.title;
      chosenTitle = result.title;
    }
    picker.dispatchEvent(new Event("change", { bubbles: true }));
    close();
  };
  const show = () => {
    list.replaceChildren();
    if (!results.length) {
      list.append(el("li", { class: "rt-option-empty", text: "—" }));
    }
    results.forEach((result, i) => {
      const item = el("li", { class: "rt-option", role: "option", id: `${list.id}-${i}`, text: result.title });
      item.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(result);
      });
      list.append(item);
    });
    list.hidden = false;
    query.setAttribute("aria-expanded", "true");
    highlight(results.length ? 0 : -1);
  };
  const search = debounce(async () => {
    const url = `${picker.dataset.search}&q=${encodeURIComponent(query.value.trim())}`;
    const { ok, data } = await request(url);
    if (!ok) return;
    results = data.results || [];
    if (document.activeElement === query) show();
  }, 200);

  query.addEventListener("input", () => {
    if (!multiple && !query.value.trim()) {
      value.value = "";
      chosenTitle = "";
      picker.dispatchEvent(new Event("change", { bubbles: true }));
    }
    search();
  });
  query.addEventListener("focus", () => search());
  query.addEventListener("blur", () => {
    setTimeout(close, 120);
    if (!multiple && value.value && query.value !== chosenTitle) query.value = chosenTitle;
  });
  query.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) return show();
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight(Math.max(0, Math.min(results.length - 1, active + step)));
    } else if (event.key === "Enter" && !list.hidden) {
      event.preventDefault();
      if (results[active]) choose(results[active]);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  picked?.addEventListener("click", (event) => {
    const button = event.target.closest("[data-unpick]");
    if (!button) return;
    button.closest("li").remove();
    picker.dispatchEvent(new Event("change", { bubbles: true }));
    query.focus();
  });
}
