// The import progress page: polls the status URL until the job is done, then shows the result.
const card = document.querySelector("[data-import-status]");

function text(name, values = {}) {
  let out = card.dataset[name] || "";
  for (const [key, value] of Object.entries(values)) out = out.replace(`%(${key})s`, String(value));
  return out;
}

function show(status) {
  const bar = card.querySelector(".transfer-bar");
  bar.setAttribute("aria-valuenow", String(status.percent));
  bar.querySelector("span").style.width = `${status.percent}%`;
  bar.classList.toggle("is-failed", status.status === "failed");
  const state = { queued: "textQueued", running: "textRunning", done: "textDone", failed: "textFailed" }[status.status];
  card.querySelector(".transfer-state").textContent = text(state || "textRunning");
  if (status.total !== null) {
    card.querySelector(".transfer-rows").textContent = text("textRows", { done: status.processed, total: status.total });
  }
  if (status.status === "done" || status.status === "failed") {
    const counts = card.querySelector(".transfer-counts");
    counts.hidden = false;
    for (const cell of counts.querySelectorAll("[data-count]")) cell.textContent = String(status[cell.dataset.count]);
    card.querySelector(".transfer-message").textContent = status.message || "";
    const report = card.querySelector("[data-test=error-report]");
    if (status.report_url) {
      report.href = status.report_url;
      report.hidden = false;
    }
    return true;
  }
  return false;
}

async function poll() {
  try {
    const response = await fetch(card.dataset.importStatus, { headers: { Accept: "application/json" } });
    if (response.ok && show(await response.json())) return;
  } catch {
    // the network blinked: try again shortly
  }
  setTimeout(poll, 700);
}

if (card) poll();
