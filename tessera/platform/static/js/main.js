// Entry point of every page: wires small behaviours to markup by data attributes.
// Pages work without JavaScript; these modules only make them nicer to use.
import { initMenus } from "./menus.js";
import { initConfirm } from "./confirm.js";
import { initFlashes } from "./flashes.js";
import { initTimezoneGuess } from "./timezone.js";
import { initCopy } from "./copy.js";

initMenus(document);
initConfirm(document);
initFlashes(document);
initTimezoneGuess(document);
initCopy(document);
