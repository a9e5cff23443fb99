// A time-zone <select data-guess-timezone> starts at the browser's own zone, when the server
// offers it and the person has not picked one yet (first-run page).

export function initTimezoneGuess(root) {
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  if (!zone) return;
  for (const select of root.querySelectorAll("select[data-guess-timezone]")) {
    if (select.dataset.touched) continue;
    const option = [...select.options].find((o) => o.value === zone);
    if (option) select.value = zone;
    select.addEventListener("change", () => { select.dataset.touched = "1"; }, { once: true });
  }
}
