// The calendar: drag an event to another day to reschedule it (SortableJS, as on the board).
// The move is one update of the date field through the records service (the board's
// /_/move, with the event's version for locking); when the service refuses, the event goes
// back to its day and the reason shows.  Keyboard users reschedule in the event's edit form
// (the pencil link beside each event).
import Sortable from "../../vendor/sortable.esm.js";
import { postMove, toast } from "./shared.js";

export function initCalendar(root) {
  const grid = root.querySelector("[data-calendar]");
  if (!grid) return;

  function move(item, from, to, putBack) {
    if (from === to) return;
    postMove(item, {
      url: grid.dataset.moveUrl,
      field: grid.dataset.field,
      to: to.dataset.day,
      putBack,
      onMoved() {
        dayOf(to).classList.remove("is-empty");
        if (!from.querySelector("[data-event]")) dayOf(from).classList.add("is-empty");
        toast(grid.dataset.textMoved.replace("{day}", to.dataset.dayLabel || to.dataset.day));
      },
      focus: () => item.querySelector("a")?.focus(),
    });
  }

  const dayOf = (list) => list.closest(".rt-cal-day");

  for (const list of grid.querySelectorAll("[data-day]")) {
    Sortable.create(list, {
      group: "calendar",
      animation: 120,
      draggable: "[data-event]",
      ghostClass: "sortable-ghost",
      chosenClass: "sortable-chosen",
      emptyInsertThreshold: 24,
      onEnd(event) {
        const item = event.item;
        const oldIndex = event.oldIndex;
        move(item, event.from, event.to, () => {
          event.from.insertBefore(item, event.from.children[oldIndex] || null);
        });
      },
    });
  }
}
