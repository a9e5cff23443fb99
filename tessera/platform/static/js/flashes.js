// Flash messages can be dismissed; success messages fade away on their own after a while.

const SUCCESS_TIMEOUT_MS = 6000;

export function initFlashes(root) {
  for (const flash of root.querySelectorAll("[data-flash]")) {
    flash.querySelector("[data-dismiss]")?.addEventListener("click", () => flash.remove());
    if (flash.classList.contains("flash-success")) {
      window.setTimeout(() => flash.remove(), SUCCESS_TIMEOUT_MS);
    }
  }
}
