// Tabs of a record page or form (WAI-ARIA tabs pattern): arrow keys move between tabs, and the
// tab holding the first field with an error opens first.

export function initTabs(root) {
  for (const list of root.querySelectorAll("[data-tabs]")) {
    const tabs = [...list.querySelectorAll('[role="tab"]')];
    const panels = tabs.map((tab) => document.getElementById(tab.getAttribute("aria-controls")));
    const select = (index, focus = true) => {
      tabs.forEach((tab, i) => {
        const on = i === index;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        if (panels[i]) panels[i].hidden = !on;
      });
      if (focus) tabs[index].focus();
    };
    tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => select(i));
      tab.addEventListener("keydown", (event) => {
        const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -i, End: tabs.length - 1 - i };
        if (!(event.key in moves)) return;
        event.preventDefault();
        select((i + moves[event.key] + tabs.length) % tabs.length);
      });
    });
    const withError = panels.findIndex((panel) => panel?.querySelector(".has-error"));
    select(withError >= 0 ? withError : 0, false);
  }
}

export function revealField(node) {
  // Open the tab that holds ``node`` (an input with an error, say).
  const panel = node.closest('[role="tabpanel"]');
  if (!panel || !panel.hidden) return;
  document.querySelector(`[aria-controls="${panel.id}"]`)?.click();
}
