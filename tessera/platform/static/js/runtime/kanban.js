// The kanban board: cards dragged between columns (SortableJS) or moved with the keyboard
// (focus a card, ← / → to move it, Enter to open it).  Each move is one update through the
// records service; when it is refused the card goes back where it was and the reason shows.
// A long column shows its first cards and loads the next ones on request ("Load more").
import Sortable from "../../vendor/sortable.esm.js";
import { postMove, request, toast, text } from "./shared.js";

export function initBoard(root) {
  const board = root.querySelector("[data-board]");
  if (!board) return;
  const columns = [...board.querySelectorAll("[data-column]")];

  const counts = () => {
    for (const column of columns) {
      const cards = column.querySelectorAll("[data-card]").length;
      const empty = column.querySelector("[data-column-empty]");
      if (empty) empty.hidden = cards > 0;
    }
  };

  async function move(card, from, to, putBack) {
    if (from === to) return;
    await postMove(card, {
      url: board.dataset.moveUrl,
      field: board.dataset.field,
      to: to.dataset.column,
      putBack,
      onMoved() {
        bump(from, -1);
        bump(to, 1);
        const label = to.querySelector(".rt-column-title")?.textContent.trim() || "";
        toast(board.dataset.textMoved.replace("{column}", label));
      },
    });
    counts();
  }

  function bump(column, delta) {
    const badge = column.querySelector("[data-column-count]");
    if (badge) badge.textContent = String(Math.max(0, Number(badge.textContent) + delta));
  }

  for (const column of columns) {
    const list = column.querySelector("[data-cards]");
    Sortable.create(list, {
      group: "board",
      animation: 150,
      ghostClass: "sortable-ghost",
      chosenClass: "sortable-chosen",
      onEnd(event) {
        const card = event.item;
        const from = event.from.closest("[data-column]");
        const to = event.to.closest("[data-column]");
        const oldIndex = event.oldIndex;
        counts();
        move(card, from, to, () => {
          const siblings = event.from.children;
          event.from.insertBefore(card, siblings[oldIndex] || null);
        });
      },
    });
  }

  // "Load more": the column's next keyset page, fetched and appended in place (the link itself
  // opens the column as a list when scripts are off).
  board.addEventListener("click", async (event) => {
    const more = event.target.closest("[data-load-more]");
    if (!more) return;
    event.preventDefault();
    if (more.getAttribute("aria-busy") === "true") return;
    const column = more.closest("[data-column]");
    const url = new URL(board.dataset.moreUrl, window.location.href);
    url.searchParams.set("column", column.dataset.column);
    url.searchParams.set("after", more.dataset.after);
    more.setAttribute("aria-busy", "true");
    const { ok, data } = await request(url.toString());
    more.removeAttribute("aria-busy");
    if (!ok) {
      toast(data.error || text("textError"), { error: true });
      return;
    }
    const list = column.querySelector("[data-cards]");
    const first = list.children.length;
    // a card moved into this column since may come again in the next page: keep one
    const seen = new Set([...list.querySelectorAll("[data-card]")].map((card) => card.dataset.id));
    const holder = document.createElement("template");
    holder.innerHTML = data.html; // rendered and escaped by the server
    for (const card of holder.content.querySelectorAll("[data-card]")) {
      if (!seen.has(card.dataset.id)) list.append(card);
    }
    const shown = list.querySelectorAll("[data-card]").length;
    const total = Number(column.querySelector("[data-column-count]")?.textContent || shown);
    if (data.next) {
      more.dataset.after = data.next;
      const progress = more.querySelector(".muted");
      if (progress) progress.textContent = board.dataset.textProgress.replace("{shown}", shown).replace("{n}", total);
    } else {
      more.remove();
    }
    list.children[first]?.focus(); // keyboard users carry on from the first new card
    counts();
  });

  board.addEventListener("keydown", (event) => {
    const card = event.target.closest("[data-card]");
    if (!card) return;
    if (event.key === "Enter") {
      card.querySelector("a")?.click();
      return;
    }
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    event.preventDefault();
    const from = card.closest("[data-column]");
    const index = columns.indexOf(from) + (event.key === "ArrowRight" ? 1 : -1);
    const to = columns[index];
    if (!to) return;
    const origin = card.nextElementSibling;
    to.querySelector("[data-cards]").prepend(card);
    card.focus();
    counts();
    move(card, from, to, () => {
      from.querySelector("[data-cards]").insertBefore(card, origin);
      card.focus();
    });
  });
  counts();
}
