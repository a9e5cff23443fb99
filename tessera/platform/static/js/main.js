// Entry point of every page: wires small behaviours to markup by data attributes.
// Pages work without JavaScript; these modules only make them nicer to use.
import { initMenus } from "./menus.js";
import { initConfirm } from "./confirm.js";
import { initFlashes } from "./flashes.js";
import { initTimezoneGuess } from "./timezone.js";
import { initCopy } from "./copy.js";

// A page that shows something once (a new API token) answered a form post: the history
// entry becomes a plain visit, so reloading it shows the page, not "post the form again?".
function initShownOnce(root) {
  if (root.querySelector("[data-shown-once]")) history.replaceState(history.state, "", location.href);
}

initMenus(document);
initConfirm(document);
initFlashes(document);
initTimezoneGuess(document);
initCopy(document);
initShownOnce(document);
