// Drop-down menus are <details data-menu> elements, so they open without JavaScript.
// This adds what users expect of a menu: one open at a time, closing on an outside click,
// on choosing one of its items (a download leaves the page where it is) or on Escape (focus
// goes back to the menu's button).

export function initMenus(root) {
  const menus = [...root.querySelectorAll("details[data-menu]")];
  if (!menus.length) return;

  for (const menu of menus) {
    menu.addEventListener("toggle", () => {
      if (!menu.open) return;
      for (const other of menus) {
        if (other !== menu) other.open = false;
      }
    });
  }

  root.addEventListener("click", (event) => {
    const item = event.target.closest?.("[role=menuitem]");
    for (const menu of menus) {
      if (menu.open && (!menu.contains(event.target) || (item && menu.contains(item)))) menu.open = false;
    }
  });

  root.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of menus) {
      if (menu.open) {
        menu.open = false;
        menu.querySelector("summary")?.focus();
      }
    }
  });
}
