// Flag the item on screen (unreadable and/or a comment for the coordinator). reading.js says
// which item that is (#reading's data-item, and a "reading:item" event); the flag is stored
// at once and shown beside the button for as long as the item is.
(() => {
  const root = document.getElementById("reading");
  const dialog = document.getElementById("flag");
  const form = document.getElementById("flag-form");
  const status = document.getElementById("flag-status");
  const button = document.getElementById("flag-open");
  const saved = new Map(); // token -> {unreadable, comment}, flags set on this page

  function describe(flag) {
    if (!flag || !flag.flagged) return "";
    const parts = [flag.unreadable ? "unreadable" : "", flag.comment ? `“${flag.comment}”` : ""];
    return `Flagged: ${parts.filter(Boolean).join(" · ")}`;
  }

  function showStatus() {
    const flag = saved.get(root.dataset.item);
    status.textContent = describe(flag);
    button.textContent = flag && flag.flagged ? "Change flag…" : "Flag…";
  }

  button.addEventListener("click", () => {
    const flag = saved.get(root.dataset.item) || { unreadable: false, comment: "" };
    form.elements.unreadable.checked = flag.unreadable;
    form.elements.comment.value = flag.comment;
    document.getElementById("flag-error").textContent = "";
    dialog.showModal();
    form.elements.comment.focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = root.dataset.item;
    const body = { unreadable: form.elements.unreadable.checked, comment: form.elements.comment.value };
    const res = await fetch(`/api/v1/reading/items/${token}/flag`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify(body),
    }).catch(() => null);
    const data = res ? await res.json().catch(() => ({})) : {};
    if (!res || !res.ok) {
      document.getElementById("flag-error").textContent = data.detail || "The flag was not saved; try again.";
      return;
    }
    saved.set(token, data);
    dialog.close();
    showStatus();
  });

  dialog.addEventListener("click", (event) => { if (event.target.closest("[data-close]")) dialog.close(); });
  root.addEventListener("reading:item", showStatus);
})();
