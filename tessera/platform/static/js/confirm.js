// Forms with data-confirm="question" ask before they submit (revoke, delete, resend).
// The question is written and translated by the server; it is shown as text, never as HTML.

export function initConfirm(root) {
  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
}
