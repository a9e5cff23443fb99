// Buttons with data-copy="#selector" copy that element's text to the clipboard and say so.

export function initCopy(root) {
  for (const button of root.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = root.querySelector(button.dataset.copy);
      if (!source) return;
      const label = button.querySelector("span");
      const original = label?.textContent;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        if (label) label.textContent = button.dataset.copied || "Copied";
      } catch {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
      if (label && original) window.setTimeout(() => { label.textContent = original; }, 2000);
    });
  }
}
